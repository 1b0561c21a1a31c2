"""The dashboard's "Talking to a person" figures: requests per channel and day, waits, time-outs.

Read from the handoff queue's table (:mod:`handoff.schema`), by the request's day in the
clinic's time zone. Waits are computed in Python: there are few requests, and a
percentile in SQL reads differently on SQLite and PostgreSQL.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import date
from typing import Dict, List, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from console import charts
from console.learning_figures import EVERYTHING, Scope
from console.timeutil import days_between
from handoff.queue import EXPIRED, TIMED_OUT
from handoff.schema import requests

ALL = "all"
CHART_WIDTH = 1180


def median(values: Sequence[float]) -> Optional[float]:
    """The middle value (the mean of the two middle ones for an even count); None when empty."""
    return statistics.median(values) if values else None


def percentile_90(values: Sequence[float]) -> Optional[float]:
    """The nearest-rank 90th percentile: nine in ten values are at most this; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


@dataclass
class ChannelFigures:
    """One channel's (or all channels') requests for a person in the range."""

    channel: str
    requests: int = 0
    timed_out: int = 0
    expired: int = 0
    waits: List[float] = field(default_factory=list)

    @property
    def replied(self) -> int:
        """Requests a member of staff replied to."""
        return len(self.waits)

    @property
    def median_wait(self) -> Optional[float]:
        """Median seconds from the request to the first staff reply."""
        return median(self.waits)

    @property
    def p90_wait(self) -> Optional[float]:
        """90th-percentile seconds from the request to the first staff reply."""
        return percentile_90(self.waits)


@dataclass
class HandoffFigures:
    """Everything the dashboard's handoff section shows."""

    days: List[date]
    total: ChannelFigures
    channels: List[ChannelFigures]
    # Requests per day and channel, only the days that had any.
    per_day: List[tuple[date, Dict[str, int]]]
    chart: charts.Chart

    def per_day_average(self, figures: ChannelFigures) -> str:
        """Requests per day over the whole range, e.g. ``2.5`` or ``0.03`` (never a bare 0.0)."""
        average = figures.requests / max(1, len(self.days))
        return f"{average:.1f}" if average >= 1 else f"{average:.2f}"


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def build(engine: Engine, first: date, last: date, scope: Scope = EVERYTHING) -> HandoffFigures:
    """Computes the section for the days ``first`` to ``last`` (clinic time zone) in ``scope``."""
    r = requests.c
    conditions = [r.day >= first, r.day <= last]
    if scope.channel:
        conditions.append(r.channel == scope.channel)
    if scope.language:
        conditions.append(r.language == scope.language)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(r.day, r.channel, r.state, r.requested_at, r.first_reply_at).where(*conditions)
        ).fetchall()
    total = ChannelFigures(ALL)
    by_channel: Dict[str, ChannelFigures] = {}
    counts: Dict[date, Dict[str, int]] = {}
    for row in rows:
        channel = row.channel or "unknown"
        figures = by_channel.setdefault(channel, ChannelFigures(channel))
        day_counts = counts.setdefault(_day(row.day), {})
        day_counts[channel] = day_counts.get(channel, 0) + 1
        for target in (figures, total):
            target.requests += 1
            target.timed_out += row.state == TIMED_OUT
            target.expired += row.state == EXPIRED
            if row.first_reply_at is not None:
                target.waits.append(max(0.0, row.first_reply_at - row.requested_at))
    days = days_between(first, last)
    chart = charts.daily_bars(
        days,
        [[sum(counts.get(day, {}).values()) for day in days]],
        ["requests for a person"],
        width=CHART_WIDTH,
        height=200,
    )
    return HandoffFigures(
        days=days,
        total=total,
        channels=sorted(by_channel.values(), key=lambda item: (-item.requests, item.channel)),
        per_day=sorted(counts.items()),
        chart=chart,
    )
