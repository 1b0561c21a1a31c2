"""The one WhatsApp channel: what both providers share, from the webhook to Rasa and back.

A provider (``channels/twilio_whatsapp.py``, ``channels/whatsapp_cloud.py``) holds only
what differs: its settings, its signature check and payload parsing (``read``), its
replies (``output``) and how its webhook is answered. Everything else is here: each
message is handled before the webhook is answered and at most once on any replica
(``whatsapp_common.Deliveries``), the patient's choice of a numbered option or button is
read back from the conversation, and a photo, a voice note or an overlong text gets a
polite reply instead of silence.
"""

from __future__ import annotations

import abc
import asyncio
import functools
import logging
import time
from typing import Any, ClassVar, List, Optional, Type, Union

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.whatsapp_common import (
    Deliveries,
    MessageHandler,
    Outbox,
    channel_status,
    last_turn,
    not_configured,
    sender_id,
    stored_message_id,
)
from channels.whatsapp_text import Inbound, chosen_payload, offered_payload
from core import messages
from core.language import reply_language
from core.message_rules import RejectedMessage, clean_message
from core.settings import Settings, get_settings
from handoff import addresses
from handoff.schema import engine_for

logger = logging.getLogger(__name__)


class WhatsAppProvider(abc.ABC):
    """What one WhatsApp provider does its own way."""

    #: Shown in logs and in the 503 of an unconfigured webhook.
    label: ClassVar[str]
    #: The webhook's path, for the start-up log line.
    webhook_path: ClassVar[str]

    def __init__(self, sender_hash_key: str) -> None:
        """Hashes phone numbers and message ids with ``sender_hash_key``."""
        self.sender_hash_key = sender_hash_key

    @classmethod
    @abc.abstractmethod
    def unset_variables(cls, settings: Settings) -> List[str]:
        """Returns the environment variables the provider needs that are not set."""

    @classmethod
    @abc.abstractmethod
    def from_settings(cls, settings: Settings) -> WhatsAppProvider:
        """Builds the provider from complete settings."""

    @abc.abstractmethod
    async def read(self, request: Request) -> Union[List[Inbound], HTTPResponse]:
        """Checks the request's signature and reads its messages, or returns the error answer."""

    @abc.abstractmethod
    def output(self, outbox: Outbox, number: str) -> OutputChannel:
        """Returns the output channel that replies to ``number``."""

    @abc.abstractmethod
    def acknowledged(self) -> HTTPResponse:
        """The webhook's answer once every message of the request was handled."""

    @abc.abstractmethod
    def retry_later(self) -> HTTPResponse:
        """The webhook's 503 when a message could not be handled, so the provider redelivers."""


def configured_provider(provider: Type[WhatsAppProvider], settings: Settings) -> Optional[WhatsAppProvider]:
    """Returns ``provider`` built from ``settings``, or None while a variable it needs is unset.

    Logs the channel's one start-up line either way.
    """
    missing = provider.unset_variables(settings)
    if missing:
        logger.info(
            "%s is not configured (unset: %s): %s answers 503.",
            provider.label,
            ", ".join(missing),
            provider.webhook_path,
        )
        return None
    logger.info("%s is configured: webhook at %s.", provider.label, provider.webhook_path)
    return provider.from_settings(settings)


class WhatsAppInput(InputChannel):
    """The WhatsApp webhook of one provider: verified, read, handled before it is answered."""

    #: The provider a subclass serves.
    provider_class: ClassVar[Type[WhatsAppProvider]]

    @classmethod
    def from_credentials(cls, credentials: Optional[Any]) -> InputChannel:
        """Builds the channel from the settings (``credentials.yml`` only names the channel)."""
        return cls(configured_provider(cls.provider_class, get_settings()))

    def __init__(self, provider: Optional[WhatsAppProvider]) -> None:
        """Serves ``provider``, or answers 503 when it is None (not configured)."""
        self.provider = provider
        self.outbox = Outbox(self.provider_class.label)
        self.deliveries = Deliveries(self.name())

    def blueprint(self, on_new_message: MessageHandler) -> Blueprint:
        """Returns the routes: ``GET /`` (status) and ``POST /webhook``."""
        webhook = Blueprint(f"{self.name()}_whatsapp_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return channel_status(self.provider_class.label, self.provider is not None)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        @webhook.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.deliveries.close()
            await self.outbox.close()

        return webhook

    async def _receive(self, request: Request, on_new_message: MessageHandler) -> HTTPResponse:
        provider = self.provider
        if provider is None:
            return not_configured(self.provider_class.label)
        inbound = await provider.read(request)
        if isinstance(inbound, HTTPResponse):
            return inbound
        agent = getattr(request.app.ctx, "agent", None)
        for message in inbound:
            conversation = sender_id(message.number, provider.sender_hash_key)
            output = provider.output(self.outbox, message.number)
            stored_id = stored_message_id(message.message_id, provider.sender_hash_key)
            job = functools.partial(
                self._answer, agent, on_new_message, output, conversation, message, stored_id
            )
            apologise = functools.partial(_apologise, output, conversation, message.text)
            if not await self.deliveries.handle(stored_id, conversation, job, apologise):
                # Not handled (the tracker database failed), and the patient was told; the
                # provider redelivers, and the messages already handled are skipped then.
                return provider.retry_later()
        return provider.acknowledged()

    async def _answer(
        self,
        agent: Any,
        on_new_message: MessageHandler,
        output: OutputChannel,
        conversation: str,
        message: Inbound,
        stored_id: Optional[str],
    ) -> None:
        turn = await last_turn(agent, conversation)
        text = offered_payload(message.payload, turn.buttons) if message.kind == "choice" else None
        if text is None:
            try:
                if message.kind == "unreadable":
                    raise RejectedMessage("not text")
                text = clean_message(message.text)
            except RejectedMessage:
                if message.kind == "unreadable" or len(message.text) > get_settings().core.max_message_chars:
                    await _refuse(output, conversation, reply_language(message.text, turn.language))
                return
            text = chosen_payload(text, turn.buttons) or text
        # Kept so that a member of staff can still write to the patient (handoff/addresses.py).
        await asyncio.to_thread(
            addresses.remember,
            engine_for(get_settings().core.tracker_db_url),
            conversation,
            self.name(),
            message.number,
            get_settings().whatsapp.sender_hash_key or "",
            time.time(),
        )
        await on_new_message(
            UserMessage(text, output, conversation, input_channel=self.name(), message_id=stored_id)
        )


async def _apologise(output: OutputChannel, conversation: str, text: str) -> None:
    """Tells the patient the message was not handled: try again, or contact the clinic."""
    await output.send_text_message(
        conversation, messages.with_contact("action_unavailable", reply_language(text))
    )


async def _refuse(output: OutputChannel, conversation: str, language: str) -> None:
    """Tells the patient what the assistant can read: text, up to the longest message."""
    limit = str(get_settings().core.max_message_chars)
    await output.send_text_message(conversation, messages.text("whatsapp_unreadable", language, limit=limit))
