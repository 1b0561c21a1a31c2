"""Removes what identifies a patient from their messages before anything stores them.

Conversations are health data (Malaysia's PDPA). Every input channel passes user text
through :func:`redact` before NLU, the tracker store or a log sees it. The text is
normalised first (NFKC folds fullwidth digits; every Unicode dash and space becomes one
form), so an identifier cannot slip past in another script's digits or separators. Dates,
ages, durations, doses and weights ("3 weeks", "65 years old", "12/03/2024", "20 mg")
carry medical meaning and are kept.
"""

from __future__ import annotations

import re
import unicodedata

NRIC_PLACEHOLDER = "[nric]"
PHONE_PLACEHOLDER = "[phone]"
EMAIL_PLACEHOLDER = "[email]"
PASSPORT_PLACEHOLDER = "[passport]"
CARD_PLACEHOLDER = "[card]"

# Hyphens, dashes and minus signs of every script, and the spaces NFKC keeps apart.
_DASHES = re.compile(r"[\u2010-\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d\u00ad]")
_SPACES = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
# A separator between digit groups: nothing, or spaces, dots or one dash with spaces around it.
_SEP = r"(?:[ .]{0,2}|\s?-\s?)"

# E-mail, also written for humans: "name @ gmail.com", "name at gmail dot com", "name(at)x(dot)my".
_AT = r"(?:\s?@\s?|\s?[(\[]at[)\]]\s?)"
_DOT = r"(?:\s?\.\s?|\s?[(\[]dot[)\]]\s?)"
_EMAIL = re.compile(
    rf"[\w.%+-]+{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}[A-Za-z]{{2,}}\b"
    r"|\b[\w.%+-]+ at [\w-]+(?: dot [\w-]+)*(?: dot [a-z]{2,})\b",
    re.IGNORECASE,
)

# A card number: 13 to 19 digits in groups, kept only when the Luhn checksum holds.
_CARD = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")

# MyKad number YYMMDD-PB-###G: a plausible birth date, a place-of-birth code, four digits,
# with any mix of separators.
_NRIC = re.compile(rf"(?<!\d)\d{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]){_SEP}\d{{2}}{_SEP}\d{{4}}(?!\d)")

# A phone number: starts with +, 00, 0, or Malaysia's 60 without the plus, then 7 to 13
# more digits in groups. Glued to a word ("hp0123456789") counts too.
_PHONE_SEP = r"(?:[ .()]{0,3}|\s?-\s?)"
_PHONE = re.compile(rf"(?<![\d+(])(?:\+\s?\d|00\d|\(?0\d|60{_SEP}1\d)(?:{_PHONE_SEP}\d){{7,13}}(?!\d)")
_DATE = re.compile(r"^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$")
# Wider than a phone number: any run of 7 or more digits with separators, for the places where
# taking a date or a dose for a number costs nothing (log lines, conversation ids).
_DIGIT_RUN = re.compile(r"(?:tel:|whatsapp:)?\+?\d[\d\s().:_+-]{5,}\d", re.IGNORECASE)

# A passport number: one or two letters then 7 to 9 digits (Malaysia: A12345678).
_PASSPORT = re.compile(r"\b[A-Za-z]{1,2}\d{7,9}\b")


def normalise(text: str) -> str:
    """NFKC, then every dash to "-" and every space to " "."""
    text = unicodedata.normalize("NFKC", text)
    return _SPACES.sub(" ", _DASHES.sub("-", text))


def luhn_valid(digits: str) -> bool:
    """Whether ``digits`` pass the Luhn checksum that card numbers carry."""
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _card(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return CARD_PLACEHOLDER if luhn_valid(digits) else match.group(0)


def _phone(match: re.Match) -> str:
    candidate = match.group(0)
    if _DATE.match(candidate.strip()):
        return candidate
    return PHONE_PLACEHOLDER


def redact(text: str) -> str:
    """Returns ``text`` normalised, with what identifies a person replaced.

    Args:
        text: A patient's message.

    Returns:
        The message with ``[email]``, ``[card]``, ``[nric]``, ``[phone]`` and
        ``[passport]`` in the places of e-mail addresses, card numbers, MyKad numbers,
        phone numbers and passport numbers.

    """
    text = _EMAIL.sub(EMAIL_PLACEHOLDER, normalise(text))
    text = _CARD.sub(_card, text)
    text = _NRIC.sub(NRIC_PLACEHOLDER, text)
    text = _PHONE.sub(_phone, text)
    return _PASSPORT.sub(PASSPORT_PLACEHOLDER, text)


def scrub_digit_runs(text: str) -> str:
    """Returns ``text`` with every run of digits that could be a phone number as "[number]" (for logs)."""
    return _DIGIT_RUN.sub("[number]", text)


def is_digit_run(text: str) -> bool:
    """Whether the whole of ``text`` is a run of digits that could be a phone number."""
    return _DIGIT_RUN.fullmatch(text) is not None
