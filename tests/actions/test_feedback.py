"""Rating a quoted answer: thanks, or the likely alternatives (and a person when one is there)."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

from rasa_sdk.executor import CollectingDispatcher

from actions.feedback import ActionRateAnswer
from core import messages
from tests.actions.conftest import make_tracker

QUESTION_RANKING = [
    {"name": "recovery_time", "confidence": 0.41},
    {"name": "reversibility", "confidence": 0.33},
    {"name": "greet", "confidence": 0.1},
    {"name": "permanent_disability", "confidence": 0.08},
    {"name": "prevention", "confidence": 0.05},
]


def rate(intent: str, topic: str = "recovery_time", language: str = "en") -> List[Dict[str, Any]]:
    entity = {"entity": "rated_topic", "value": topic}
    tracker = make_tracker(
        intent, f'/{intent}{{"rated_topic": "{topic}"}}', [entity], slots={"language": language}
    )
    tracker.events = [
        {
            "event": "user",
            "text": "how long until my leg is normal",
            "parse_data": {
                "intent": {"name": "recovery_time", "confidence": 0.41},
                "intent_ranking": QUESTION_RANKING,
            },
        },
        {"event": "action", "name": "action_answer_topic"},
        {
            "event": "user",
            "text": f"/{intent}",
            "parse_data": {"intent": {"name": intent, "confidence": 1.0}},
        },
    ]
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionRateAnswer().run(dispatcher, tracker, {}))
    return dispatcher.messages


def test_helpful_is_thanked_without_buttons() -> None:
    (message,) = rate("rate_helpful")
    assert message["text"] == messages.text("rated_helpful", "en") and not message["buttons"]


def test_not_helpful_offers_what_the_question_may_have_meant_instead() -> None:
    (message,) = rate("rate_not_helpful")
    assert message["text"] == messages.text("rated_not_helpful", "en")
    payloads = [button["payload"] for button in message["buttons"]]
    # The rated topic and non-topics left out; "None of these" last (no person over the REST API).
    assert payloads == ["/reversibility", "/permanent_disability", "/prevention", "/deny"]


def test_not_helpful_in_malay() -> None:
    (message,) = rate("rate_not_helpful", language="ms")
    assert message["text"] == messages.text("rated_not_helpful", "ms")
    assert message["buttons"][-1]["title"] == messages.text("none_of_these", "ms")
