"""What the assistant did with each patient message, and the patients' ratings of its answers.

The indexer records per patient message the *outcome* of the assistant's reply to it
(read from the actions Rasa ran after the message), and each "Helpful" / "Not helpful"
click as a rating of the answer it sits under. The dashboard, the weekly summary and the
"Questions we could not answer" page count them.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from console.schema import messages, ratings
from core.vocabulary import ActionName, EntityName, IntentName

ANSWERED = "answered"
CLARIFIED = "clarified"
CANNOT_ANSWER = "cannot_answer"
HUMAN = "human"
EMERGENCY = "emergency"

OUTCOME_OF_ACTION: Dict[str, str] = {
    ActionName.ANSWER_TOPIC: ANSWERED,
    ActionName.TELL_ME_MORE: ANSWERED,
    ActionName.CLARIFY: CLARIFIED,
    ActionName.CANNOT_ANSWER: CANNOT_ANSWER,
    ActionName.OUT_OF_SCOPE: CANNOT_ANSWER,
    ActionName.CONTACT_HUMAN: HUMAN,
    ActionName.EMERGENCY: EMERGENCY,
}
# When several of these follow one message, the later in this order is kept.
_RANK = (ANSWERED, CLARIFIED, CANNOT_ANSWER, HUMAN, EMERGENCY)
# The outcomes the answered rate counts: a quote, a clarifying question, "cannot answer".
QUESTION_OUTCOMES: Tuple[str, ...] = (ANSWERED, CLARIFIED, CANNOT_ANSWER)
RATING_INTENTS = {IntentName.RATE_HELPFUL: True, IntentName.RATE_NOT_HELPFUL: False}


def stronger(current: Optional[str], new: str) -> str:
    """Returns the outcome to keep when ``new`` follows ``current`` for one message."""
    if current is not None and current in _RANK and _RANK.index(current) > _RANK.index(new):
        return current
    return new


def rated_topic(parse_data: Dict[str, Any], text: str) -> Optional[str]:
    """The topic a rating names: its ``rated_topic`` entity, else the JSON in its payload."""
    for entity in parse_data.get("entities") or []:
        if (
            isinstance(entity, dict)
            and entity.get("entity") == EntityName.RATED_TOPIC
            and entity.get("value")
        ):
            return str(entity["value"])[:64]
    _, brace, rest = text.partition("{")
    if brace:
        try:
            value = json.loads(brace + rest).get(EntityName.RATED_TOPIC)
        except (ValueError, AttributeError):
            return None
        return str(value)[:64] if value else None
    return None


def _latest_topic(connection: Connection, conversation_id: int, before: int) -> Optional[str]:
    return connection.execute(
        sa.select(messages.c.topic)
        .where(
            messages.c.conversation_id == conversation_id,
            messages.c.event_id < before,
            messages.c.topic.isnot(None),
        )
        .order_by(messages.c.event_id.desc())
        .limit(1)
    ).scalar()


def _question(connection: Connection, rating: Dict[str, Any]) -> Optional[int]:
    """The patient message the rated answer answered.

    The latest message answered with the rated topic; when that was a button, the typed
    question just before it if the button answered a clarifying question or a "Not
    helpful" (the alternatives offered), since that typed question is what was asked.
    """
    m = messages.c
    answered = connection.execute(
        sa.select(m.event_id, m.is_payload)
        .where(m.conversation_id == rating["conversation_id"], m.event_id < rating["event_id"])
        .where(m.topic == rating["topic"])
        .order_by(m.event_id.desc())
        .limit(1)
    ).first()
    if answered is None or not answered.is_payload:
        return answered.event_id if answered else None
    before = connection.execute(
        sa.select(m.event_id, m.is_payload, m.outcome)
        .where(m.conversation_id == rating["conversation_id"], m.event_id < answered.event_id)
        .order_by(m.event_id.desc())
        .limit(1)
    ).first()
    if before is None or before.is_payload:
        return int(answered.event_id)
    not_helpful_between = connection.execute(
        sa.select(sa.func.count())
        .select_from(ratings)
        .where(
            ratings.c.conversation_id == rating["conversation_id"],
            ratings.c.event_id > before.event_id,
            ratings.c.event_id < answered.event_id,
            ratings.c.helpful.is_(False),
        )
    ).scalar()
    return int(before.event_id if before.outcome == CLARIFIED or not_helpful_between else answered.event_id)


def store_rating(connection: Connection, rating: Dict[str, Any]) -> None:
    """Stores a rating: its topic (the conversation's last answered when unnamed) and question.

    A second click on the same answer replaces the first: one rating per answer.
    """
    if not rating["topic"]:
        rating["topic"] = _latest_topic(connection, rating["conversation_id"], rating["event_id"])
    rating["question_event_id"] = _question(connection, rating) if rating["topic"] else None
    same_answer = [
        ratings.c.conversation_id == rating["conversation_id"],
        ratings.c.topic == rating["topic"],
        ratings.c.question_event_id == rating["question_event_id"]
        if rating["question_event_id"] is not None
        else ratings.c.question_event_id.is_(None),
    ]
    connection.execute(sa.delete(ratings).where(*same_answer))
    connection.execute(sa.delete(ratings).where(ratings.c.event_id == rating["event_id"]))
    connection.execute(sa.insert(ratings).values(**rating))
