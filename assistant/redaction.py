"""Removes what identifies a patient from their messages before anything stores them.

Conversations are health data (Malaysia's PDPA). Every input channel passes user text
through :func:`redact` before NLU, the tracker store or a log sees it. Dates, ages and
durations ("3 weeks", "65 years old", "12/03/2024") carry meaning and are kept.
"""

from __future__ import annotations

import re

NRIC_PLACEHOLDER = "[nric]"
PHONE_PLACEHOLDER = "[phone]"
EMAIL_PLACEHOLDER = "[email]"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")

# MyKad number YYMMDD-PB-###G: a plausible birth date, a place-of-birth code, four digits.
_NRIC = re.compile(
    r"(?<![\d+])"
    r"\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    r"(?P<sep>[-\s]?)\d{2}(?P=sep)\d{4}"
    r"(?!\d)"
)

# A phone number: starts with + or 0, then 8 to 14 more digits in groups separated by
# single spaces, dots, dashes or parentheses. Dates (two separators around 2-2-4 digits)
# never start with a plus and are excluded below.
_PHONE = re.compile(r"(?<![\w+])(?:\+\s?|00|0)\d(?:[\s.\-()]{0,2}\d){7,13}(?!\d)")
_DATE = re.compile(r"^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$")


def _phone(match: re.Match) -> str:
    candidate = match.group(0)
    if _DATE.match(candidate.strip()):
        return candidate
    return PHONE_PLACEHOLDER


def redact(text: str) -> str:
    """Returns ``text`` with NRIC numbers, phone numbers and e-mail addresses replaced.

    Args:
        text: A patient's message.

    Returns:
        The message with ``[nric]``, ``[phone]`` and ``[email]`` in their place.

    """
    text = _EMAIL.sub(EMAIL_PLACEHOLDER, text)
    text = _NRIC.sub(NRIC_PLACEHOLDER, text)
    return _PHONE.sub(_phone, text)
