"""Every value the tracker store holds, read the way a person reading the database would."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, Iterator, List


def _leaves(value: Any) -> Iterator[str]:
    """The keys and scalar values inside a decoded JSON value, each as text."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif value is not None:
        yield str(value)


def _cell_values(cell: Any) -> Iterator[str]:
    """One cell's values: a JSON document opened into its leaves (escapes decoded), else the cell itself."""
    if isinstance(cell, str) and cell.startswith(("{", "[")):
        try:
            yield from _leaves(json.loads(cell))
            return
        except json.JSONDecodeError:
            pass
    if cell is not None:
        yield str(cell)


def stored_values(tracker_db: Path) -> List[str]:
    """Every value of every row of every table of the SQLite tracker store, one text per value.

    Values stay apart so that a search never reads across two of them: the digits of neighbouring
    timestamps and confidences, glued together, could spell a number that nobody stored.
    """
    with sqlite3.connect(tracker_db) as connection:
        tables = [
            name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        rows = [row for table in tables for row in connection.execute(f'SELECT * FROM "{table}"')]
    return [value for row in rows for cell in row for value in _cell_values(cell)]
