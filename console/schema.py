"""The console's tables, next to Rasa's ``events`` table in the tracker store database.

Rasa owns ``events``: the console reads it, adds one index to it, and deletes from it
only for retention. Everything the console derives or keeps (conversation summaries,
users, lockouts, annotations, audit log) lives in its own ``console_*`` tables, created here.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.database import audit_metadata
from handoff import schema as handoff_schema

# Rasa's table, declared as Rasa's SQLTrackerStore creates it. Kept out of ``metadata``
# so that create_all never creates or alters it.
rasa_metadata = sa.MetaData()
events = sa.Table(
    "events",
    rasa_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)
# Transcripts and retention read one conversation's events by sender and id range.
events_sender_index = sa.Index("console_ix_events_sender_id_id", events.c.sender_id, events.c.id)

metadata = sa.MetaData()

# One row per conversation session (a sender's events from one session start to the next).
conversations = sa.Table(
    "console_conversations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("channel", sa.String(64)),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("last_at", sa.Float, nullable=False),
    # The start's calendar day in the console's time zone, for date filters and charts.
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("first_event_id", sa.Integer, nullable=False),
    sa.Column("last_event_id", sa.Integer, nullable=False),
    sa.Column("last_user_event_id", sa.Integer),
    sa.Column("user_messages", sa.Integer, nullable=False, default=0),
    sa.Column("bot_messages", sa.Integer, nullable=False, default=0),
    sa.Column("language", sa.String(8)),
    # The first question typed (greetings and thanks only when there is nothing else).
    sa.Column("first_message", sa.Text),
    sa.Column("first_message_intent", sa.String(255)),
    sa.Column("fallback", sa.Boolean, nullable=False, default=False),
    sa.Column("low_confidence", sa.Boolean, nullable=False, default=False),
    sa.Column("out_of_scope", sa.Boolean, nullable=False, default=False),
    sa.Column("emergency", sa.Boolean, nullable=False, default=False),
    sa.Column("booking", sa.Boolean, nullable=False, default=False),
    sa.Column("human", sa.Boolean, nullable=False, default=False),
    sa.Index("console_ix_conversations_started", "started_at"),
    sa.Index("console_ix_conversations_last", "last_at"),
    sa.Index("console_ix_conversations_day", "day"),
    sa.Index("console_ix_conversations_sender", "sender_id", "last_event_id"),
)

conversation_topics = sa.Table(
    "console_conversation_topics",
    metadata,
    sa.Column("conversation_id", sa.Integer, primary_key=True),
    sa.Column("topic", sa.String(64), primary_key=True),
    sa.Index("console_ix_topics_topic", "topic", "conversation_id"),
)

# One row per patient message; the primary key is the Rasa event id of the message.
messages = sa.Table(
    "console_messages",
    metadata,
    sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("conversation_id", sa.Integer, nullable=False),
    sa.Column("timestamp", sa.Float, nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    # Lower-cased, space-normalised text: groups repeated questions on the dashboard.
    sa.Column("text_key", sa.String(255), nullable=False),
    sa.Column("intent", sa.String(255)),
    sa.Column("confidence", sa.Float),
    sa.Column("topic", sa.String(64)),
    # A button click (the text is a "/intent" payload) rather than typed text.
    sa.Column("is_payload", sa.Boolean, nullable=False, default=False),
    sa.Column("fallback", sa.Boolean, nullable=False, default=False),
    sa.Column("low_confidence", sa.Boolean, nullable=False, default=False),
    sa.Column("unanswered", sa.Boolean, nullable=False, default=False),
    sa.Index("console_ix_messages_conversation", "conversation_id", "event_id"),
    sa.Index("console_ix_messages_day", "day"),
    sa.Index("console_ix_messages_topic", "topic"),
)

annotations_table = sa.Table(
    "console_annotations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # The annotated message; set to NULL when retention deletes the conversation, so the
    # (redacted) example stays as training data without a link to the patient.
    sa.Column("event_id", sa.Integer, unique=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("intent", sa.String(255), nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

users = sa.Table(
    "console_users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    # No longer read: lockouts are per account and address (console_login_lockouts). Kept
    # so that databases created before need no migration.
    sa.Column("failed_logins", sa.Integer, nullable=False, default=0),
    sa.Column("locked_until", sa.Float),
    # Part of the session cookie: changing it (logout, password change) ends every session.
    sa.Column("session_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_login_at", sa.Float),
)

# Failed sign-ins per account and client address (console/lockout.py): repeated failures
# lock the account at that address only, so an outsider cannot lock staff out.
login_lockouts = sa.Table(
    "console_login_lockouts",
    metadata,
    sa.Column("user_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("address", sa.String(64), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False, default=0),
    sa.Column("last_failure_at", sa.Float, nullable=False),
    sa.Column("locked_until", sa.Float),
)

# Small key-value state, e.g. how far the indexer has read ``events``.
state = sa.Table(
    "console_state",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(255), nullable=False),
)


def events_table_exists(engine: Engine) -> bool:
    """Whether Rasa has created its ``events`` table yet."""
    return sa.inspect(engine).has_table("events")


def ensure_schema(engine: Engine) -> None:
    """Creates the console's tables, and its index on ``events`` once that table exists."""
    metadata.create_all(engine, checkfirst=True)
    audit_metadata.create_all(engine, checkfirst=True)
    handoff_schema.ensure_schema(engine)
    if events_table_exists(engine):
        events_sender_index.create(engine, checkfirst=True)
