"""The date range a page shows, read from its query arguments (clinic time zone)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, List, Optional, Tuple

from console.queries import clean_arg
from console.timeutil import today

MAX_DAYS = 366


def parse_day(value: Any) -> Optional[date]:
    """Returns ``YYYY-MM-DD`` as a date; None when empty or malformed."""
    text = clean_arg(value, 32)
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def date_range(
    args: Any, default_days: int, first_name: str = "from", last_name: str = "to"
) -> Tuple[date, date, List[str]]:
    """Returns the first and last day asked for (the last ``default_days`` days by default).

    Returns:
        The range, at most ``MAX_DAYS`` long, and messages about what was ignored or cut.

    """
    problems = []
    days = {}
    for name, label in ((first_name, "start"), (last_name, "end")):
        days[name] = parse_day(args.get(name))
        if args.get(name) and days[name] is None:
            problems.append(f"Ignored the {label} date: use YYYY-MM-DD.")
    last = days[last_name] or today()
    first = days[first_name] or last - timedelta(days=default_days - 1)
    if first > last:
        first, last = last, first
    if (last - first).days >= MAX_DAYS:
        first = last - timedelta(days=MAX_DAYS - 1)
        problems.append(f"Showing the last {MAX_DAYS} days of the range.")
    return first, last, problems
