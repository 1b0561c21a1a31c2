"""Shaping the bot's messages for WhatsApp: splitting, numbered options, choosing by reply.

Pure functions shared by the Twilio and the Meta WhatsApp channels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from core import messages
from core.language import detect_language

Button = Dict[str, Any]

# Where a message may be cut, best first: between paragraphs, between lines, after a
# sentence, between words. A cut keeps each piece's text exactly as it was.
_BOUNDARIES = (
    (re.compile(r"\n[ \t]*\n"), False),
    (re.compile(r"\n"), False),
    (re.compile(r"[.!?\u2026](?=\s)"), True),
    (re.compile(r"\s"), False),
)
_NUMBER_REPLY = re.compile(r"\s*(\d{1,2})\s*[.)]?\s*")


@dataclass(frozen=True)
class Inbound:
    """One patient message from a provider's webhook.

    ``kind`` is ``text``, ``choice`` (a reply button or list row: ``payload`` is its id,
    ``text`` its title) or ``unreadable`` (a photo, a voice note, a file). ``message_id``
    is the provider's (empty when it sent none); ``phone_number_id`` is the clinic number
    it was sent to (Meta's; empty for Twilio).
    """

    message_id: str
    number: str = field(repr=False)
    kind: str
    text: str = ""
    payload: str = ""
    phone_number_id: str = ""


def split_text(text: str, limit: int) -> List[str]:
    """Splits ``text`` into messages of at most ``limit`` characters.

    Cuts at the last paragraph boundary that fits, so paragraphs stay whole and as many
    as fit share a message; a single paragraph longer than ``limit`` is cut between
    lines, then sentences, then words, and only a run without spaces mid-word.

    Args:
        text: The message.
        limit: The provider's maximum message length.

    Returns:
        The pieces, in order, none empty.

    """
    pieces: List[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = _cut_position(rest, limit)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _cut_position(text: str, limit: int) -> int:
    # One character past the limit: a boundary right after a full piece still counts.
    window = text[: limit + 1]
    for pattern, keep_match in _BOUNDARIES:
        ends = [
            match.end() if keep_match else match.start()
            for match in pattern.finditer(window)
            if 0 < (match.end() if keep_match else match.start()) <= limit
        ]
        if ends and text[: ends[-1]].strip():
            return ends[-1]
    return limit


def message_language(text: str, buttons: Sequence[Button] = ()) -> str:
    """Returns the language the bot wrote ``text`` and the button titles in."""
    titles = " ".join(str(button.get("title", "")) for button in buttons)
    return detect_language(f"{text} {titles}")


def numbered_options(text: str, buttons: Sequence[Button]) -> str:
    """Returns ``text`` followed by the buttons as a numbered list and how to choose.

    WhatsApp over Twilio has no buttons: the patient answers with the number or the title.
    """
    language = message_language(text, buttons)
    options = "\n".join(f"{number}. {button.get('title', '')}" for number, button in enumerate(buttons, 1))
    hint = messages.text("whatsapp_reply_with_number", language)
    return "\n\n".join(part for part in (text.strip(), options, hint) if part)


def _folded(text: str) -> str:
    return " ".join(text.casefold().strip(" \t.!?").split())


def chosen_payload(reply: str, buttons: Sequence[Button]) -> Optional[str]:
    """Returns the payload of the button ``reply`` picks, by number or by title.

    Args:
        reply: The patient's cleaned message.
        buttons: The buttons the bot offered last, in the order shown.

    Returns:
        The chosen button's payload, or None when the reply picks none of them.

    """
    number = _NUMBER_REPLY.fullmatch(reply)
    if number is not None:
        index = int(number.group(1)) - 1
        if 0 <= index < len(buttons):
            return _payload(buttons[index])
        return None
    wanted = _folded(reply)
    for button in buttons:
        if wanted and _folded(str(button.get("title", ""))) == wanted:
            return _payload(button)
    return None


def offered_payload(payload: str, buttons: Sequence[Button]) -> Optional[str]:
    """Returns ``payload`` when it is one of the buttons' payloads, else None."""
    return payload if any(_payload(button) == payload for button in buttons) else None


def _payload(button: Button) -> Optional[str]:
    payload = button.get("payload")
    return str(payload) if payload else None
