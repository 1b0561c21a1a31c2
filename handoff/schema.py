"""The handoff tables, next to Rasa's ``events`` in the tracker store database."""

from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.database import audit_metadata, make_engine

metadata = sa.MetaData()

# One row per request for a person, from the patient's asking to the hand back or time-out.
requests = sa.Table(
    "handoff_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("topic", sa.String(64)),
    sa.Column("requested_at", sa.Float, nullable=False),
    # The request's calendar day in the clinic's time zone, for the dashboard.
    sa.Column("day", sa.Date, nullable=False),
    # waiting → taken → returned; waiting → timed_out (nobody took it) or expired (WhatsApp's
    # window closed on a request left for staff to answer when they come in).
    sa.Column("state", sa.String(16), nullable=False),
    # Whether the assistant stopped answering when the request was made (someone was there).
    sa.Column("paused", sa.Boolean, nullable=False),
    sa.Column("staff_username", sa.String(64)),
    sa.Column("staff_name", sa.String(128)),
    sa.Column("taken_at", sa.Float),
    sa.Column("first_reply_at", sa.Float),
    sa.Column("ended_at", sa.Float),
    # The last red-flag message during the request (the patient got the 999 reply).
    sa.Column("alert_at", sa.Float),
    sa.Index("handoff_ix_requests_state", "state", "requested_at"),
    sa.Index("handoff_ix_requests_sender", "sender_id", "state"),
    sa.Index("handoff_ix_requests_day", "day"),
)

# Staff who marked themselves available, and when their console last asked for the queue.
presence = sa.Table(
    "handoff_presence",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("available", sa.Boolean, nullable=False),
    sa.Column("seen_at", sa.Float, nullable=False),
)

# handoff/addresses.py: a WhatsApp patient's number, encrypted, for at most 24 hours.
reply_addresses = sa.Table(
    "handoff_reply_addresses",
    metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("sealed_number", sa.Text, nullable=False),
    sa.Column("last_inbound_at", sa.Float, nullable=False),
)


def ensure_schema(engine: Engine) -> None:
    """Creates the handoff tables if they are missing."""
    metadata.create_all(engine, checkfirst=True)


@lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
    """Returns one engine per database for this process, its handoff tables and audit log created.

    The assistant's processes audit through it too (time-outs, erasures), so the audit log
    is created here once rather than on every entry.
    """
    engine = make_engine(url)
    ensure_schema(engine)
    audit_metadata.create_all(engine, checkfirst=True)
    return engine
