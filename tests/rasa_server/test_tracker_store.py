"""The windowed SQL tracker store on a real SQLite file: bounded trackers, nothing lost."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import List, Optional, Type

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    AllSlotsReset,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from core.settings import PROJECT_ROOT
from rasa_server.tracker_store import WindowedSQLTrackerStore, install


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def make_store(domain: Domain, path: Path, window: int) -> WindowedSQLTrackerStore:
    store = WindowedSQLTrackerStore(domain=domain, host=f"sqlite:///{path}")
    store.window = window
    return store


def turn(number: int) -> List[Event]:
    """One question answered: 5 events, like a real turn of this assistant."""
    return [
        UserUttered(f"question {number}", intent={"name": "surgery", "confidence": 0.9}),
        ActionExecuted("action_answer_topic"),
        BotUttered(f"answer {number}"),
        SlotSet("topic", f"topic-{number}"),
        ActionExecuted("action_listen"),
    ]


def converse(store: WindowedSQLTrackerStore, sender: str, turns: range) -> DialogueStateTracker:
    """Retrieves, adds the turns one by one, saving after each, like the Rasa server."""
    for number in turns:
        tracker = asyncio.run(store.retrieve(sender))
        if tracker is None:
            tracker = DialogueStateTracker(sender, store.domain.slots)
            for event in [
                ActionExecuted("action_session_start"),
                SessionStarted(),
                ActionExecuted("action_listen"),
            ]:
                tracker.update(event)
        for event in turn(number):
            tracker.update(event)
        asyncio.run(store.save(tracker))
    return tracker


def stored(path: Path, sender: str) -> List[tuple]:
    with sqlite3.connect(path) as connection:
        return connection.execute(
            "SELECT type_name, action_name FROM events WHERE sender_id = ? ORDER BY id", (sender,)
        ).fetchall()


def test_long_conversation_is_stored_whole_and_loaded_as_a_window(domain: Domain, tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    store = make_store(domain, path, window=20)
    converse(store, "long", range(40))
    rows = stored(path, "long")
    assert len(rows) == 3 + 40 * 5
    assert sum(row[0] == "user" for row in rows) == 40
    assert sum(row[0] == "session_started" for row in rows) == 1

    tracker = asyncio.run(store.retrieve("long"))
    assert tracker is not None
    assert len(tracker.events) <= 20 + 2 + len(domain.slots)
    assert tracker.latest_message.text == "question 39"
    assert tracker.get_slot("topic") == "topic-39"
    first_real = next(
        event
        for event in tracker.events
        if isinstance(event, ActionExecuted) and event.action_name == "action_listen"
    )
    assert (
        isinstance(tracker.events[0], ActionExecuted)
        and tracker.events[0].action_name == "action_session_start"
    )
    assert first_real is not None


def test_slots_set_before_the_window_are_carried(domain: Domain, tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    store = make_store(domain, path, window=12)
    tracker = converse(store, "slots", range(1))
    tracker.update(SlotSet("language", "ms"))
    asyncio.run(store.save(tracker))
    converse(store, "slots", range(1, 10))
    loaded = asyncio.run(store.retrieve("slots"))
    assert loaded is not None
    assert loaded.get_slot("language") == "ms"
    assert loaded.get_slot("topic") == "topic-9"


def test_slot_reset_before_the_window_is_respected(domain: Domain, tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    store = make_store(domain, path, window=12)
    tracker = converse(store, "reset", range(1))
    tracker.update(SlotSet("language", "ms"))
    tracker.update(AllSlotsReset())
    asyncio.run(store.save(tracker))
    converse(store, "reset", range(1, 10))
    loaded = asyncio.run(store.retrieve("reset"))
    assert loaded is not None
    assert loaded.get_slot("language") is None


@pytest.mark.parametrize(
    "ending", [None, ConversationResumed, Restarted], ids=["paused", "resumed", "restarted"]
)
def test_a_pause_before_the_window_is_carried_until_resumed(
    domain: Domain, tmp_path: Path, ending: Optional[Type[Event]]
) -> None:
    """A person's long takeover: the pause is older than the window, the conversation stays paused."""
    path = tmp_path / "tracker.db"
    store = make_store(domain, path, window=12)
    tracker = converse(store, "paused", range(1))
    tracker.update(ConversationPaused())
    for number in range(20):
        tracker.update(BotUttered(f"staff message {number}", metadata={"staff_username": "aisyah"}))
    if ending is not None:
        tracker.update(ending())
        for number in range(15):
            tracker.update(BotUttered(f"later {number}"))
    asyncio.run(store.save(tracker))
    loaded = asyncio.run(store.retrieve("paused"))
    assert loaded is not None and len(loaded.events) < 30
    assert loaded.is_paused() is (ending is None)


def test_short_conversation_is_loaded_as_rasa_loads_it(domain: Domain, tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    store = make_store(domain, path, window=200)
    converse(store, "short", range(3))
    loaded = asyncio.run(store.retrieve("short"))
    rasa_loaded = asyncio.run(SQLTrackerStore(domain=domain, host=f"sqlite:///{path}").retrieve("short"))
    assert loaded is not None and rasa_loaded is not None
    assert list(loaded.events) == list(rasa_loaded.events)


def test_unknown_sender_has_no_tracker(domain: Domain, tmp_path: Path) -> None:
    store = make_store(domain, tmp_path / "tracker.db", window=20)
    assert asyncio.run(store.retrieve("nobody")) is None


def test_sqlite_uses_the_write_ahead_log(domain: Domain, tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    converse(make_store(domain, path, window=20), "wal", range(1))
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_cached_event_types_resolve_as_rasa_does() -> None:
    install()
    assert Event.resolve_by_type("user") is UserUttered
    assert Event.resolve_by_type("slot") is SlotSet
    assert Event.resolve_by_type("no_such_event", default=BotUttered) is BotUttered
    with pytest.raises(ValueError):
        Event.resolve_by_type("no_such_event")
