"""Meta WhatsApp Cloud API payloads: reading webhook notifications, building replies.

Pure functions; limits are the Cloud API's (interactive messages reference).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from channels.whatsapp_text import Button, Inbound
from core import messages
from core.vocabulary import IntentName

TEXT_MAX = 4096
BODY_MAX = 1024
MAX_REPLY_BUTTONS = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
MAX_LIST_ROWS = 10
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
ROW_ID_MAX = 200
LIST_BUTTON_MAX = 20

# Message types the patient sent that the assistant cannot read: they get a polite reply.
# Other types (reactions, system notices, unsupported) are ignored.
_UNREADABLE = frozenset({"image", "audio", "video", "document", "sticker", "location", "contacts"})


def _dicts(value: Any) -> List[Dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _dict(value: Any) -> Dict[str, Any]:
    return value if isinstance(value, dict) else {}


def inbound_messages(notification: Dict[str, Any]) -> List[Inbound]:
    """Returns the patient messages in ``entry[].changes[].value.messages[]``.

    Delivery and read receipts (``statuses[]``) and anything malformed are skipped.
    """
    found: List[Inbound] = []
    for entry in _dicts(notification.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = _dict(change.get("value"))
            phone_number_id = str(_dict(value.get("metadata")).get("phone_number_id") or "")
            for message in _dicts(value.get("messages")):
                inbound = _inbound(message, phone_number_id)
                if inbound is not None:
                    found.append(inbound)
    return found


def _inbound(message: Dict[str, Any], phone_number_id: str) -> Optional[Inbound]:
    message_id, number, kind = message.get("id"), message.get("from"), message.get("type")
    if not isinstance(message_id, str) or not message_id or not isinstance(number, str) or not number:
        return None
    base = {"message_id": message_id, "number": number, "phone_number_id": phone_number_id}
    if kind == "text":
        body = _dict(message.get("text")).get("body")
        return Inbound(kind="text", text=body, **base) if isinstance(body, str) else None
    if kind == "interactive":
        interactive = _dict(message.get("interactive"))
        reply = _dict(interactive.get("button_reply") or interactive.get("list_reply"))
        return _choice(reply.get("id"), reply.get("title"), base)
    if kind == "button":
        button = _dict(message.get("button"))
        return _choice(button.get("payload"), button.get("text"), base)
    if kind in _UNREADABLE:
        return Inbound(kind="unreadable", **base)
    return None


def _choice(payload: Any, title: Any, base: Dict[str, str]) -> Optional[Inbound]:
    if not isinstance(title, str):
        return None
    return Inbound(kind="choice", text=title, payload=payload if isinstance(payload, str) else "", **base)


def text_message(body: str) -> Dict[str, Any]:
    """Returns a plain text message (links are not previewed: they are the clinic's)."""
    return {"type": "text", "text": {"body": body, "preview_url": False}}


_RATING_PAYLOADS = (f"/{IntentName.RATE_HELPFUL}", f"/{IntentName.RATE_NOT_HELPFUL}")


def separate_rating(buttons: Sequence[Button]) -> Tuple[List[Button], List[Button]]:
    """Splits off the "was this helpful?" buttons when, with the others, they exceed reply buttons.

    Reply buttons hold three choices: the next topics and the rating together would become
    one list, which hides both behind a "Choose" button. Sent as two messages, both stay
    reply buttons.

    Returns:
        The other buttons and the rating buttons; all buttons and none when they fit together.

    """
    rating = [button for button in buttons if str(button.get("payload") or "").startswith(_RATING_PAYLOADS)]
    others = [button for button in buttons if button not in rating]
    if not rating or not others or len(buttons) <= MAX_REPLY_BUTTONS:
        return list(buttons), []
    return others, rating


def interactive_message(body: str, buttons: Sequence[Button], language: str) -> Optional[Dict[str, Any]]:
    """Returns reply buttons (up to 3 short titles) or a list (up to 10 rows) for ``buttons``.

    Args:
        body: The text above the choices, at most ``BODY_MAX`` characters.
        buttons: Rasa buttons, each with ``title`` and ``payload``.
        language: The language of the list's button label.

    Returns:
        The ``interactive`` message, or None when the choices cannot be shown that way
        (too many, ids too long or repeated, body too long); send numbered options then.

    """
    choices = [
        (str(button.get("payload") or ""), str(button.get("title") or "").strip()) for button in buttons
    ]
    payloads = [payload for payload, _ in choices]
    if (
        not choices
        or len(choices) > MAX_LIST_ROWS
        or not body.strip()
        or len(body) > BODY_MAX
        or not all(payload and title for payload, title in choices)
        or len(set(payloads)) != len(payloads)
    ):
        return None
    titles = [title for _, title in choices]
    if (
        len(choices) <= MAX_REPLY_BUTTONS
        and all(len(title) <= BUTTON_TITLE_MAX for title in titles)
        and len(set(titles)) == len(titles)
        and all(len(payload) <= BUTTON_ID_MAX for payload in payloads)
    ):
        return {
            "type": "button",
            "body": {"text": body},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": payload, "title": title}} for payload, title in choices
                ]
            },
        }
    if any(len(payload) > ROW_ID_MAX for payload in payloads):
        return None
    return {
        "type": "list",
        "body": {"text": body},
        "action": {
            "button": messages.text("whatsapp_list_button", language)[:LIST_BUTTON_MAX],
            "sections": [{"rows": [_row(payload, title) for payload, title in choices]}],
        },
    }


def _row(payload: str, title: str) -> Dict[str, str]:
    if len(title) <= ROW_TITLE_MAX:
        return {"id": payload, "title": title}
    # The full title goes in the description, which has room for it.
    short = title[: ROW_TITLE_MAX - 1].rstrip() + "\u2026"
    return {"id": payload, "title": short, "description": title[:ROW_DESCRIPTION_MAX]}
