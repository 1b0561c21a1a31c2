"""Retention (PDPA): delete conversations idle for longer than RETENTION_DAYS (`make purge`).

A conversation is deleted whole, from Rasa's tracker store and from the console's tables,
once its last message is older than the retention period. Annotations made on its
messages stay as (redacted) training examples, unlinked from the conversation. Audit log
entries older than AUDIT_RETENTION_DAYS are deleted at the same time.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from typing import List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from console import audit
from console.indexer import Indexer
from console.retraining import detach_conversations
from console.schema import (
    conversation_topics,
    conversations,
    ensure_schema,
    events,
    events_table_exists,
    message_vectors,
    messages,
    ratings,
    unanswered_marks,
)
from core.cli_args import at_least
from core.database import make_engine
from core.settings import get_settings
from handoff import queue as handoff_queue

DAY = 86400.0
CHUNK = 200  # conversations per transaction (SQLite caps expression depth)


@dataclass(frozen=True)
class PurgeResult:
    """What a purge deleted (or would delete, in a dry run)."""

    cutoff: float
    conversations: int
    events: int
    audit_entries: int


def purge(
    engine: Engine,
    days: int,
    audit_days: Optional[int] = None,
    low_confidence: float = 0.6,
    now: Optional[float] = None,
    dry_run: bool = False,
) -> PurgeResult:
    """Deletes the conversations whose last event is more than ``days`` days old.

    Args:
        engine: The tracker store database.
        days: The retention period for conversations.
        audit_days: The retention period for the audit log; kept whole when None.
        low_confidence: Passed to the indexer, which first indexes unseen events.
        now: The current time (tests pass another).
        dry_run: Count only.

    """
    ensure_schema(engine)
    if not events_table_exists(engine):
        return PurgeResult(cutoff=0.0, conversations=0, events=0, audit_entries=0)
    indexer = Indexer(engine, low_confidence)
    while not indexer.catch_up(budget=60.0):
        pass
    now = time.time() if now is None else now
    cutoff = now - days * DAY
    deleted_conversations = deleted_events = 0
    while True:
        with engine.begin() as connection:
            rows = connection.execute(
                sa.select(conversations.c.id, conversations.c.sender_id)
                .add_columns(conversations.c.first_event_id, conversations.c.last_event_id)
                .where(conversations.c.last_at < cutoff)
                .order_by(conversations.c.id)
                .offset(deleted_conversations if dry_run else 0)
                .limit(CHUNK)
            ).fetchall()
            if not rows:
                break
            ids: List[int] = [row.id for row in rows]
            ranges = [
                sa.and_(
                    events.c.sender_id == row.sender_id,
                    events.c.id >= row.first_event_id,
                    events.c.id <= row.last_event_id,
                )
                for row in rows
            ]
            if dry_run:
                deleted_events += connection.execute(
                    sa.select(sa.func.count()).select_from(events).where(sa.or_(*ranges))
                ).scalar_one()
            else:
                detach_conversations(connection, ids)
                deleted_events += connection.execute(sa.delete(events).where(sa.or_(*ranges))).rowcount or 0
                connection.execute(sa.delete(messages).where(messages.c.conversation_id.in_(ids)))
                for table in (ratings, message_vectors):
                    connection.execute(sa.delete(table).where(table.c.conversation_id.in_(ids)))
                # A "not in the article" mark stays on staff's list, unlinked like an annotation.
                connection.execute(
                    sa.update(unanswered_marks)
                    .where(unanswered_marks.c.conversation_id.in_(ids))
                    .values(conversation_id=None, event_id=None)
                )
                connection.execute(
                    sa.delete(conversation_topics).where(conversation_topics.c.conversation_id.in_(ids))
                )
                connection.execute(sa.delete(conversations).where(conversations.c.id.in_(ids)))
            deleted_conversations += len(ids)
    if not dry_run:
        # Requests for a person name the conversation: they go with it.
        handoff_queue.purge_before(engine, cutoff)
    audit_deleted = 0
    if audit_days is not None and not dry_run:
        audit_deleted = audit.purge_before(engine, now - audit_days * DAY)
    return PurgeResult(
        cutoff=cutoff,
        conversations=deleted_conversations,
        events=int(deleted_events),
        audit_entries=audit_deleted,
    )


def run(argv: Optional[List[str]] = None) -> int:
    """Command line: purge and say how many conversations were deleted."""
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m console.retention", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--days", type=at_least(1), default=settings.console.retention_days, help="retention period in days"
    )
    parser.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    args = parser.parse_args(argv)
    engine = make_engine(settings.core.tracker_db_url)
    try:
        result = purge(
            engine,
            args.days,
            audit_days=settings.console.audit_retention_days,
            low_confidence=settings.console.low_confidence,
            dry_run=args.dry_run,
        )
        verb = "Would delete" if args.dry_run else "Deleted"
        print(
            f"{verb} {result.conversations} conversations ({result.events} events) "
            f"with no message in the last {args.days} days"
            + (f", and {result.audit_entries} audit log entries." if not args.dry_run else ".")
        )
        if not args.dry_run:
            audit.record(
                engine,
                "cli",
                "purge",
                target=f"{args.days} days",
                detail=f"{result.conversations} conversations, {result.events} events",
            )
        return 0
    finally:
        engine.dispose()


def main() -> None:
    """Entry point."""
    sys.exit(run())


if __name__ == "__main__":
    main()
