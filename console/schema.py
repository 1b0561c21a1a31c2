"""The console's tables, next to Rasa's ``events`` table in the tracker store database.

Rasa owns ``events``: the console reads it, adds one index to it, and deletes from it
only for retention. Everything the console derives or keeps (conversation summaries,
users, lockouts, annotations, audit log) lives in its own ``console_*`` tables, created here.
"""

from __future__ import annotations

from typing import List

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

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
    # The assistant said it could not answer (action_cannot_answer or action_out_of_scope).
    sa.Column("cannot_answer", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
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
    # What the assistant's reply to this message was (console.outcomes): a quote, a
    # clarifying question, "cannot answer", a person, the emergency advice; NULL otherwise.
    sa.Column("outcome", sa.String(16)),
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

# One row per rating of a quoted answer ("Helpful" / "Not helpful" under it); the key is
# the Rasa event id of the rating. A rating is not a question: it is not in console_messages.
ratings = sa.Table(
    "console_ratings",
    metadata,
    sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("conversation_id", sa.Integer, nullable=False),
    sa.Column("timestamp", sa.Float, nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("topic", sa.String(64)),
    sa.Column("helpful", sa.Boolean, nullable=False),
    sa.Column("channel", sa.String(64)),
    sa.Column("language", sa.String(8)),
    # The patient message the rated answer answered (a console_messages event id), if found.
    sa.Column("question_event_id", sa.Integer),
    sa.Index("console_ix_ratings_day", "day"),
    sa.Index("console_ix_ratings_conversation", "conversation_id", "event_id"),
)

# Sentence vectors of the patient messages the "Questions we could not answer" page groups.
message_vectors = sa.Table(
    "console_message_vectors",
    metadata,
    sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("conversation_id", sa.Integer, nullable=False),
    sa.Column("model", sa.String(32), nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),
    sa.Index("console_ix_vectors_conversation", "conversation_id"),
)

# Groups of unanswered questions staff marked "not in the article": what to write next.
# The key is the normalised text of the group's most central message (console.unanswered).
unanswered_marks = sa.Table(
    "console_unanswered_marks",
    metadata,
    sa.Column("group_key", sa.String(255), primary_key=True),
    # That message's (redacted) text and where it was; unlinked when retention deletes it.
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("event_id", sa.Integer),
    sa.Column("conversation_id", sa.Integer),
    sa.Column("messages", sa.Integer, nullable=False),
    sa.Column("marked_by", sa.String(64), nullable=False),
    sa.Column("marked_at", sa.Float, nullable=False),
    sa.Index("console_ix_marks_conversation", "conversation_id"),
)

# Small key-value state, e.g. how far the indexer has read ``events``.
state = sa.Table(
    "console_state",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(255), nullable=False),
)


# The console_state row that an indexer batch, a store of sentence vectors and an erasure
# each lock first (lock_index).
INDEX_LOCK_KEY = "index_lock"


def lock_index(connection: Connection) -> None:
    """Holds the console index's write lock until ``connection``'s transaction ends.

    An indexer batch reads events and then writes rows derived from them; an erasure that
    ran in between would leave those rows behind. Both take this lock first, so an erasure
    waits for the batch and then deletes what it wrote. Updating the lock row to itself
    locks the row on PostgreSQL and takes the database's write lock on SQLite.

    Raises:
        RuntimeError: If the lock row is missing (``ensure_schema`` creates it).

    """
    locked = connection.execute(
        sa.update(state).where(state.c.key == INDEX_LOCK_KEY).values(value=state.c.value)
    )
    if locked.rowcount != 1:
        raise RuntimeError("console_state has no index lock row: run ensure_schema first")


def _create_index_lock(engine: Engine) -> None:
    try:
        with engine.begin() as connection:
            present = connection.execute(sa.select(state.c.key).where(state.c.key == INDEX_LOCK_KEY)).first()
            if present is None:
                connection.execute(sa.insert(state).values(key=INDEX_LOCK_KEY, value="index"))
    except sa.exc.IntegrityError:
        pass  # another process created it at the same moment


def events_table_exists(engine: Engine) -> bool:
    """Whether Rasa has created its ``events`` table yet."""
    return sa.inspect(engine).has_table("events")


# Set when ``outcome`` was added to an existing console_messages: the indexer then gives
# the messages indexed before their outcomes (console.backfill).
BACKFILL_KEY = "backfill_outcomes"


def add_missing_columns(engine: Engine, table: sa.Table) -> List[str]:
    """Adds the columns of ``table`` that an existing database lacks; returns their names.

    Tables created by an older console keep their rows: each new column is added with
    ``ALTER TABLE ... ADD COLUMN`` (its server default fills the existing rows).
    """
    added: List[str] = []
    present = {column["name"] for column in sa.inspect(engine).get_columns(table.name)}
    for column in table.columns:
        if column.name in present:
            continue
        ddl = f"ALTER TABLE {table.name} ADD COLUMN {column.name} {column.type.compile(engine.dialect)}"
        if column.server_default is not None:
            default = column.server_default.arg  # type: ignore[attr-defined]
            ddl += f" DEFAULT {default.compile(dialect=engine.dialect)} NOT NULL"
        try:
            with engine.begin() as connection:
                connection.execute(sa.text(ddl))
        except sa.exc.DBAPIError:
            # Another process added it first.
            if column.name not in {item["name"] for item in sa.inspect(engine).get_columns(table.name)}:
                raise
            continue
        added.append(column.name)
    return added


def ensure_schema(engine: Engine) -> None:
    """Creates the console's tables (adding columns new since), and its index on ``events``."""
    existing = {table for table in (conversations, messages) if sa.inspect(engine).has_table(table.name)}
    metadata.create_all(engine, checkfirst=True)
    for table in existing:
        if "outcome" in add_missing_columns(engine, table):
            with engine.begin() as connection:
                connection.execute(sa.delete(state).where(state.c.key == BACKFILL_KEY))
                connection.execute(sa.insert(state).values(key=BACKFILL_KEY, value="pending"))
    _create_index_lock(engine)
    audit_metadata.create_all(engine, checkfirst=True)
    handoff_schema.ensure_schema(engine)
    if events_table_exists(engine):
        events_sender_index.create(engine, checkfirst=True)
