"""Filters and globals the templates use (formatting only; templates stay autoescaped)."""

from __future__ import annotations

from typing import Any, Dict, Optional

from flask import Flask, request, url_for

from console.timeutil import format_duration, format_time
from core.knowledge import get_knowledge

FLAG_LABELS = {
    "fallback": "Fallback",
    "low_confidence": "Low confidence",
    "out_of_scope": "Out of scope",
    "emergency": "Emergency",
    "booking": "Booking",
    "human": "Human requested",
}
CHANNEL_LABELS = {
    "rest": "REST API",
    "socketio": "Website chat",
    "twilio": "WhatsApp (Twilio)",
    "whatsapp": "WhatsApp (Cloud API)",
}

LANGUAGE_LABELS = {"en": "English", "ms": "Malay"}


def topic_title(topic_id: Optional[str]) -> str:
    """Returns a topic's English title, or the id when it is not a known topic."""
    if not topic_id:
        return ""
    topic = get_knowledge().topic(topic_id)
    return topic.title("en") if topic else topic_id


def percent(value: Optional[float], digits: int = 0) -> str:
    """Formats 0.123 as ``12%``; empty for None."""
    return "" if value is None else f"{value * 100:.{digits}f}%"


def channel_label(channel: Optional[str]) -> str:
    """Returns a channel's name for staff."""
    if not channel:
        return "unknown"
    return CHANNEL_LABELS.get(channel, channel)


def language_label(language: Optional[str]) -> str:
    """Returns a language code's name for staff (the code itself when unknown)."""
    return LANGUAGE_LABELS.get(language or "", language or "unknown")


def count(value: Optional[int]) -> str:
    """Formats a count with thousands separators, e.g. ``1,234``."""
    return f"{int(value or 0):,}"


def url_with(endpoint: str, args: Dict[str, Any], **changes: Any) -> str:
    """Returns ``endpoint``'s URL with the query ``args`` plus ``changes``."""
    merged = dict(args)
    merged.update({key: value for key, value in changes.items() if value is not None})
    return url_for(endpoint, **merged)


def is_active(*prefixes: str) -> bool:
    """Whether the current page lies under one of ``prefixes`` (for the navigation)."""
    return any(request.path.startswith(prefix) for prefix in prefixes)


def register_helpers(app: Flask) -> None:
    """Adds the helpers to the app's Jinja environment."""
    app.jinja_env.filters["time"] = format_time
    app.jinja_env.filters["topic_title"] = topic_title
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["channel"] = channel_label
    app.jinja_env.filters["duration"] = format_duration
    app.jinja_env.filters["language"] = language_label
    app.jinja_env.filters["count"] = count
    app.jinja_env.globals.update(
        flag_labels=FLAG_LABELS,
        url_with=url_with,
        is_active=is_active,
        format_time=format_time,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
