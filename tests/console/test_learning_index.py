"""The indexer records ratings and the outcome of each reply; older databases get the new columns."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Dict, Iterator, Optional

import pytest
import sqlalchemy as sa

from console.indexer import Indexer
from console.schema import BACKFILL_KEY, conversations, ensure_schema, messages, ratings, state
from core.database import make_engine
from tests.console.learning_support import Script, store
from tooling.postgres import PostgresService


def patient() -> Script:
    return (
        Script()
        .rate(True, None)  # an old answer's button, before any question of this session
        .say("is it from my diabetes", "atrophy_causes", "action_answer_topic", topic="atrophy_causes")
        .rate(False, "atrophy_causes")
        .say("/deny", "deny", "action_cannot_answer")
        .say("blorp", "nlu_fallback", "action_clarify")
        .say("/recovery_time", "recovery_time", "action_answer_topic", topic="recovery_time")
        .rate(True, None)  # no entity: the topic slot names the answer rated
        .rate(True, None)  # clicked twice: still one rating
        .say("do you take insurance", "out_of_scope", "action_out_of_scope")
        .say("can i talk to someone", "contact_human", "action_contact_human")
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
        return
    server: PostgresService = request.getfixturevalue("postgres")
    yield server.create_database(f"learning_{uuid.uuid4().hex[:8]}")


def outcomes_by_text(engine: sa.engine.Engine) -> Dict[str, Optional[str]]:
    with engine.connect() as connection:
        return {row.text: row.outcome for row in connection.execute(sa.select(messages))}


def test_ratings_and_outcomes_are_recorded_and_ratings_are_not_questions(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store(url, {"patient": patient().events})
    engine = make_engine(url)
    assert Indexer(engine, 0.6).catch_up()
    with engine.connect() as connection:
        conversation = connection.execute(sa.select(conversations)).one()
        rows = {row.text: row for row in connection.execute(sa.select(messages))}
        rated = connection.execute(sa.select(ratings).order_by(ratings.c.event_id)).fetchall()

    assert not any(text.startswith("/rate_") for text in rows)
    assert conversation.user_messages == 6
    assert conversation.first_message == "is it from my diabetes"
    assert conversation.cannot_answer and conversation.human
    assert {text: row.outcome for text, row in rows.items()} == {
        "is it from my diabetes": "answered",
        "/deny": "cannot_answer",
        "blorp": "clarified",
        "/recovery_time": "answered",
        "do you take insurance": "cannot_answer",
        "can i talk to someone": "human",
    }
    assert not rows["is it from my diabetes"].unanswered and rows["do you take insurance"].unanswered
    # The first rating rates nothing of this session; the double click counts once.
    assert [(row.topic, row.helpful, row.channel) for row in rated] == [
        (None, True, "socketio"),
        ("atrophy_causes", False, "socketio"),
        ("recovery_time", True, "socketio"),
    ]
    # A not-helpful answer's question is the typed message; a button chosen after a
    # clarifying question answered the question typed before it.
    assert rated[1].question_event_id == rows["is it from my diabetes"].event_id
    assert rated[2].question_event_id == rows["blorp"].event_id
    assert rated[1].language == "en"
    engine.dispose()


def test_an_older_database_gets_the_new_columns_and_the_outcomes_of_its_messages(db_url: str) -> None:
    store(
        db_url,
        {"patient": patient().events, "other": Script("rest").say("hi", "greet", "action_greet").events},
    )
    engine = make_engine(db_url)
    assert Indexer(engine, 0.6).catch_up()
    expected = outcomes_by_text(engine)
    # What a console of before this change left: no outcome, no cannot_answer column.
    with engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE console_messages DROP COLUMN outcome"))
        connection.execute(sa.text("ALTER TABLE console_conversations DROP COLUMN cannot_answer"))
    ensure_schema(engine)
    columns = {column["name"] for column in sa.inspect(engine).get_columns("console_messages")}
    assert "outcome" in columns
    with engine.connect() as connection:
        assert connection.execute(sa.select(state.c.value).where(state.c.key == BACKFILL_KEY)).scalar()
        assert not any(connection.execute(sa.select(conversations.c.cannot_answer)).scalars())

    assert Indexer(engine, 0.6).catch_up()
    assert outcomes_by_text(engine) == expected
    with engine.connect() as connection:
        flags = {row.sender_id: row.cannot_answer for row in connection.execute(sa.select(conversations))}
        assert (
            connection.execute(sa.select(state.c.value).where(state.c.key == BACKFILL_KEY)).scalar() is None
        )
    assert flags == {"patient": True, "other": False}
    ensure_schema(engine)  # nothing left to add: no new backfill
    with engine.connect() as connection:
        assert (
            connection.execute(sa.select(state.c.value).where(state.c.key == BACKFILL_KEY)).scalar() is None
        )
    engine.dispose()
