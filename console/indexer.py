"""Keeps the console's conversation tables in step with Rasa's ``events`` table.

Rasa appends events; the indexer reads the ones it has not seen (by id), splits each
sender's events into conversations (one per Rasa session), and records per conversation
and per patient message what the console filters and charts on: channel, topics
answered, intents and confidences, the flags, what the assistant's reply to each message
was, and the patients' ratings of its answers (console.index_batch, console.outcomes).
Pages then query small indexed tables
instead of parsing JSON, which keeps them fast with tens of thousands of conversations.

Re-reading an event is harmless (each sender's conversation remembers its last event id),
which lets the reader step back over a gap in the ids that may still fill: PostgreSQL can
make a lower id visible after a higher one when two conversations are saved at once.
"""

from __future__ import annotations

import threading
import time
from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine, Row

from console import backfill
from console.index_batch import Batch, text_key
from console.schema import ensure_schema, events, events_table_exists, lock_index, state

__all__ = ["Indexer", "text_key"]

BATCH_SIZE = 2000
GAP_GRACE_SECONDS = 60.0
CURSOR_KEY = "events_cursor"


class _Conflict(Exception):
    """Another process advanced the cursor first; this batch is dropped."""


def _safe_cursor(cursor: int, rows: Sequence[Row], now: float) -> int:
    """Returns how far the next pass may skip: up to the first gap in the ids that may still fill."""
    previous = cursor
    for row in rows:
        young = (row.timestamp or now) > now - GAP_GRACE_SECONDS
        if row.id != previous + 1 and young:
            return previous
        previous = row.id
    return previous


class Indexer:
    """Brings the console's tables up to date; safe to call from many threads."""

    def __init__(self, engine: Engine, low_confidence: float) -> None:
        """Keeps the engine and the confidence under which a message is flagged."""
        self.engine = engine
        self.low_confidence = low_confidence
        self._lock = threading.Lock()
        self._events_ready = False

    def _ready(self) -> bool:
        if not self._events_ready and events_table_exists(self.engine):
            ensure_schema(self.engine)
            backfill.run_if_pending(self.engine)
            self._events_ready = True
        return self._events_ready

    def cursor(self) -> int:
        """Returns the id of the last event indexed."""
        with self.engine.connect() as connection:
            value = connection.execute(sa.select(state.c.value).where(state.c.key == CURSOR_KEY)).scalar()
        return int(value or 0)

    def pending(self) -> int:
        """Returns how many events are not indexed yet."""
        if not self._ready():
            return 0
        cursor = self.cursor()
        with self.engine.connect() as connection:
            return int(
                connection.execute(
                    sa.select(sa.func.count()).select_from(events).where(events.c.id > cursor)
                ).scalar()
                or 0
            )

    def catch_up(self, budget: float = 5.0) -> bool:
        """Indexes new events for at most about ``budget`` seconds.

        Returns:
            True when every event is indexed, False when some remain (or another thread
            is indexing and did not finish within the budget).

        """
        if not self._lock.acquire(timeout=budget):
            return False
        try:
            if not self._ready():
                return True
            deadline = time.monotonic() + budget
            while True:
                try:
                    read, advanced = self._run_batch()
                except _Conflict:
                    return False
                if read < BATCH_SIZE or not advanced:
                    return True
                if time.monotonic() > deadline:
                    return False
        finally:
            self._lock.release()

    def _run_batch(self) -> tuple[int, bool]:
        """Indexes one batch; returns how many events it read and whether the cursor moved."""
        with self.engine.begin() as connection:
            lock_index(connection)  # an erasure waits for this batch (console.erasure)
            raw = connection.execute(sa.select(state.c.value).where(state.c.key == CURSOR_KEY)).scalar()
            cursor = int(raw or 0)
            rows = connection.execute(
                sa.select(events).where(events.c.id > cursor).order_by(events.c.id).limit(BATCH_SIZE)
            ).fetchall()
            if not rows:
                return 0, False
            batch = Batch(connection, self.low_confidence)
            for row in rows:
                batch.apply(row)
            batch.flush()
            new_cursor = _safe_cursor(cursor, rows, time.time())
            if raw is None:
                connection.execute(sa.insert(state).values(key=CURSOR_KEY, value=str(new_cursor)))
            else:
                updated = connection.execute(
                    sa.update(state)
                    .where(state.c.key == CURSOR_KEY, state.c.value == raw)
                    .values(value=str(new_cursor))
                )
                if updated.rowcount != 1:
                    raise _Conflict()
        return len(rows), new_cursor != cursor
