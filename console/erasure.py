"""The patient's right to erase (PDPA): one conversation out of every table, on SQLite and PostgreSQL.

Called by the Rasa server, under the conversation's lock, once the patient has confirmed
(:mod:`rasa_server.erasure`). Unlike retention, which keeps annotated examples as
training data, an erasure deletes them too: the patient asked for everything they wrote
to go. The audit log records that an erasure happened, never whose or what.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from console.schema import (
    annotations_table,
    conversation_topics,
    conversations,
    ensure_schema,
    events,
    lock_index,
    message_vectors,
    messages,
    ratings,
    unanswered_marks,
)
from handoff.schema import reply_addresses
from handoff.schema import requests as handoff_requests

#: Tables keyed by the console's conversation id (rows derived from the conversation's events).
# A "not in the article" mark quotes one patient's (redacted) words: it goes with them.
_BY_CONVERSATION = (messages, conversation_topics, ratings, message_vectors, unanswered_marks)


def erase_sender(engine: Engine, sender_id: str) -> int:
    """Deletes every row of ``sender_id``'s conversations; returns how many events went.

    One transaction under the index lock (:func:`console.schema.lock_index`): the events,
    the console's index of them (conversations, messages, topics, ratings, sentence
    vectors, "not in the article" marks quoting them), annotations made on them, requests
    for a person, and a WhatsApp reply address.
    """
    ensure_schema(engine)
    with engine.begin() as connection:
        # After any indexer batch that read these events has written its rows, and before the next.
        lock_index(connection)
        conversation_ids = [
            row.id
            for row in connection.execute(
                sa.select(conversations.c.id).where(conversations.c.sender_id == sender_id)
            )
        ]
        if conversation_ids:
            event_ids = sa.select(messages.c.event_id).where(messages.c.conversation_id.in_(conversation_ids))
            connection.execute(
                sa.delete(annotations_table).where(annotations_table.c.event_id.in_(event_ids))
            )
            for table in _BY_CONVERSATION:
                connection.execute(sa.delete(table).where(table.c.conversation_id.in_(conversation_ids)))
            connection.execute(sa.delete(conversations).where(conversations.c.id.in_(conversation_ids)))
        connection.execute(sa.delete(handoff_requests).where(handoff_requests.c.sender_id == sender_id))
        connection.execute(sa.delete(reply_addresses).where(reply_addresses.c.sender_id == sender_id))
        return int(connection.execute(sa.delete(events).where(events.c.sender_id == sender_id)).rowcount or 0)
