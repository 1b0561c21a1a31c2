"""One run of Rasa events applied to the conversations they belong to (see console.indexer)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from console import outcomes
from console.schema import conversation_topics, conversations, messages
from console.timeutil import local_day
from core.vocabulary import (
    FALLBACK_ACTIONS,
    FLAG_OF_INTENT,
    FLAGS,
    SMALL_TALK,
    ActionName,
    IntentName,
    SlotName,
)

PREVIEW_CHARS = 300


def text_key(text: str) -> str:
    """Returns the form under which repeated questions are counted together."""
    return " ".join(text.lower().split()).rstrip(" ?.!")[:255]


@dataclass
class _Conversation:
    """A conversation touched by the current batch, and what changed in it."""

    row: Dict[str, Any]
    topics: Set[str] = field(default_factory=set)
    new_topics: Set[str] = field(default_factory=set)
    last_message: Optional[Dict[str, Any]] = None
    last_message_is_new: bool = False
    last_message_dirty: bool = False
    # The topic slot's value as last set in this batch (a rating naming no topic rates it).
    topic_slot: Optional[str] = None


class Batch:
    """Applies a run of events to the conversations they belong to."""

    def __init__(self, connection: Connection, low_confidence: float) -> None:
        """Reads and writes through ``connection``; flags confidences under ``low_confidence``."""
        self.connection = connection
        self.low_confidence = low_confidence
        self.open: Dict[str, Optional[_Conversation]] = {}
        self.touched: Dict[int, _Conversation] = {}
        self.new_messages: List[Dict[str, Any]] = []
        self.new_ratings: List[Dict[str, Any]] = []

    def _load_open(self, sender_id: str) -> Optional[_Conversation]:
        if sender_id not in self.open:
            row = self.connection.execute(
                sa.select(conversations)
                .where(conversations.c.sender_id == sender_id)
                .order_by(conversations.c.last_event_id.desc())
                .limit(1)
            ).first()
            self.open[sender_id] = _Conversation(row=dict(row._mapping)) if row else None
        return self.open[sender_id]

    def _start(self, sender_id: str, event_id: int, timestamp: float) -> _Conversation:
        values: Dict[str, Any] = {
            "sender_id": sender_id,
            "started_at": timestamp,
            "last_at": timestamp,
            "day": local_day(timestamp),
            "first_event_id": event_id,
            "last_event_id": event_id,
            "user_messages": 0,
            "bot_messages": 0,
            "cannot_answer": False,
            **{flag: False for flag in FLAGS},
        }
        result = self.connection.execute(sa.insert(conversations).values(**values))
        values["id"] = result.inserted_primary_key[0]
        for column in ("last_user_event_id", "channel", "language", "first_message", "first_message_intent"):
            values[column] = None
        conversation = _Conversation(row=values)
        self.open[sender_id] = conversation
        return conversation

    def _last_message(self, conversation: _Conversation) -> Optional[Dict[str, Any]]:
        event_id = conversation.row.get("last_user_event_id")
        if conversation.last_message is None and event_id is not None:
            row = self.connection.execute(sa.select(messages).where(messages.c.event_id == event_id)).first()
            conversation.last_message = dict(row._mapping) if row else None
        return conversation.last_message

    def apply(self, event: Row) -> None:
        """Applies one event (a row of ``events``)."""
        conversation = self._load_open(event.sender_id)
        if conversation is not None and event.id <= conversation.row["last_event_id"]:
            return
        data = json.loads(event.data or "{}")
        timestamp = float(event.timestamp or data.get("timestamp") or 0.0)
        starts_session = event.type_name == "action" and event.action_name == ActionName.SESSION_START
        # A session start without Rasa's action before it (older trackers) still splits.
        restarted = event.type_name == "session_started" and bool(
            conversation and conversation.row["user_messages"]
        )
        if conversation is None or starts_session or restarted:
            conversation = self._start(event.sender_id, event.id, timestamp)
        row = conversation.row
        row["last_event_id"] = event.id
        row["last_at"] = max(row["last_at"], timestamp)
        self.touched[row["id"]] = conversation
        if event.type_name == "user":
            self._user(conversation, event.id, timestamp, data)
        elif event.type_name == "bot":
            row["bot_messages"] += 1
        elif event.type_name == "action" and event.action_name in outcomes.OUTCOME_OF_ACTION:
            self._outcome(conversation, event.action_name)
        elif event.type_name == "slot":
            self._slot(conversation, data)

    def _rating(
        self, conversation: _Conversation, event_id: int, timestamp: float, data: Dict[str, Any]
    ) -> None:
        """Records a rating; what the assistant does next is no reply to the question rated."""
        row = conversation.row
        parse_data = data.get("parse_data") or {}
        intent = (parse_data.get("intent") or {}).get("name")
        self.new_ratings.append(
            {
                "event_id": event_id,
                "conversation_id": row["id"],
                "timestamp": timestamp,
                "day": local_day(timestamp),
                "topic": outcomes.rated_topic(parse_data, str(data.get("text") or ""))
                or conversation.topic_slot,
                "helpful": outcomes.RATING_INTENTS[str(intent)],
                "channel": data.get("input_channel") or row["channel"],
                "language": row["language"],
            }
        )
        # The next actions answer the rating: no message of the conversation gets them.
        row["last_user_event_id"] = event_id
        conversation.last_message, conversation.last_message_is_new = None, False
        conversation.last_message_dirty = False

    def _user(
        self, conversation: _Conversation, event_id: int, timestamp: float, data: Dict[str, Any]
    ) -> None:
        row = conversation.row
        text = str(data.get("text") or "")
        intent_data = (data.get("parse_data") or {}).get("intent") or {}
        intent = intent_data.get("name")
        if intent in outcomes.RATING_INTENTS:
            self._rating(conversation, event_id, timestamp, data)
            return
        confidence = intent_data.get("confidence")
        is_payload = text.startswith("/")
        fallback = intent == IntentName.NLU_FALLBACK
        low = not is_payload and confidence is not None and float(confidence) < self.low_confidence
        message = {
            "event_id": event_id,
            "conversation_id": row["id"],
            "timestamp": timestamp,
            "day": local_day(timestamp),
            "text": text,
            "text_key": text_key(text),
            "intent": intent,
            "confidence": float(confidence) if confidence is not None else None,
            "topic": None,
            "is_payload": is_payload,
            "fallback": fallback,
            "low_confidence": low,
            "unanswered": not is_payload and (fallback or intent == IntentName.OUT_OF_SCOPE),
            "outcome": None,
        }
        self.new_messages.append(message)
        conversation.last_message, conversation.last_message_is_new = message, True
        conversation.last_message_dirty = False
        row["last_user_event_id"] = event_id
        row["user_messages"] += 1
        row["channel"] = row["channel"] or data.get("input_channel")
        preview_is_small_talk = row["first_message_intent"] in SMALL_TALK or not row["first_message"]
        if (
            not is_payload
            and preview_is_small_talk
            and (not row["first_message"] or intent not in SMALL_TALK)
        ):
            row["first_message"] = text[:PREVIEW_CHARS]
            row["first_message_intent"] = intent
        row["fallback"] = row["fallback"] or fallback
        row["low_confidence"] = row["low_confidence"] or low
        flag = FLAG_OF_INTENT.get(intent or "")
        if flag:
            row[flag] = True

    def _outcome(self, conversation: _Conversation, action: str) -> None:
        outcome = outcomes.OUTCOME_OF_ACTION[action]
        row = conversation.row
        if outcome == outcomes.CANNOT_ANSWER:
            row["cannot_answer"] = True
        elif outcome == outcomes.HUMAN:
            row["human"] = True
        if action in FALLBACK_ACTIONS:
            row["fallback"] = True
        message = self._last_message(conversation)
        if message is None:
            return
        message["outcome"] = outcomes.stronger(message["outcome"], outcome)
        if action in FALLBACK_ACTIONS:
            message["fallback"] = True
            if action == ActionName.CANNOT_ANSWER and not message["is_payload"]:
                message["unanswered"] = True
        conversation.last_message_dirty = not conversation.last_message_is_new

    def _slot(self, conversation: _Conversation, data: Dict[str, Any]) -> None:
        name, value = data.get("name"), data.get("value")
        if name == SlotName.LANGUAGE and isinstance(value, str):
            conversation.row["language"] = value[:8]
        if name != SlotName.TOPIC or not isinstance(value, str) or not value:
            return
        conversation.topic_slot = value[:64]
        # A topic slot set before any patient message is carried over from the previous
        # session, not an answer given in this one.
        message = self._last_message(conversation)
        if message is None:
            return
        message["topic"] = value[:64]
        conversation.last_message_dirty = not conversation.last_message_is_new
        if value not in conversation.topics:
            conversation.topics.add(value)
            conversation.new_topics.add(value[:64])

    def flush(self) -> None:
        """Writes the batch's changes."""
        if self.new_messages:
            self.connection.execute(sa.insert(messages), self.new_messages)
        for conversation in self.touched.values():
            row = conversation.row
            self.connection.execute(
                sa.update(conversations)
                .where(conversations.c.id == row["id"])
                .values({key: value for key, value in row.items() if key != "id"})
            )
            if conversation.last_message_dirty and conversation.last_message is not None:
                message = conversation.last_message
                self.connection.execute(
                    sa.update(messages)
                    .where(messages.c.event_id == message["event_id"])
                    .values(
                        topic=message["topic"],
                        fallback=message["fallback"],
                        unanswered=message["unanswered"],
                        outcome=message["outcome"],
                    )
                )
            if conversation.new_topics:
                existing = set(
                    self.connection.execute(
                        sa.select(conversation_topics.c.topic).where(
                            conversation_topics.c.conversation_id == row["id"]
                        )
                    ).scalars()
                )
                fresh = conversation.new_topics - existing
                if fresh:
                    self.connection.execute(
                        sa.insert(conversation_topics),
                        [{"conversation_id": row["id"], "topic": topic} for topic in sorted(fresh)],
                    )
        # After the messages: a rating looks up the answer it rates among them.
        for rating in self.new_ratings:
            outcomes.store_rating(self.connection, rating)
