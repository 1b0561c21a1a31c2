"""The retraining loop: staff label patient messages, the console exports NLU data.

On any patient message, staff pick the intent it should have had; the console exports
all such annotations as a Rasa NLU YAML file ready to merge into ``data/nlu/``.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Dict, List, Optional, Sequence, Tuple

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Engine

from console.schema import annotations_table, messages
from core.knowledge import get_knowledge
from core.settings import PROJECT_ROOT

DOMAIN_FILE = PROJECT_ROOT / "domain.yml"


class AnnotationError(ValueError):
    """The annotation cannot be saved; the text says why."""


@dataclass(frozen=True)
class Annotation:
    """A patient message labelled with the intent it should have had."""

    id: int
    event_id: Optional[int]
    text: str
    intent: str
    created_by: str
    created_at: float
    conversation_id: Optional[int] = None


@lru_cache(maxsize=1)
def intent_groups() -> Tuple[Tuple[str, Tuple[Tuple[str, str], ...]], ...]:
    """Returns the intents staff can choose, as (group label, ((intent, label), ...))."""
    domain = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))
    names = [name if isinstance(name, str) else next(iter(name)) for name in domain.get("intents", [])]
    knowledge = get_knowledge()
    topics = []
    others = []
    for name in names:
        topic = knowledge.topic(name)
        if topic is not None:
            topics.append((name, f"{topic.title('en')} ({name})"))
        else:
            others.append((name, name.replace("_", " ").capitalize()))
    return (("Article topics", tuple(topics)), ("Conversation", tuple(others)))


def known_intents() -> Dict[str, str]:
    """Returns every choosable intent with its label."""
    return {name: label for _, choices in intent_groups() for name, label in choices}


def save(engine: Engine, event_id: int, intent: str, username: str) -> Annotation:
    """Labels patient message ``event_id`` with ``intent``, replacing an earlier label.

    Raises:
        AnnotationError: If the intent is unknown or the message is not a typed patient message.

    """
    if intent not in known_intents():
        raise AnnotationError("Choose one of the listed intents.")
    with engine.begin() as connection:
        message = connection.execute(
            sa.select(messages.c.text, messages.c.is_payload).where(messages.c.event_id == event_id)
        ).first()
        if message is None or message.is_payload:
            raise AnnotationError("Only typed patient messages can be annotated.")
        values = {"text": message.text, "intent": intent, "created_by": username, "created_at": time.time()}
        updated = connection.execute(
            sa.update(annotations_table).where(annotations_table.c.event_id == event_id).values(**values)
        )
        if not updated.rowcount:
            connection.execute(sa.insert(annotations_table).values(event_id=event_id, **values))
        row = connection.execute(
            sa.select(annotations_table).where(annotations_table.c.event_id == event_id)
        ).one()
    return Annotation(**row._mapping)


def delete(engine: Engine, annotation_id: int) -> bool:
    """Deletes an annotation; returns whether it existed."""
    with engine.begin() as connection:
        return bool(
            connection.execute(
                sa.delete(annotations_table).where(annotations_table.c.id == annotation_id)
            ).rowcount
        )


def for_messages(engine: Engine, event_ids: Sequence[int]) -> Dict[int, Annotation]:
    """Returns the annotations of these messages, by event id."""
    if not event_ids:
        return {}
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(annotations_table).where(annotations_table.c.event_id.in_(list(event_ids)))
        )
        return {row.event_id: Annotation(**row._mapping) for row in rows}


def list_page(engine: Engine, page: int, per_page: int = 50) -> Tuple[List[Annotation], int]:
    """Returns one page of annotations, newest first, with the conversation of each."""
    query = (
        sa.select(annotations_table, messages.c.conversation_id)
        .select_from(
            annotations_table.outerjoin(messages, messages.c.event_id == annotations_table.c.event_id)
        )
        .order_by(annotations_table.c.created_at.desc(), annotations_table.c.id.desc())
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    )
    with engine.connect() as connection:
        total = connection.execute(sa.select(sa.func.count()).select_from(annotations_table)).scalar_one()
        rows = connection.execute(query).fetchall()
    return [Annotation(**row._mapping) for row in rows], int(total)


def count_by_intent(engine: Engine) -> List[Tuple[str, int]]:
    """Returns how many annotations each intent has, most first."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(annotations_table.c.intent, sa.func.count())
            .group_by(annotations_table.c.intent)
            .order_by(sa.func.count().desc(), annotations_table.c.intent)
        )
        return [(intent, int(count)) for intent, count in rows]


ENTITY_MARKUP = re.compile(r"\](?=[(\[{])")


def example_line(text: str) -> str:
    """Returns a patient's message as one NLU example line that Rasa reads as plain text.

    Rasa reads "[text](entity)", "[text]{...}" and "[text][{...}]" as entity annotations;
    a space after the "]" keeps them words.
    """
    return ENTITY_MARKUP.sub("] ", " ".join(text.split()))


def nlu_yaml(engine: Engine) -> Tuple[str, int]:
    """Returns every annotation as a Rasa 3 NLU file, and the number of examples in it."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(annotations_table.c.intent, annotations_table.c.text).order_by(
                annotations_table.c.intent, annotations_table.c.id
            )
        ).fetchall()
    examples: Dict[str, List[str]] = {}
    seen = set()
    for intent, text in rows:
        example = example_line(text)
        if example and (intent, example.lower()) not in seen:
            seen.add((intent, example.lower()))
            examples.setdefault(intent, []).append(example)
    stamp = datetime.now(tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# Exported from the staff console on {stamp}: {len(seen)} annotated patient messages.",
        "# Review, merge into data/nlu/, then retrain (make train).",
        'version: "3.1"',
        "nlu:",
    ]
    for intent in sorted(examples):
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {example}" for example in examples[intent]]
    return "\n".join(lines) + "\n", len(seen)


def detach_conversations(connection: sa.engine.Connection, conversation_ids: Sequence[int]) -> None:
    """Unlinks annotations from messages about to be deleted; the examples stay."""
    event_ids = sa.select(messages.c.event_id).where(messages.c.conversation_id.in_(list(conversation_ids)))
    connection.execute(
        sa.update(annotations_table).where(annotations_table.c.event_id.in_(event_ids)).values(event_id=None)
    )
