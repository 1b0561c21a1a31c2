"""A conversation turn by turn, read from Rasa's events.

Each turn holds what the patient wrote, how the assistant understood it (intent and
confidence), the topic it answered, its replies and the buttons it offered or the
patient clicked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from console.queries import Conversation
from console.schema import events
from core.vocabulary import ActionName, SlotName


@dataclass
class Button:
    """A quick-reply button the assistant offered."""

    title: str
    payload: str
    # Whether the patient clicked it (in the next turn).
    chosen: bool = False


@dataclass
class BotMessage:
    """One message of the assistant."""

    timestamp: float
    text: str
    buttons: List[Button] = field(default_factory=list)


@dataclass
class Turn:
    """A patient message and everything the assistant did in reply.

    The first turn of a conversation may have no patient message (``event_id`` None)
    when the assistant spoke first.
    """

    timestamp: float
    event_id: Optional[int] = None
    text: Optional[str] = None
    channel: Optional[str] = None
    intent: Optional[str] = None
    confidence: Optional[float] = None
    ranking: List[Dict[str, Any]] = field(default_factory=list)
    clicked: Optional[Button] = None
    topic: Optional[str] = None
    actions: List[str] = field(default_factory=list)
    replies: List[BotMessage] = field(default_factory=list)

    @property
    def is_payload(self) -> bool:
        """Whether the patient clicked a button (or typed a "/intent" payload)."""
        return bool(self.text and self.text.startswith("/"))


# Rasa's own bookkeeping actions say nothing to the patient; the transcript leaves them out.
_QUIET_ACTIONS = {ActionName.LISTEN, ActionName.SESSION_START}


def _buttons(raw: Any) -> List[Button]:
    if not isinstance(raw, list):
        return []
    return [
        Button(title=str(item.get("title", "")), payload=str(item.get("payload", "")))
        for item in raw
        if isinstance(item, dict)
    ]


def build_turns(rows: Iterable[Any]) -> List[Turn]:
    """Groups event rows (ordered by id) into turns."""
    turns: List[Turn] = []
    offered: List[Button] = []
    for row in rows:
        data: Dict[str, Any] = json.loads(row.data or "{}")
        timestamp = float(row.timestamp or data.get("timestamp") or 0.0)
        if row.type_name == "user":
            parse = data.get("parse_data") or {}
            intent = parse.get("intent") or {}
            text = str(data.get("text") or "")
            clicked = next((button for button in offered if button.payload == text), None)
            if clicked is not None:
                clicked.chosen = True
            elif text.startswith("/"):
                clicked = Button(title="", payload=text)
            turns.append(
                Turn(
                    timestamp=timestamp,
                    event_id=row.id,
                    text=text,
                    channel=data.get("input_channel"),
                    intent=intent.get("name"),
                    confidence=intent.get("confidence"),
                    ranking=list(parse.get("intent_ranking") or [])[:3],
                    clicked=clicked,
                )
            )
            continue
        if row.type_name not in ("bot", "action", "slot"):
            continue
        if not turns:
            turns.append(Turn(timestamp=timestamp))
        turn = turns[-1]
        if row.type_name == "bot":
            buttons = _buttons((data.get("data") or {}).get("buttons"))
            turn.replies.append(
                BotMessage(timestamp=timestamp, text=str(data.get("text") or ""), buttons=buttons)
            )
            if buttons:
                offered = buttons
        elif row.type_name == "action" and data.get("name") not in _QUIET_ACTIONS:
            turn.actions.append(str(data.get("name")))
        elif row.type_name == "slot" and data.get("name") == SlotName.TOPIC and turn.event_id is not None:
            turn.topic = data.get("value") or turn.topic
    return [turn for turn in turns if turn.event_id is not None or turn.replies]


def load_events(engine: Engine, conversation: Conversation) -> List[Any]:
    """Returns the conversation's event rows, in order."""
    with engine.connect() as connection:
        return connection.execute(
            sa.select(events)
            .where(
                events.c.sender_id == conversation.sender_id,
                events.c.id >= conversation.first_event_id,
                events.c.id <= conversation.last_event_id,
            )
            .order_by(events.c.id)
        ).fetchall()


def load_turns(engine: Engine, conversation: Conversation) -> List[Turn]:
    """Returns the conversation's turns."""
    return build_turns(load_events(engine, conversation))


# What an export needs: messages, and the topic slot (not Rasa's bookkeeping events).
EXPORT_EVENT_TYPES = ("user", "bot", "slot")


def load_many(engine: Engine, batch: Sequence[Conversation]) -> Dict[int, List[Turn]]:
    """Returns the turns of several conversations (for exports: without actions)."""
    senders = sorted({conversation.sender_id for conversation in batch})
    by_sender: Dict[str, List[Any]] = {sender: [] for sender in senders}
    with engine.connect() as connection:
        for start in range(0, len(senders), 200):
            rows = connection.execute(
                sa.select(events)
                .where(
                    events.c.sender_id.in_(senders[start : start + 200]),
                    events.c.type_name.in_(EXPORT_EVENT_TYPES),
                )
                .order_by(events.c.id)
            )
            for row in rows:
                by_sender[row.sender_id].append(row)
    return {
        conversation.id: build_turns(
            row
            for row in by_sender[conversation.sender_id]
            if conversation.first_event_id <= row.id <= conversation.last_event_id
        )
        for conversation in batch
    }
