"""Builds real rasa-sdk Trackers for action tests."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker


def make_tracker(
    intent: str,
    text: str = "a question",
    entities: Optional[List[Dict[str, Any]]] = None,
    ranking: Optional[List[Dict[str, Any]]] = None,
    slots: Optional[Dict[str, Any]] = None,
    metadata: Optional[Any] = None,
) -> Tracker:
    """Returns a tracker whose latest message has the given NLU result (and metadata)."""
    latest_message = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities or [],
        "intent_ranking": ranking or [],
        "metadata": metadata,
    }
    return Tracker(
        sender_id="test",
        slots={"topic": None, "language": None, **(slots or {})},
        latest_message=latest_message,
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )
