"""Chart geometry for server-rendered SVG (templates/charts.html draws it).

No JavaScript and nothing fetched: the page stays within the console's strict content
security policy and works offline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import List, Optional, Sequence, Tuple

WIDTH = 720
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 36


@dataclass(frozen=True)
class Bar:
    """A rectangle with the value it shows."""

    x: float
    y: float
    width: float
    height: float
    label: str
    value: str
    series: int = 0


@dataclass(frozen=True)
class Tick:
    """An axis label at a position."""

    position: float
    label: str


@dataclass
class Chart:
    """Everything an SVG chart needs, in pixels."""

    width: int = WIDTH
    height: int = HEIGHT
    bars: List[Bar] = field(default_factory=list)
    line: str = ""
    points: List[Bar] = field(default_factory=list)
    x_ticks: List[Tick] = field(default_factory=list)
    y_ticks: List[Tick] = field(default_factory=list)
    empty: bool = False

    @property
    def plot_left(self) -> int:
        """Left edge of the plotting area."""
        return LEFT

    @property
    def plot_right(self) -> int:
        """Right edge of the plotting area."""
        return self.width - RIGHT

    @property
    def plot_bottom(self) -> int:
        """Bottom edge (the x axis)."""
        return self.height - BOTTOM


def nice_top(value: float, integer: bool = True) -> float:
    """Returns the top of an axis with four equal steps of a round size, at least ``value``.

    Counts get whole-number steps (no "2.5 conversations"); rates may have fractions.
    """
    if value <= 0:
        return 4.0 if integer else 1.0
    power = 10 ** math.floor(math.log10(value / 4))
    while True:
        for multiple in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8):
            step = multiple * power
            if integer and step != int(step):
                continue
            if step * 4 >= value:
                return step * 4
        power *= 10


def _y_ticks(top: float, percent: bool, height: int) -> List[Tick]:
    plot = height - TOP - BOTTOM
    ticks = []
    for index in range(5):
        value = top * index / 4
        label = f"{value:.0%}" if percent else (f"{value:g}" if value < 10_000 else f"{value / 1000:g}k")
        ticks.append(Tick(position=TOP + plot - plot * index / 4, label=label))
    return ticks


def _x_ticks(days: Sequence[date], slot: float, width: int) -> List[Tick]:
    every = max(1, math.ceil(len(days) / max(4, width // 90)))
    return [
        Tick(position=LEFT + slot * (index + 0.5), label=day.strftime("%d %b"))
        for index, day in enumerate(days)
        if index % every == 0
    ]


def daily_bars(
    days: Sequence[date],
    series: Sequence[Sequence[int]],
    names: Sequence[str],
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Chart:
    """Side-by-side bars per day, one colour per series (e.g. conversations and messages)."""
    top = nice_top(max((value for values in series for value in values), default=0))
    plot_width, plot_height = width - LEFT - RIGHT, height - TOP - BOTTOM
    slot = plot_width / max(1, len(days))
    bar_width = max(1.0, slot * 0.8 / max(1, len(series)))
    bars = []
    for index, day in enumerate(days):
        for number, values in enumerate(series):
            bar_height = plot_height * values[index] / top
            bars.append(
                Bar(
                    x=LEFT + slot * index + slot * 0.1 + bar_width * number,
                    y=TOP + plot_height - bar_height,
                    width=bar_width,
                    height=bar_height,
                    label=f"{day:%d %b %Y}: {values[index]} {names[number]}",
                    value=str(values[index]),
                    series=number,
                )
            )
    return Chart(
        width=width,
        height=height,
        bars=bars,
        x_ticks=_x_ticks(days, slot, width),
        y_ticks=_y_ticks(top, False, height),
        empty=not any(any(values) for values in series),
    )


def rate_line(
    days: Sequence[date],
    rates: Sequence[Optional[float]],
    counts: Sequence[int],
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Chart:
    """A line of daily rates (0-1); days without messages leave a gap in the line."""
    top = min(1.0, nice_top(max((rate for rate in rates if rate is not None), default=0.0), integer=False))
    plot_width, plot_height = width - LEFT - RIGHT, height - TOP - BOTTOM
    slot = plot_width / max(1, len(days))
    segments: List[str] = []
    points: List[Bar] = []
    pen_down = False
    for index, (day, rate) in enumerate(zip(days, rates, strict=True)):
        if rate is None:
            pen_down = False
            continue
        x = LEFT + slot * (index + 0.5)
        y = TOP + plot_height - plot_height * rate / top
        segments.append(f"{'L' if pen_down else 'M'}{x:.1f},{y:.1f}")
        pen_down = True
        label = f"{day:%d %b %Y}: {rate:.0%} of {counts[index]} messages"
        points.append(Bar(x=x, y=y, width=0, height=0, label=label, value=f"{rate:.0%}"))
    return Chart(
        width=width,
        height=height,
        line=" ".join(segments),
        points=points,
        x_ticks=_x_ticks(days, slot, width),
        y_ticks=_y_ticks(top, True, height),
        empty=not points,
    )


def ranking(items: Sequence[Tuple[str, int]], width: int = 420, row: int = 26) -> Chart:
    """Horizontal bars for a top-N list, longest first; labels sit beside the chart."""
    top = max((count for _, count in items), default=0) or 1
    bars = [
        Bar(
            x=0,
            y=index * row + 4,
            width=max(2.0, (width - 48) * count / top),
            height=row - 8,
            label=label,
            value=str(count),
        )
        for index, (label, count) in enumerate(items)
    ]
    return Chart(width=width, height=max(row, row * len(items)), bars=bars, empty=not items)
