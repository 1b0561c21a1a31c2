"""The clinic's opening hours, read the way clinics write them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from handoff.hours import OpeningHours

KL = "Asia/Kuala_Lumpur"


def at(text: str) -> datetime:
    """A Malaysia-time moment: 2026-11-30 is a Monday."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(KL))


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-11-30 08:59", False),
        ("2026-11-30 09:00", True),
        ("2026-12-04 17:59", True),  # Friday
        ("2026-12-04 18:00", False),
        ("2026-12-05 12:30", True),  # Saturday morning
        ("2026-12-05 13:00", False),
        ("2026-12-06 10:00", False),  # Sunday: not named, closed
    ],
)
def test_days_and_times(moment: str, expected: bool) -> None:
    hours = OpeningHours.parse("Mon-Fri 09:00-18:00; Sat 09:00-13:00", KL)
    assert hours is not None
    assert hours.is_open(at(moment)) is expected


def test_the_clinic_time_zone_decides_not_the_servers() -> None:
    hours = OpeningHours.parse("Monday 09:00-10:00", KL)
    assert hours is not None
    assert hours.is_open(datetime.fromisoformat("2026-11-30T01:30:00+00:00"))  # 09:30 in Kuala Lumpur
    assert not hours.is_open(datetime.fromisoformat("2026-11-30T09:30:00+00:00"))


def test_full_names_dots_and_midnight() -> None:
    hours = OpeningHours.parse("Saturday-Sunday 20.00-24:00", KL)
    assert hours is not None
    assert hours.is_open(at("2026-12-06 23:59"))
    assert not hours.is_open(at("2026-12-06 19:59"))


@pytest.mark.parametrize("unset", [None, "", "   "])
def test_unset_hours_are_unknown(unset: str | None) -> None:
    assert OpeningHours.parse(unset, KL) is None


@pytest.mark.parametrize("bad", ["9am to 6pm weekdays", "Mon-Fri 18:00-09:00", "Xyz 09:00-10:00"])
def test_hours_that_cannot_be_read_say_so(bad: str) -> None:
    with pytest.raises(ValueError, match="Opening hours"):
        OpeningHours.parse(bad, KL)
