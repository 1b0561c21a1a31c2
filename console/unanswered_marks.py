"""What staff do with a group of unanswered questions: label it, or mark it "not in the article".

Labelling annotates every message of the group with one intent through the annotation
code (console.retraining), so the NLU export picks them up. A "not in the article" mark
puts the group on the list of what to write next (``console_unanswered_marks``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from console import retraining
from console.schema import unanswered_marks
from console.unanswered import Group
from core.vocabulary import IntentName

k = unanswered_marks.c


@dataclass(frozen=True)
class Mark:
    """A group staff marked "not in the article"."""

    group_key: str
    text: str
    messages: int
    marked_by: str
    marked_at: float
    event_id: Optional[int] = None
    conversation_id: Optional[int] = None


def all_marks(engine: Engine) -> List[Mark]:
    """Every mark, the newest first."""
    with engine.connect() as connection:
        rows = connection.execute(sa.select(unanswered_marks).order_by(k.marked_at.desc(), k.group_key))
        return [Mark(**row._mapping) for row in rows]


def mark_of(group: Group, marks: Sequence[Mark]) -> Optional[Mark]:
    """The mark on ``group``: one whose key is the normalised text of any of its messages."""
    keys = group.text_keys
    return next((mark for mark in marks if mark.group_key in keys), None)


def mark(engine: Engine, group: Group, username: str) -> Mark:
    """Marks ``group`` "not in the article" (again: the count and who are updated)."""
    values: Dict[str, Any] = {
        "text": group.central.text,
        "event_id": group.central.event_id,
        "conversation_id": group.central.conversation_id,
        "messages": group.size,
        "marked_by": username[:64],
        "marked_at": time.time(),
    }
    with engine.begin() as connection:
        connection.execute(sa.delete(unanswered_marks).where(k.group_key.in_(list(group.text_keys))))
        connection.execute(sa.insert(unanswered_marks).values(group_key=group.key, **values))
    return Mark(group_key=group.key, **values)


def unmark(engine: Engine, group_key: str) -> bool:
    """Removes a mark; returns whether there was one."""
    with engine.begin() as connection:
        return bool(connection.execute(sa.delete(unanswered_marks).where(k.group_key == group_key)).rowcount)


# A question is never an example of clicking a rating or of asking to erase.
NOT_FOR_QUESTIONS = frozenset(
    {
        IntentName.RATE_HELPFUL,
        IntentName.RATE_NOT_HELPFUL,
        IntentName.ERASE_CONVERSATION,
        IntentName.ERASE_CONFIRMED,
    }
)


def label_choices() -> List[Tuple[str, List[Tuple[str, str]]]]:
    """The intents a group can be labelled with, as (group label, [(intent, label)]): topics first."""
    return [
        (heading, [(name, text) for name, text in choices if name not in NOT_FOR_QUESTIONS])
        for heading, choices in retraining.intent_groups()
    ]


def label(engine: Engine, group: Group, intent: str, username: str) -> int:
    """Annotates every message of ``group`` with ``intent``; returns how many.

    Raises:
        retraining.AnnotationError: If the intent is not one staff can choose.

    """
    if intent not in {name for _, choices in label_choices() for name, _ in choices}:
        raise retraining.AnnotationError("Choose one of the listed intents.")
    saved = 0
    for miss in group.misses:
        try:
            retraining.save(engine, miss.event_id, intent, username)
        except retraining.AnnotationError:
            continue  # deleted by retention meanwhile
        saved += 1
    return saved


@dataclass(frozen=True)
class Labelled:
    """How many messages of a group are annotated, and with which intents (most first)."""

    count: int
    intents: List[str]


def labelled(engine: Engine, groups: Sequence[Group]) -> Dict[str, Labelled]:
    """The annotations of each group's messages, by group key."""
    found = retraining.for_messages(engine, [miss.event_id for group in groups for miss in group.misses])
    result: Dict[str, Labelled] = {}
    for group in groups:
        intents: Dict[str, int] = {}
        for miss in group.misses:
            if miss.event_id in found:
                intent = found[miss.event_id].intent
                intents[intent] = intents.get(intent, 0) + 1
        ordered = sorted(intents, key=lambda name: -intents[name])
        result[group.key] = Labelled(sum(intents.values()), ordered)
    return result
