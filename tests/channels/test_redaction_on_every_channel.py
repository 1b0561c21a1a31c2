"""The redaction corpus through the web chat and both WhatsApp webhooks, checked in the real store.

``test_redaction_in_store.py`` sends it over REST; every channel passes its text through the
same ``clean_message``, and this proves it end to end for socket.io, Twilio and Meta.
"""

from __future__ import annotations

import asyncio

import pytest

from bench.socketio_traffic import socketio_conversations
from tests.channels import test_twilio_whatsapp as twilio
from tests.channels import test_whatsapp_cloud as meta
from tests.channels.conftest import WhatsAppBot
from tests.channels.stored_values import stored_values
from tests.core.redaction_corpus import IDENTIFYING, leaked
from tooling.running_bot import RunningBot

pytestmark = pytest.mark.servers


def test_no_identifying_form_reaches_the_store_through_twilio_or_meta(whatsapp_bot: WhatsAppBot) -> None:
    for index, (message, _) in enumerate(IDENTIFYING):
        if index % 2:
            twilio.send(whatsapp_bot, twilio.new_number(), message)
        else:
            meta.send(whatsapp_bot, meta.new_number(), meta.text(message))
    # Each webhook answers once its message is handled and stored.
    assert leaked(stored_values(whatsapp_bot.bot.tracker_db)) == []


def test_no_identifying_form_reaches_the_store_through_the_web_chat(bot: RunningBot) -> None:
    forms = [message for message, _ in IDENTIFYING]
    # Fresh sessions of five messages: within a socket's burst, so none is refused for speed.
    scripts = {f"redaction-{start}": forms[start : start + 5] for start in range(0, len(forms), 5)}
    run = asyncio.run(socketio_conversations(bot.rasa_url, scripts, at_once=16))
    assert run.errors == 0, [sample for sample in run.samples if not sample.ok][:5]
    assert len(run.samples) == len(forms)  # each one answered, so handled and stored
    assert leaked(stored_values(bot.tracker_db)) == []
