"""Checks and cleans a patient's message on its way in, the same for every channel."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from core.redaction import is_digit_run, redact
from core.settings import get_settings

_SENDER = re.compile(r"[\w.:@+\-]{1,128}")
# Conversation ids the server derives start with these: WhatsApp's from a phone number, the
# web chat's from its session token. A client must not pose as (or join) such a patient:
# staff see those ids, and knowing one must not let anyone write into the conversation.
WHATSAPP_SENDER_PREFIX = "wa-"
WEB_SENDER_PREFIX = "web-"
_SERVER_PREFIXES = (WHATSAPP_SENDER_PREFIX, WEB_SENDER_PREFIX)
# An id that holds an e-mail address: an id is stored in every event and shown to staff, so
# it must not identify the patient (nor be a phone number: redaction.is_digit_run).
_EMAIL_SHAPED = re.compile(r"[^@]+@[^@.]+(?:\.[^@.]+)+")
# Control and invisible formatting characters (zero-width spaces, bidi overrides) carry
# no meaning for the bot and can hide text from staff reading the logs.
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}


class RejectedMessage(ValueError):
    """The message cannot be accepted; the text says why, fit to show the sender."""


def visible_text(raw: str) -> str:
    """Returns ``raw`` in NFC without invisible characters, its whitespace runs made one space."""
    text = unicodedata.normalize("NFC", raw)
    text = "".join(
        " " if char in "\t\r\n" else char
        for char in text
        if char in "\t\r\n" or unicodedata.category(char) not in _INVISIBLE_CATEGORIES
    )
    return " ".join(text.split())


def clean_message(raw: Any) -> str:
    """Returns the message normalised and redacted, ready for NLU and storage.

    Args:
        raw: The message as received.

    Raises:
        RejectedMessage: If it is not text, is empty, or is longer than allowed.

    """
    if not isinstance(raw, str):
        raise RejectedMessage("'message' must be a string")
    limit = get_settings().core.max_message_chars
    if len(raw) > limit * 4:
        raise RejectedMessage(f"'message' is longer than {limit} characters")
    text = visible_text(raw)
    if not text:
        raise RejectedMessage("'message' is empty")
    if len(text) > limit:
        raise RejectedMessage(f"'message' is longer than {limit} characters")
    return redact(text)


def clean_sender(raw: Any) -> str:
    """Returns a valid conversation id chosen by a client.

    Raises:
        RejectedMessage: If it is missing, too long, has characters other than letters,
            digits and ``_ . : @ + -``, starts with a prefix of the server's own ids, or is
            shaped like a phone number or an e-mail address.

    """
    # fullmatch: with match, "$" would also accept a trailing newline.
    if not isinstance(raw, str) or not _SENDER.fullmatch(raw):
        raise RejectedMessage("'sender' must be 1 to 128 letters, digits or _.:@+-")
    if raw.lower().startswith(_SERVER_PREFIXES):
        raise RejectedMessage(
            f"'sender' must not start with {' or '.join(_SERVER_PREFIXES)} (the server's ids)"
        )
    if is_digit_run(raw) or _EMAIL_SHAPED.fullmatch(raw):
        raise RejectedMessage("'sender' must not be a phone number or an e-mail address: use a random id")
    return raw
