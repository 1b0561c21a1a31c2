"""The store reader used by the privacy tests: every value, JSON opened, values kept apart."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.channels.stored_values import stored_values


def test_every_cell_is_read_and_json_cells_are_opened_with_their_escapes_decoded(tmp_path: Path) -> None:
    tracker_db = tmp_path / "tracker.db"
    event = {"event": "user", "timestamp": 1796085634.0000009, "text": "012\u00a0345", "ranking": [0.0, 0.5]}
    with sqlite3.connect(tracker_db) as connection:
        connection.execute("CREATE TABLE events (id INTEGER, sender_id TEXT, data TEXT)")
        connection.execute("CREATE TABLE notes (body TEXT)")
        connection.execute("INSERT INTO events VALUES (7, 'wa-abc', ?)", [json.dumps(event)])
        connection.execute("INSERT INTO notes VALUES ('{not json'), (NULL)")
    values = stored_values(tracker_db)
    assert values == [
        "7", "wa-abc",
        "event", "user", "timestamp", "1796085634.000001", "text", "012\u00a0345", "ranking", "0.0", "0.5",
        "{not json",
    ]  # fmt: skip
