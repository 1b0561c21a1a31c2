"""Conversation actions: greeting, contact, emergency, out of scope."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import conversation, handoff
from core import messages
from core.clinic import get_clinic
from core.settings import get_settings
from tests.actions.conftest import make_tracker


def run(
    action: Any, text: str = "hi", ranking: Optional[List[Dict[str, Any]]] = None
) -> List[Dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    asyncio.run(action.run(dispatcher, make_tracker("any", text, ranking=ranking), {}))
    return dispatcher.messages


def test_greeting_says_what_it_answers_and_the_disclaimer() -> None:
    messages = run(conversation.ActionGreet(), "hello")
    text = " ".join(message["text"] for message in messages)
    assert get_clinic().name in text and "not a diagnosis" in text
    assert messages[-1]["buttons"]


def test_greeting_in_malay() -> None:
    text = " ".join(message["text"] for message in run(conversation.ActionGreet(), "selamat pagi"))
    assert "bukan diagnosis" in text


def test_emergency_sends_to_999_before_anything_else() -> None:
    messages = run(conversation.ActionEmergency(), "my father suddenly cannot move his left arm")
    assert messages[0]["text"].startswith("If this is an emergency, call 999")


@pytest.mark.parametrize(
    "action",
    [
        conversation.ActionBookAppointment(),
        handoff.ActionContactHuman(),  # over the REST API (no live channel): the contact details
        conversation.ActionOutOfScope(),
        conversation.ActionBotChallenge(),
    ],
)
def test_contact_replies_show_configured_details_only(action: Any) -> None:
    text = run(action)[0]["text"]
    clinic = get_clinic()
    for _, value in clinic.contact_fields():
        assert value in text
    assert "None" not in text and "{" not in text


def test_out_of_scope_offers_what_it_can_answer() -> None:
    assert len(run(conversation.ActionOutOfScope(), "how much is a session")[0]["buttons"]) >= 3


def test_out_of_scope_offers_the_messages_likeliest_topics_first() -> None:
    ranking = [
        {"name": "out_of_scope", "confidence": 0.6},
        {"name": "greet", "confidence": 0.2},
        {"name": "recovery_time", "confidence": 0.1},
        {"name": "physical_therapy", "confidence": 0.06},
        {"name": "reversibility", "confidence": 0.03},
        {"name": "surgery", "confidence": 0.01},
    ]
    (message,) = run(conversation.ActionOutOfScope(), "how many weeks till I can run after my cast", ranking)
    assert "can't answer" in message["text"]
    assert [button["payload"] for button in message["buttons"]] == [
        "/recovery_time",
        "/physical_therapy",
        "/reversibility",
    ]


def test_every_reply_action_has_a_message_and_a_unique_name() -> None:
    names = {cls().name() for cls in conversation.ReplyAction.__subclasses__()}
    assert len(names) == len(conversation.ReplyAction.__subclasses__())
    for cls in conversation.ReplyAction.__subclasses__():
        assert run(cls())[0]["text"].strip()


def test_the_greeting_says_how_long_it_is_kept_and_links_the_privacy_notice_when_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    line = messages.text("privacy_line", "en", days="180")
    assert conversation.greeting("en").endswith(f"\n{line}")  # one line, no link while none is set
    monkeypatch.setenv("CLINIC_PRIVACY_NOTICE_URL", "https://clinic.example/privacy")
    monkeypatch.setenv("RETENTION_DAYS", "90")
    get_settings.cache_clear()
    get_clinic.cache_clear()
    try:
        kept = messages.text("privacy_line", "ms", days="90")
        notice = messages.text("privacy_notice", "ms", url="https://clinic.example/privacy")
        assert conversation.greeting("ms").endswith(f"\n{kept} {notice}")
    finally:
        get_settings.cache_clear()
        get_clinic.cache_clear()
