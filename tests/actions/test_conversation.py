"""Conversation actions: greeting, contact, emergency, out of scope."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import conversation, handoff
from core.clinic import get_clinic
from tests.actions.conftest import make_tracker


def run(action: Any, text: str = "hi") -> List[Dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    asyncio.run(action.run(dispatcher, make_tracker("any", text), {}))
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


def test_every_reply_action_has_a_message_and_a_unique_name() -> None:
    names = {cls().name() for cls in conversation.ReplyAction.__subclasses__()}
    assert len(names) == len(conversation.ReplyAction.__subclasses__())
    for cls in conversation.ReplyAction.__subclasses__():
        assert run(cls())[0]["text"].strip()
