"""WhatsApp message ids already handled, in the tracker database that every replica shares.

A provider redelivers a message it thinks was lost (Meta after a slow or failed answer,
Twilio when a request is replayed). Remembering ids in one process's memory answers a
redelivery twice as soon as a second replica, or a restarted one, receives it, so the ids
live in the table ``whatsapp_seen_messages`` of ``TRACKER_DB_URL`` (SQLite or PostgreSQL):

* ``claim`` inserts the keyed hash of the id (never the id: Meta's encodes the number);
  the unique key makes exactly one replica win, whatever the timing.
* ``finish`` marks it handled; ``release`` deletes it when handling failed, so the
  provider's retry is handled again.
* A claim left unfinished for ``STALE_CLAIM_S`` (its replica was killed mid-message) may be
  taken over by a redelivery.
* Rows older than ``KEEP_S`` (Meta retries for up to 7 days) are pruned now and then.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from core.settings import get_settings

logger = logging.getLogger(__name__)

TABLE = "whatsapp_seen_messages"
# Longer than a message can take to handle (the webhook waits at most HANDLE_WAIT_S).
STALE_CLAIM_S = 300.0
KEEP_S = 8 * 24 * 3600.0
PRUNE_EVERY_S = 3600.0

_metadata = sa.MetaData()
seen_messages = sa.Table(
    TABLE,
    _metadata,
    sa.Column("provider", sa.String(16), primary_key=True),
    sa.Column("message_hash", sa.String(64), primary_key=True),
    sa.Column("seen_at", sa.Float, nullable=False, index=True),
    sa.Column("done", sa.Boolean, nullable=False, default=False),
)


def _sqlite_wait(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class SeenMessages:
    """The shared record of WhatsApp message ids claimed or handled, per provider."""

    def __init__(self, provider: str, url: Optional[str] = None) -> None:
        """Uses ``url`` (default ``TRACKER_DB_URL``); connects on first use."""
        self.provider = provider
        self.url = url
        self._engine: Optional[sa.engine.Engine] = None
        self._created = False
        self._pruned_at = 0.0
        self._lock = threading.Lock()

    @property
    def engine(self) -> sa.engine.Engine:
        """The engine, made on first use (pre-pinging, so it survives a database restart)."""
        if self._engine is None:
            url = sa.engine.make_url(self.url or get_settings().core.tracker_db_url)
            options: dict = {"pool_pre_ping": True}
            if url.get_backend_name() == "sqlite":
                options["connect_args"] = {"timeout": 10, "check_same_thread": False}
            self._engine = sa.create_engine(url, **options)
            if url.get_backend_name() == "sqlite":
                sa.event.listen(self._engine, "connect", _sqlite_wait)
        return self._engine

    def _ensure_table(self) -> None:
        if not self._created:
            with self._lock:
                try:
                    _metadata.create_all(self.engine, checkfirst=True)
                except (sa.exc.ProgrammingError, sa.exc.IntegrityError):
                    # Another replica created it at the same moment (PostgreSQL's catalog race).
                    if not sa.inspect(self.engine).has_table(TABLE):
                        raise
                self._created = True

    def claim(self, message_hash: str, now: Optional[float] = None) -> bool:
        """Claims ``message_hash`` for this replica; returns whether it is this one's to handle.

        False when another delivery of it was handled, or is being handled (claimed less
        than ``STALE_CLAIM_S`` ago). Raises ``sqlalchemy.exc.SQLAlchemyError`` when the
        database cannot be reached: the caller must not answer the provider 2xx.
        """
        now = time.time() if now is None else now
        self._ensure_table()
        self._prune(now)
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    seen_messages.insert().values(
                        provider=self.provider, message_hash=message_hash, seen_at=now, done=False
                    )
                )
            return True
        except IntegrityError:
            pass
        # Taken over only if its claimer never finished nor released it (killed mid-message).
        with self.engine.begin() as connection:
            result = connection.execute(
                seen_messages.update()
                .where(seen_messages.c.provider == self.provider)
                .where(seen_messages.c.message_hash == message_hash)
                .where(seen_messages.c.done == sa.false())
                .where(seen_messages.c.seen_at < now - STALE_CLAIM_S)
                .values(seen_at=now)
            )
            return bool(result.rowcount)

    def finish(self, message_hash: str) -> None:
        """Records that ``message_hash`` was handled: every later delivery is a duplicate."""
        with self.engine.begin() as connection:
            connection.execute(
                seen_messages.update()
                .where(seen_messages.c.provider == self.provider)
                .where(seen_messages.c.message_hash == message_hash)
                .values(done=True)
            )

    def release(self, message_hash: str) -> None:
        """Forgets a claim whose handling failed, so the provider's retry is handled; never raises."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    seen_messages.delete()
                    .where(seen_messages.c.provider == self.provider)
                    .where(seen_messages.c.message_hash == message_hash)
                    .where(seen_messages.c.done == sa.false())
                )
        except sa.exc.SQLAlchemyError as error:
            # The claim stays; a retry may take it over after STALE_CLAIM_S.
            logger.error("Could not release a WhatsApp message claim (%s).", type(error).__name__)

    def _prune(self, now: float) -> None:
        if now - self._pruned_at < PRUNE_EVERY_S:
            return
        self._pruned_at = now
        with self.engine.begin() as connection:
            connection.execute(
                seen_messages.delete()
                .where(seen_messages.c.provider == self.provider)
                .where(seen_messages.c.seen_at < now - KEEP_S)
            )

    def close(self) -> None:
        """Closes the database connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
