"""The dashboard's figures for a date range, computed in SQL over the console's tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Dict, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from console import charts
from console.learning_figures import EVERYTHING, Scope
from console.schema import conversations, messages
from console.timeutil import days_between
from core.knowledge import get_knowledge

c, m = conversations.c, messages.c
# Chart widths in SVG units, close to their width on screen so text keeps its size.
WIDE_CHART = 1180
HALF_CHART = 560


@dataclass(frozen=True)
class Unanswered:
    """A question the assistant could not answer, and how often it was asked."""

    text: str
    count: int
    conversation_id: int


@dataclass(frozen=True)
class Emergency:
    """A patient message the assistant treated as an emergency."""

    text: str
    timestamp: float
    conversation_id: int


@dataclass
class Dashboard:
    """Everything the dashboard page shows."""

    first: date
    last: date
    conversations: int = 0
    messages: int = 0
    typed_messages: int = 0
    fallbacks: int = 0
    emergencies: int = 0
    handoffs: int = 0
    out_of_scope: int = 0
    activity: charts.Chart = field(default_factory=charts.Chart)
    fallback_rate: charts.Chart = field(default_factory=charts.Chart)
    emergency_days: charts.Chart = field(default_factory=charts.Chart)
    topics: charts.Chart = field(default_factory=charts.Chart)
    topic_ids: List[str] = field(default_factory=list)
    channels: List[Tuple[str, int]] = field(default_factory=list)
    unanswered: List[Unanswered] = field(default_factory=list)
    emergency_messages: List[Emergency] = field(default_factory=list)

    @property
    def overall_fallback_rate(self) -> Optional[float]:
        """Share of typed patient messages that fell back, over the whole range."""
        return self.fallbacks / self.typed_messages if self.typed_messages else None


def _per_day(rows: List[Tuple[date, int]], days: List[date]) -> List[int]:
    found: Dict[date, int] = {}
    for day, count in rows:
        key = day if isinstance(day, date) else date.fromisoformat(str(day))
        found[key] = int(count or 0)
    return [found.get(day, 0) for day in days]


def build(engine: Engine, first: date, last: date, scope: Scope = EVERYTHING) -> Dashboard:
    """Computes the dashboard for the days ``first`` to ``last`` (clinic time zone) in ``scope``."""
    days = days_between(first, last)
    board = Dashboard(first=first, last=last)
    in_range = [c.user_messages > 0, c.day >= first, c.day <= last, *scope.conversation_conditions()]
    messages_in_range = [m.day >= first, m.day <= last, *scope.message_conditions()]
    with engine.connect() as connection:
        per_day = connection.execute(
            sa.select(c.day, sa.func.count(), sa.func.sum(sa.case((c.emergency, 1), else_=0)))
            .where(*in_range)
            .group_by(c.day)
        ).fetchall()
        message_days = connection.execute(
            sa.select(
                m.day,
                sa.func.count(),
                sa.func.sum(sa.case((m.is_payload, 0), else_=1)),
                sa.func.sum(sa.case((sa.and_(m.fallback, sa.not_(m.is_payload)), 1), else_=0)),
            )
            .where(*messages_in_range)
            .group_by(m.day)
        ).fetchall()
        totals = connection.execute(
            sa.select(
                sa.func.count(),
                sa.func.sum(sa.case((sa.or_(c.booking, c.human), 1), else_=0)),
                sa.func.sum(sa.case((c.out_of_scope, 1), else_=0)),
            ).where(*in_range)
        ).one()
        topic_rows = connection.execute(
            sa.select(m.topic, sa.func.count())
            .where(*messages_in_range, m.topic.isnot(None))
            .group_by(m.topic)
            .order_by(sa.func.count().desc(), m.topic)
            .limit(10)
        ).fetchall()
        board.channels = [
            (channel or "unknown", int(count))
            for channel, count in connection.execute(
                sa.select(c.channel, sa.func.count())
                .where(*in_range)
                .group_by(c.channel)
                .order_by(sa.func.count().desc())
            )
        ]
        unanswered_rows = connection.execute(
            sa.select(m.text_key, sa.func.count(), sa.func.max(m.text), sa.func.max(m.conversation_id))
            .where(*messages_in_range, m.unanswered.is_(True))
            .group_by(m.text_key)
            .order_by(sa.func.count().desc(), m.text_key)
            .limit(12)
        ).fetchall()

    conversations_per_day = _per_day([(row[0], row[1]) for row in per_day], days)
    emergencies_per_day = _per_day([(row[0], row[2]) for row in per_day], days)
    messages_per_day = _per_day([(row[0], row[1]) for row in message_days], days)
    typed_per_day = _per_day([(row[0], row[2]) for row in message_days], days)
    fallbacks_per_day = _per_day([(row[0], row[3]) for row in message_days], days)

    board.conversations = int(totals[0] or 0)
    board.handoffs = int(totals[1] or 0)
    board.out_of_scope = int(totals[2] or 0)
    board.messages = sum(messages_per_day)
    board.typed_messages = sum(typed_per_day)
    board.fallbacks = sum(fallbacks_per_day)
    board.emergencies = sum(emergencies_per_day)
    board.activity = charts.daily_bars(
        days,
        [conversations_per_day, messages_per_day],
        ["conversations", "patient messages"],
        width=WIDE_CHART,
        height=280,
    )
    rates = [
        fallback / typed if typed else None
        for fallback, typed in zip(fallbacks_per_day, typed_per_day, strict=True)
    ]
    board.fallback_rate = charts.rate_line(days, rates, typed_per_day, width=HALF_CHART)
    board.emergency_days = charts.daily_bars(
        days, [emergencies_per_day], ["emergency conversations"], width=HALF_CHART
    )
    knowledge = get_knowledge()
    labels = []
    for topic_id, count in topic_rows:
        topic = knowledge.topic(topic_id)
        labels.append((topic.title("en") if topic else topic_id, int(count)))
    board.topics = charts.ranking(labels)
    board.topic_ids = [row[0] for row in topic_rows]
    board.unanswered = [
        Unanswered(text=str(row[2]), count=int(row[1]), conversation_id=int(row[3]))
        for row in unanswered_rows
    ]
    with engine.connect() as connection:
        board.emergency_messages = [
            Emergency(text=row.text, timestamp=row.timestamp, conversation_id=row.conversation_id)
            for row in connection.execute(
                sa.select(m.text, m.timestamp, m.conversation_id)
                .where(*messages_in_range, m.intent == "emergency")
                .order_by(m.timestamp.desc())
                .limit(8)
            )
        ]
    return board
