"""The bench's conversation generator: a real SQLite tracker store that Rasa itself reads back."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import List

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered

from core.settings import PROJECT_ROOT


def generate(db: Path | str, *options: str) -> subprocess.CompletedProcess:
    """Runs the command line as the console's benchmark does, on a SQLite file or any store URL."""
    db_url = db if isinstance(db, str) else f"sqlite:///{db}"
    command = [sys.executable, "-m", "scripts.generate_conversations", "--db-url", db_url]
    return subprocess.run([*command, *options], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)


def event_count(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        return int(connection.execute("SELECT COUNT(*) FROM events").fetchone()[0])


def senders(db: Path) -> List[str]:
    with sqlite3.connect(db) as connection:
        return [sender for (sender,) in connection.execute("SELECT DISTINCT sender_id FROM events")]


def test_generated_conversations_are_read_back_by_rasa_as_whole_sessions(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    result = generate(db, "--conversations", "40", "--seed", "3")
    assert result.returncode == 0, result.stderr
    assert "Wrote 40 conversations" in result.stdout
    store = SQLTrackerStore(domain=None, host=f"sqlite:///{db}")
    ids = senders(db)
    assert 1 < len(ids) <= 40
    assert any(sender.startswith("wa-") for sender in ids)  # WhatsApp patients, as the channels name them
    for sender in ids:
        tracker = asyncio.run(store.retrieve_full_tracker(sender))
        assert tracker is not None
        events = list(tracker.events)
        assert isinstance(events[0], ActionExecuted) and events[0].action_name == "action_session_start"
        assert isinstance(events[1], SessionStarted)
        said = [event for event in events if isinstance(event, UserUttered)]
        assert said and all(event.intent.get("name") for event in said)
        assert any(isinstance(event, BotUttered) and event.text for event in events)


def test_a_store_with_events_is_not_filled_again_without_append(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    assert generate(db, "--conversations", "5").returncode == 0
    before = event_count(db)
    refused = generate(db, "--conversations", "5")
    assert refused.returncode == 1
    assert f"The tracker store has {before} events already; pass --append" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert event_count(db) == before
    appended = generate(db, "--conversations", "5", "--seed", "11", "--append")
    assert appended.returncode == 0, appended.stderr
    assert event_count(db) > before


def test_bad_arguments_stop_with_a_reason_and_no_traceback(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    too_few = generate(db, "--conversations", "0")
    assert too_few.returncode == 2 and "argument --conversations: 0 is less than 1" in too_few.stderr
    unknown = generate("nosuchdb://u:pw@host/x")
    assert unknown.returncode == 1
    assert "Cannot open the tracker store given by --db-url" in unknown.stderr
    assert "pw@" not in unknown.stderr and "Traceback" not in unknown.stderr
    missing_folder = generate(tmp_path / "no" / "such" / "folder.db", "--conversations", "3")
    assert missing_folder.returncode == 1 and "unable to open database file" in missing_folder.stderr
