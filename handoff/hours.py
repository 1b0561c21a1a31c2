"""The clinic's opening hours (``clinic.yml``'s ``opening_hours``), in the clinic's time zone.

Written the way a clinic writes them, e.g. ``Mon-Fri 09:00-18:00; Sat 09:00-13:00``: days
not named are closed. Unset, the clinic counts as open whenever a member of staff is available.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PART = re.compile(
    r"^\s*(?P<first>[a-z]{3})[a-z]*\s*(?:-\s*(?P<last>[a-z]{3})[a-z]*)?\s+"
    r"(?P<start>\d{1,2}[:.]\d{2})\s*-\s*(?P<end>\d{1,2}[:.]\d{2})\s*$",
    re.IGNORECASE,
)


def _clock(text: str) -> time:
    hours, minutes = re.split(r"[:.]", text)
    if int(hours) == 24 and int(minutes) == 0:
        return time.max
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class OpeningHours:
    """Opening periods per weekday (0 is Monday)."""

    periods: Dict[int, List[Tuple[time, time]]]
    timezone: ZoneInfo

    @classmethod
    def parse(cls, text: Optional[str], timezone: str) -> Optional[OpeningHours]:
        """Reads ``text``; None when it is unset.

        Raises:
            ValueError: If a part is not "Day[-Day] HH:MM-HH:MM".

        """
        if not text or not text.strip():
            return None
        periods: Dict[int, List[Tuple[time, time]]] = {}
        for part in re.split(r"[;\n]", text):
            if not part.strip():
                continue
            match = _PART.match(part)
            first = match and match.group("first").lower()
            last = match and (match.group("last") or match.group("first")).lower()
            if not match or first not in DAYS or last not in DAYS:
                raise ValueError(
                    f"Opening hours: cannot read {part.strip()!r}; "
                    "write e.g. 'Mon-Fri 09:00-18:00; Sat 09:00-13:00'"
                )
            start, end = _clock(match.group("start")), _clock(match.group("end"))
            if end <= start:
                raise ValueError(f"Opening hours: {part.strip()!r} closes before it opens")
            for day in range(DAYS.index(first), DAYS.index(last) + 1):
                periods.setdefault(day, []).append((start, end))
        return cls(periods, ZoneInfo(timezone))

    def is_open(self, at: datetime) -> bool:
        """Whether the clinic is open at ``at`` (an aware time), in the clinic's time zone."""
        local = at.astimezone(self.timezone)
        return any(start <= local.time() < end for start, end in self.periods.get(local.weekday(), []))
