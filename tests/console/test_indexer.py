"""The indexer: sessions split into conversations, flags and topics from Rasa's events."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from console.indexer import Indexer, _safe_cursor
from console.schema import conversation_topics, conversations, messages
from core.database import make_engine


def user(text: str, intent: str, confidence: float, when: float) -> UserUttered:
    return UserUttered(
        text, {"name": intent, "confidence": confidence}, timestamp=when, input_channel="socketio"
    )


def test_sessions_flags_topics_and_buttons(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    start = 1_700_000_000.0
    events = [
        ActionExecuted("action_session_start", timestamp=start),
        SessionStarted(timestamp=start + 1),
        ActionExecuted("action_listen", timestamp=start + 2),
        user("hi", "greet", 0.99, start + 3),
        ActionExecuted("action_greet", timestamp=start + 4),
        BotUttered(
            "Hello", {"buttons": [{"title": "Symptoms", "payload": "/atrophy_symptoms"}]}, timestamp=start + 5
        ),
        user("what are the signs", "atrophy_symptoms", 0.55, start + 6),
        ActionExecuted("action_answer_topic", timestamp=start + 7),
        SlotSet("topic", "atrophy_symptoms", timestamp=start + 8),
        user("blorp", "nlu_fallback", 0.3, start + 9),
        ActionExecuted("action_clarify", timestamp=start + 10),
        user("/deny", "deny", 1.0, start + 11),
        ActionExecuted("action_cannot_answer", timestamp=start + 12),
        # The next session: the carried-over topic is not an answer of that session.
        ActionExecuted("action_session_start", timestamp=start + 9000),
        SessionStarted(timestamp=start + 9001),
        SlotSet("topic", "atrophy_symptoms", timestamp=start + 9002),
        user("call an ambulance", "emergency", 0.97, start + 9003),
        ActionExecuted("action_emergency", timestamp=start + 9004),
    ]
    store = SQLTrackerStore(domain=Domain.empty(), host=url)
    asyncio.run(store.save(DialogueStateTracker.from_events("patient", events)))
    engine = make_engine(url)
    assert Indexer(engine, 0.6).catch_up()
    with engine.connect() as connection:
        first, second = connection.execute(sa.select(conversations).order_by(conversations.c.id)).fetchall()
        topics = connection.execute(
            sa.select(conversation_topics.c.conversation_id, conversation_topics.c.topic)
        ).fetchall()
        rows = {row.text: row for row in connection.execute(sa.select(messages))}
    assert (first.channel, first.user_messages, first.first_message) == ("socketio", 4, "what are the signs")
    assert first.fallback and first.low_confidence and not first.emergency
    assert second.emergency and not second.fallback and second.user_messages == 1
    assert {tuple(row) for row in topics} == {(first.id, "atrophy_symptoms")}
    assert (
        rows["what are the signs"].topic == "atrophy_symptoms" and rows["what are the signs"].low_confidence
    )
    assert rows["blorp"].fallback and rows["blorp"].unanswered
    assert rows["/deny"].is_payload and not rows["/deny"].unanswered
    assert Indexer(engine, 0.6).catch_up()  # nothing new: nothing changes
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(messages)).scalar() == 5
    engine.dispose()


def test_a_young_gap_in_event_ids_is_read_again_an_old_one_is_skipped() -> None:
    now = 1_000_000.0

    def rows(*pairs: tuple) -> list:
        return [SimpleNamespace(id=event_id, timestamp=when) for event_id, when in pairs]

    assert _safe_cursor(10, rows((11, now), (12, now)), now) == 12
    assert _safe_cursor(10, rows((11, now), (13, now)), now) == 11  # 12 may still commit
    assert _safe_cursor(10, rows((11, now - 600), (13, now - 600)), now) == 13  # 12 rolled back
    assert _safe_cursor(10, rows((12, now)), now) == 10
