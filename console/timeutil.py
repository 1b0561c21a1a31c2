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


def format_duration(seconds: float | None) -> str:
    """Formats a wait for staff, e.g. ``45 s``, ``3 min 05 s``, ``1 h 02 min``; empty for None."""
    if seconds is None:
        return ""
    whole = max(0, int(round(seconds)))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"
