"""Erasing the conversation: asked to confirm, then told it is done (the Rasa server erases)."""

from __future__ import annotations

import asyncio

from rasa_sdk.executor import CollectingDispatcher

from actions.erasure import ActionConfirmErasure, ActionEraseConversation
from core import messages
from tests.actions.conftest import make_tracker


def test_the_patient_is_asked_to_confirm_with_yes_and_no() -> None:
    dispatcher = CollectingDispatcher()
    asyncio.run(
        ActionConfirmErasure().run(dispatcher, make_tracker("erase_conversation", "padam perbualan saya"), {})
    )
    (message,) = dispatcher.messages
    assert message["text"] == messages.text("erase_confirm", "ms")
    assert [button["payload"] for button in message["buttons"]] == ["/erase_confirmed", "/deny"]
    assert message["buttons"][0]["title"] == messages.text("erase_yes", "ms")


def test_the_confirmation_says_it_is_done() -> None:
    dispatcher = CollectingDispatcher()
    asyncio.run(
        ActionEraseConversation().run(dispatcher, make_tracker("erase_confirmed", "/erase_confirmed"), {})
    )
    assert dispatcher.messages[0]["text"] == messages.text("erased", "en")
