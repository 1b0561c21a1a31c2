"""The clarifying question and the honest fallback."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionCannotAnswer, ActionClarify
from tests.actions.conftest import make_tracker

RANKING = [
    {"name": "nlu_fallback", "confidence": 0.5},
    {"name": "greet", "confidence": 0.30},
    {"name": "recovery_time", "confidence": 0.25},
    {"name": "reversibility", "confidence": 0.20},
    {"name": "prevention", "confidence": 0.10},
    {"name": "surgery", "confidence": 0.05},
]


def run(action: Any, ranking: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    asyncio.run(action.run(dispatcher, make_tracker("nlu_fallback", "muscles how", ranking=ranking), {}))
    return dispatcher.messages


def test_clarify_offers_the_three_likeliest_topics_and_none_of_these() -> None:
    (message,) = run(ActionClarify(), RANKING)
    payloads = [button["payload"] for button in message["buttons"]]
    assert payloads == ["/recovery_time", "/reversibility", "/prevention", "/deny"]
    assert message["buttons"][-1]["title"] == "None of these"


def test_clarify_without_topic_candidates_gives_up_honestly_and_offers_a_person() -> None:
    (message,) = run(ActionClarify(), [{"name": "greet", "confidence": 0.4}])
    assert "can't answer" in message["text"]
    assert message["buttons"] == [{"title": "Talk to a person", "payload": "/contact_human"}]


def test_a_second_clarifying_question_in_a_session_also_offers_a_person() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("nlu_fallback", "muscles how", ranking=RANKING)
    tracker.events = [
        {"event": "session_started"},
        {"event": "action", "name": "action_clarify"},
        {"event": "user", "text": "still unclear"},
    ]
    asyncio.run(ActionClarify().run(dispatcher, tracker, {}))
    payloads = [button["payload"] for button in dispatcher.messages[0]["buttons"]]
    assert payloads == ["/recovery_time", "/reversibility", "/prevention", "/deny", "/contact_human"]
    tracker.events = [{"event": "action", "name": "action_clarify"}, {"event": "session_started"}]
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionClarify().run(dispatcher, tracker, {}))  # a new session: the first one again
    assert "/contact_human" not in [button["payload"] for button in dispatcher.messages[0]["buttons"]]


def test_cannot_answer_gives_the_clinics_contact() -> None:
    (message,) = run(ActionCannotAnswer(), RANKING)
    assert "can't answer" in message["text"] and "synapse.com.my" in message["text"]
    assert message["buttons"] == [{"title": "Talk to a person", "payload": "/contact_human"}]
