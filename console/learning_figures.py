"""What the assistant did with patients' questions, and how patients rated its answers.

For a date range, optionally one channel and one language (a :class:`Scope`): how many
typed questions got a quote, a clarifying question or "cannot answer"; how many
conversations ended without a "cannot answer" or a request for a person; and per topic
the answers given and how many of the rated ones were rated helpful. The dashboard and
the weekly summary both show these figures from :func:`build`: one source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Dict, Iterable, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from console import outcomes
from console.schema import conversations, messages, ratings
from core.knowledge import get_knowledge

c, m, r = conversations.c, messages.c, ratings.c
ALL = "all"


@dataclass(frozen=True)
class Scope:
    """One channel and/or one language, or everything (empty strings)."""

    channel: str = ""
    language: str = ""

    def matches(self, channel: Optional[str], language: Optional[str]) -> bool:
        """Whether a row of ``channel`` and ``language`` lies in the scope."""
        return (not self.channel or self.channel == (channel or "")) and (
            not self.language or self.language == (language or "")
        )

    def conversation_conditions(self) -> List[ColumnElement]:
        """SQL conditions on ``console_conversations`` (bound values)."""
        conditions: List[ColumnElement] = []
        if self.channel:
            conditions.append(c.channel == self.channel)
        if self.language:
            conditions.append(c.language == self.language)
        return conditions

    def message_conditions(self) -> List[ColumnElement]:
        """SQL conditions on ``console_messages``: their conversation lies in the scope."""
        if not (self.channel or self.language):
            return []
        return [m.conversation_id.in_(sa.select(c.id).where(*self.conversation_conditions()))]

    def as_args(self) -> Dict[str, str]:
        """The scope as query arguments (for links)."""
        pairs = (("channel", self.channel), ("language", self.language))
        return {key: value for key, value in pairs if value}


EVERYTHING = Scope()


@dataclass
class Outcomes:
    """The figures of one channel, one language, or all of the scope."""

    key: str
    questions: int = 0
    answered: int = 0
    clarified: int = 0
    cannot_answer: int = 0
    conversations: int = 0
    ended_well: int = 0
    person_requested: int = 0
    rated: int = 0
    helpful: int = 0


@dataclass
class TopicFigures:
    """One topic's answers in the range and its ratings."""

    topic: str
    title: str
    answers: int = 0
    rated: int = 0
    helpful: int = 0

    @property
    def not_helpful(self) -> int:
        """Ratings of "Not helpful"."""
        return self.rated - self.helpful


@dataclass
class LearningFigures:
    """Everything the dashboard's "Learning from conversations" section and the summary show."""

    first: date
    last: date
    scope: Scope
    total: Outcomes = field(default_factory=lambda: Outcomes(ALL))
    channels: List[Outcomes] = field(default_factory=list)
    languages: List[Outcomes] = field(default_factory=list)
    topics: List[TopicFigures] = field(default_factory=list)


class _Tally:
    """Adds grouped rows into the total, per channel and per language."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.total = Outcomes(ALL)
        self.channels: Dict[str, Outcomes] = {}
        self.languages: Dict[str, Outcomes] = {}

    def add(self, channel: Optional[str], language: Optional[str], **counts: int) -> bool:
        if not self.scope.matches(channel, language):
            return False
        targets = (
            self.total,
            self.channels.setdefault(channel or "", Outcomes(channel or "")),
            self.languages.setdefault(language or "", Outcomes(language or "")),
        )
        for target in targets:
            for name, count in counts.items():
                setattr(target, name, getattr(target, name) + int(count or 0))
        return True


def _rows(engine: Engine, first: date, last: date) -> Tuple[List[Any], ...]:
    in_range = [m.day >= first, m.day <= last]
    joined = messages.join(conversations, c.id == m.conversation_id)
    with engine.connect() as connection:
        questions = connection.execute(
            sa.select(c.channel, c.language, m.outcome, sa.func.count())
            .select_from(joined)
            .where(*in_range, m.is_payload.is_(False), m.outcome.in_(outcomes.QUESTION_OUTCOMES))
            .group_by(c.channel, c.language, m.outcome)
        ).fetchall()
        ended = sa.case((sa.or_(c.cannot_answer.is_(True), c.human.is_(True)), 0), else_=1)
        talks = connection.execute(
            sa.select(
                c.channel,
                c.language,
                sa.func.count(),
                sa.func.sum(ended),
                sa.func.sum(sa.case((c.human.is_(True), 1), else_=0)),
            )
            .where(c.user_messages > 0, c.day >= first, c.day <= last)
            .group_by(c.channel, c.language)
        ).fetchall()
        answers = connection.execute(
            sa.select(c.channel, c.language, m.topic, sa.func.count())
            .select_from(joined)
            .where(*in_range, m.topic.isnot(None))
            .group_by(c.channel, c.language, m.topic)
        ).fetchall()
        rated = connection.execute(
            sa.select(r.channel, r.language, r.topic, r.helpful, sa.func.count())
            .where(r.day >= first, r.day <= last)
            .group_by(r.channel, r.language, r.topic, r.helpful)
        ).fetchall()
    return questions, talks, answers, rated


def _ordered(groups: Iterable[Outcomes]) -> List[Outcomes]:
    return sorted(groups, key=lambda item: (-item.conversations, -item.questions, item.key))


def build(engine: Engine, first: date, last: date, scope: Scope = EVERYTHING) -> LearningFigures:
    """Computes the figures for the days ``first`` to ``last`` (clinic time zone) in ``scope``."""
    questions, talks, answers, rated = _rows(engine, first, last)
    tally = _Tally(scope)
    for channel, language, outcome, count in questions:
        tally.add(channel, language, questions=count, **{outcome: count})
    for channel, language, count, ended_well, person in talks:
        tally.add(channel, language, conversations=count, ended_well=ended_well, person_requested=person)
    knowledge = get_knowledge()
    topics: Dict[str, TopicFigures] = {}

    def topic(topic_id: str) -> TopicFigures:
        if topic_id not in topics:
            known = knowledge.topic(topic_id)
            topics[topic_id] = TopicFigures(topic_id, known.title("en") if known else topic_id)
        return topics[topic_id]

    for channel, language, topic_id, count in answers:
        if scope.matches(channel, language):
            topic(topic_id).answers += int(count)
    for channel, language, topic_id, helpful, count in rated:
        if tally.add(channel, language, rated=count, helpful=count if helpful else 0) and topic_id:
            topic(topic_id).rated += int(count)
            topic(topic_id).helpful += int(count) if helpful else 0
    return LearningFigures(
        first=first,
        last=last,
        scope=scope,
        total=tally.total,
        channels=_ordered(tally.channels.values()),
        languages=_ordered(tally.languages.values()),
        topics=sorted(topics.values(), key=lambda item: (-item.answers, -item.rated, item.title)),
    )
