"""What the live pages show: each waiting patient's latest messages, a conversation's messages as they come.

Read straight from Rasa's ``events`` (not the console's index, which lags by up to two
seconds): staff answering a patient need the message that has just arrived. The texts
are stored redacted by the channels, so nothing here redacts again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from console.schema import events, events_table_exists
from console.timeutil import format_time
from handoff.queue import WAITING
from handoff.schema import requests

PATIENT, BOT, STAFF = "patient", "bot", "staff"
# Rasa creates ``events`` on its first conversation; until then there is nothing to read.
_events_seen: Set[str] = set()


@dataclass(frozen=True)
class LiveMessage:
    """One message of a conversation, as the takeover page shows it."""

    id: int
    kind: str
    text: str
    timestamp: float
    author: str
    buttons: List[str] = field(default_factory=list)

    def as_json(self) -> Dict[str, Any]:
        """The message for the page's script."""
        return {
            "id": self.id,
            "kind": self.kind,
            "text": self.text,
            "time": format_time(self.timestamp, True),
            "author": self.author,
            "buttons": self.buttons,
        }


def _has_events(engine: Engine) -> bool:
    key = str(engine.url)
    if key not in _events_seen and events_table_exists(engine):
        _events_seen.add(key)
    return key in _events_seen


def _message(row: Any) -> Optional[LiveMessage]:
    """Turns a ``user`` or ``bot`` event row into a message; None when it shows nothing."""
    data: Dict[str, Any] = json.loads(row.data or "{}")
    text = str(data.get("text") or "")
    timestamp = float(row.timestamp or data.get("timestamp") or 0.0)
    if row.type_name == "user":
        return LiveMessage(row.id, PATIENT, text, timestamp, "Patient") if text else None
    buttons = [
        str(button.get("title", ""))
        for button in (data.get("data") or {}).get("buttons") or []
        if isinstance(button, dict)
    ]
    if not text and not buttons:
        return None
    metadata = data.get("metadata") or {}
    staff = metadata.get("staff_username") if isinstance(metadata, dict) else None
    # The notices of a take and a hand back name the account too ("handoff" in the metadata),
    # but the assistant says them: only what a person typed is a staff message.
    if staff and not metadata.get("handoff"):
        name = str(metadata.get("staff_name") or staff)
        return LiveMessage(row.id, STAFF, text, timestamp, f"{name} (staff)", buttons)
    return LiveMessage(row.id, BOT, text, timestamp, "Assistant", buttons)


def messages_after(engine: Engine, sender_id: str, after: int = 0) -> List[LiveMessage]:
    """Returns the conversation's patient, assistant and staff messages after event id ``after``."""
    if not _has_events(engine):
        return []
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(events.c.id, events.c.type_name, events.c.timestamp, events.c.data)
            .where(
                events.c.sender_id == sender_id,
                events.c.id > after,
                events.c.type_name.in_(("user", "bot")),
            )
            .order_by(events.c.id)
        ).fetchall()
    return [message for message in map(_message, rows) if message is not None]


def last_patient_messages(engine: Engine, sender_id: str, count: int = 3) -> List[LiveMessage]:
    """Returns the patient's ``count`` latest messages, oldest first."""
    if not _has_events(engine):
        return []
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(events.c.id, events.c.type_name, events.c.timestamp, events.c.data)
            .where(events.c.sender_id == sender_id, events.c.type_name == "user")
            .order_by(events.c.id.desc())
            .limit(count)
        ).fetchall()
    return [message for message in map(_message, reversed(rows)) if message is not None]


def waiting_count(engine: Engine) -> int:
    """Returns how many requests wait for someone to take them."""
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.select(sa.func.count()).select_from(requests).where(requests.c.state == WAITING)
            ).scalar_one()
        )
