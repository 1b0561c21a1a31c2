"""Times as the clinic reads them: in its own time zone (Asia/Kuala_Lumpur by default)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from core.settings import get_settings


@lru_cache(maxsize=4)
def clinic_zone(name: str = "") -> ZoneInfo:
    """Returns the configured time zone (or ``name``)."""
    return ZoneInfo(name or get_settings().console.timezone)


def local_time(timestamp: float) -> datetime:
    """Returns a Unix timestamp as an aware datetime in the clinic's time zone."""
    return datetime.fromtimestamp(timestamp, tz=clinic_zone())


def local_day(timestamp: float) -> date:
    """Returns the clinic's calendar day of a Unix timestamp."""
    return local_time(timestamp).date()


def today() -> date:
    """Returns today's date in the clinic's time zone."""
    return datetime.now(tz=clinic_zone()).date()


def days_between(first: date, last: date) -> list[date]:
    """Returns every day from ``first`` to ``last``, both included."""
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def format_time(timestamp: float | None, with_seconds: bool = False) -> str:
    """Formats a timestamp for staff, e.g. ``2026-03-01 14:05``; empty for None."""
    if timestamp is None:
        return ""
    return local_time(timestamp).strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")
