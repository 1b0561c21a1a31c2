"""Where a WhatsApp patient can be written to, kept only while a person may still need it.

The stored conversation id of a WhatsApp patient is a keyed hash of the phone number, so
nothing in the tracker can be written back to. A member of staff replying later needs the
number, so each inbound WhatsApp message keeps it here, encrypted with a key derived from
SENDER_HASH_KEY, with the time of the patient's last message: WhatsApp accepts free text
only within 24 hours of it, and after that the row is deleted (:func:`forget_before`).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Optional

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.engine import Engine

from handoff.schema import reply_addresses

#: WhatsApp's customer-service window: free text only this long after the patient's last message.
WINDOW_SECONDS = 24 * 3600


@dataclass(frozen=True)
class ReplyAddress:
    """A patient's number on one WhatsApp provider, and when they last wrote."""

    channel: str
    number: str
    last_inbound_at: float

    def window_open(self, now: float) -> bool:
        """Whether free text may still be sent (within 24 hours of the patient's last message)."""
        return now - self.last_inbound_at < WINDOW_SECONDS


def _cipher(sender_hash_key: str) -> Fernet:
    digest = hashlib.sha256(b"handoff-reply-address:" + sender_hash_key.encode("utf-8")).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def remember(
    engine: Engine, sender_id: str, channel: str, number: str, sender_hash_key: str, now: float
) -> None:
    """Keeps ``number`` (encrypted) as where ``sender_id`` is written to, and when they last wrote."""
    sealed = _cipher(sender_hash_key).encrypt(number.encode("utf-8")).decode("ascii")
    values = {"channel": channel, "sealed_number": sealed, "last_inbound_at": now}
    with engine.begin() as connection:
        updated = connection.execute(
            sa.update(reply_addresses).where(reply_addresses.c.sender_id == sender_id).values(**values)
        ).rowcount
        if not updated:
            try:
                with connection.begin_nested():
                    connection.execute(sa.insert(reply_addresses).values(sender_id=sender_id, **values))
            except sa.exc.IntegrityError:  # another replica inserted it first: update theirs
                connection.execute(
                    sa.update(reply_addresses)
                    .where(reply_addresses.c.sender_id == sender_id)
                    .values(**values)
                )


def lookup(engine: Engine, sender_id: str, sender_hash_key: str) -> Optional[ReplyAddress]:
    """Returns where ``sender_id`` is written to, or None if not kept (or not readable with this key)."""
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(reply_addresses).where(reply_addresses.c.sender_id == sender_id)
        ).first()
    if row is None:
        return None
    try:
        number = _cipher(sender_hash_key).decrypt(row.sealed_number.encode("ascii")).decode("utf-8")
    except InvalidToken:
        return None
    return ReplyAddress(row.channel, number, row.last_inbound_at)


def forget_before(engine: Engine, cutoff: float) -> int:
    """Deletes the numbers of patients who last wrote before ``cutoff``; returns how many."""
    with engine.begin() as connection:
        return int(
            connection.execute(
                sa.delete(reply_addresses).where(reply_addresses.c.last_inbound_at < cutoff)
            ).rowcount
        )


def forget(engine: Engine, sender_id: str) -> None:
    """Deletes ``sender_id``'s number (its conversation was erased or purged)."""
    with engine.begin() as connection:
        connection.execute(sa.delete(reply_addresses).where(reply_addresses.c.sender_id == sender_id))
