"""Retention: `python -m console.retention` deletes exactly the conversations idle too long.

On SQLite and on PostgreSQL, with trackers stored by Rasa's own SQLTrackerStore.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from console import retraining
from console.indexer import Indexer
from console.schema import annotations_table, conversations, events, messages
from core.database import make_engine
from core.settings import PROJECT_ROOT, child_environment
from tooling.launcher import BIN_DIR
from tooling.postgres import PostgresService

DAY = 86400.0


def session_events(when: float, text: str) -> List[Event]:
    """One conversation session as Rasa stores it: session start, a question, an answer."""
    return [
        ActionExecuted("action_session_start", timestamp=when),
        SessionStarted(timestamp=when + 0.1),
        ActionExecuted("action_listen", timestamp=when + 0.2),
        UserUttered(text, {"name": "greet", "confidence": 0.9}, timestamp=when + 1, input_channel="rest"),
        ActionExecuted("action_greet", timestamp=when + 1.5),
        BotUttered("Hello!", timestamp=when + 2),
        ActionExecuted("action_listen", timestamp=when + 3),
    ]


def store(url: str, trackers: Dict[str, List[Event]]) -> None:
    """Saves trackers through Rasa's SQLTrackerStore."""
    tracker_store = SQLTrackerStore(domain=Domain.empty(), host=url)
    for sender, tracker_events in trackers.items():
        asyncio.run(tracker_store.save(DialogueStateTracker.from_events(sender, tracker_events)))
    tracker_store.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
        return
    server: PostgresService = request.getfixturevalue("postgres")
    yield server.create_database(f"retention_{uuid.uuid4().hex[:8]}")


def purge(url: str, *extra: str) -> str:
    result = subprocess.run(
        [str(BIN_DIR / "python"), "-m", "console.retention", *extra],
        cwd=PROJECT_ROOT,
        env=child_environment(TRACKER_DB_URL=url, RETENTION_DAYS="180"),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def test_purge_deletes_exactly_the_conversations_idle_longer_than_retention(db_url: str) -> None:
    now = time.time()
    store(
        db_url,
        {
            "old-1": session_events(now - 200 * DAY, "old question one"),
            "old-2": session_events(now - 181 * DAY, "old question two"),
            # A returning patient: the old session goes, today's stays.
            "returning": session_events(now - 300 * DAY, "first visit")
            + session_events(now - 2 * DAY, "second visit"),
            "recent": session_events(now - 179 * DAY, "recent enough"),
            "today": session_events(now - 60, "asked today"),
        },
    )
    engine = make_engine(db_url)
    Indexer(engine, 0.6).catch_up(budget=60)
    with engine.connect() as connection:
        old_message = connection.execute(
            sa.select(messages.c.event_id).where(messages.c.text == "old question one")
        ).scalar_one()
    retraining.save(engine, old_message, "about_clinic", "tester")

    assert "Would delete 3 conversations" in purge(db_url, "--dry-run")
    output = purge(db_url)
    assert "Deleted 3 conversations (21 events)" in output

    with engine.connect() as connection:
        remaining = connection.execute(sa.select(events.c.sender_id, events.c.data)).fetchall()
        texts = " ".join(row.data for row in remaining)
        for gone in ("old question one", "old question two", "first visit"):
            assert gone not in texts
        for stays in ("recent enough", "second visit", "asked today"):
            assert stays in texts
        assert {row.sender_id for row in remaining} == {"returning", "recent", "today"}
        listed = connection.execute(sa.select(conversations.c.sender_id)).scalars().all()
        assert sorted(listed) == ["recent", "returning", "today"]
        annotation = connection.execute(sa.select(annotations_table)).one()
    # The annotation stays as a training example, no longer linked to the patient's message.
    assert annotation.event_id is None and annotation.text == "old question one"
    assert "old question one" in retraining.nlu_yaml(engine)[0]
    assert "Deleted 0 conversations" in purge(db_url)
    engine.dispose()
