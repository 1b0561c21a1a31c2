"""Meta's WhatsApp Cloud API at ``/webhooks/whatsapp/webhook``.

``GET`` answers Meta's subscription check (``hub.verify_token``, constant-time compare).
``POST`` answers 403 unless ``X-Hub-Signature-256`` is the HMAC-SHA256 of the raw body
with the app secret; delivery and read receipts are skipped, and messages sent to another
number id ignored. Replies go through the Graph API with aiohttp: reply buttons or a list
when the bot offers buttons, text otherwise. The rest is the one WhatsApp channel's
(``channels/whatsapp_channel.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any, Dict, List, Mapping, Optional, Union

from rasa.core.channels.channel import OutputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.whatsapp_channel import WhatsAppInput, WhatsAppProvider
from channels.whatsapp_cloud_format import (
    BODY_MAX,
    TEXT_MAX,
    inbound_messages,
    interactive_message,
    separate_rating,
    text_message,
)
from channels.whatsapp_common import MessageHandler, Outbox, not_configured
from channels.whatsapp_text import Button, Inbound, message_language, numbered_options, split_text
from core import messages
from core.settings import MetaSettings, Settings, WhatsAppSettings, unset_variables

logger = logging.getLogger(__name__)

_SIGNATURE_PREFIX = "sha256="
# Seconds Meta is asked to wait before redelivering a message that failed.
RETRY_AFTER_S = "5"


def signature_valid(app_secret: str, body: bytes, header: Optional[str]) -> bool:
    """Returns whether ``header`` is ``sha256=`` + hex HMAC-SHA256(app secret, raw body)."""
    if not header or not header.startswith(_SIGNATURE_PREFIX):
        return False
    expected = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    given = header[len(_SIGNATURE_PREFIX) :].strip().lower()
    return hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "replace"))


def verification_challenge(verify_token: str, query: Mapping[str, Any]) -> Optional[str]:
    """Returns the ``hub.challenge`` to echo when Meta's subscription check is genuine."""
    mode, token, challenge = (query.get(f"hub.{name}") for name in ("mode", "verify_token", "challenge"))
    if mode != "subscribe" or not isinstance(token, str) or not isinstance(challenge, str) or not challenge:
        return None
    if not hmac.compare_digest(token.encode("utf-8"), verify_token.encode("utf-8")):
        return None
    return challenge


class MetaProvider(WhatsAppProvider):
    """The Meta app and the WhatsApp business number the channel serves."""

    label = "WhatsApp Cloud API"
    webhook_path = "/webhooks/whatsapp/webhook"

    def __init__(self, meta: MetaSettings, whatsapp: WhatsAppSettings) -> None:
        """Serves the app and number of complete settings (see ``unset_variables``)."""
        super().__init__(str(whatsapp.sender_hash_key))
        self.verify_token, self.app_secret = str(meta.verify_token), str(meta.app_secret)
        self.access_token, self.phone_number_id = str(meta.access_token), str(meta.phone_number_id)
        # The Graph API endpoint that sends from the clinic's number.
        self.messages_url = f"{meta.api_base_url.rstrip('/')}/{self.phone_number_id}/messages"

    @classmethod
    def unset_variables(cls, settings: Settings) -> List[str]:
        """Returns the unset variables among the app's, the number id and the key."""
        needed = unset_variables(
            settings.meta, "verify_token", "app_secret", "access_token", "phone_number_id"
        )
        return needed + unset_variables(settings.whatsapp, "sender_hash_key")

    @classmethod
    def from_settings(cls, settings: Settings) -> MetaProvider:
        """Builds the provider from complete settings."""
        return cls(settings.meta, settings.whatsapp)

    async def read(self, request: Request) -> Union[List[Inbound], HTTPResponse]:
        """Checks ``X-Hub-Signature-256`` and reads the notification's patient messages."""
        body = request.body or b""
        if not signature_valid(self.app_secret, body, request.headers.get("X-Hub-Signature-256")):
            return response.text("Forbidden: missing or invalid X-Hub-Signature-256", status=403)
        try:
            notification = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
            return response.text("The body must be JSON", status=400)
        if not isinstance(notification, dict):
            return response.text("The body must be a JSON object", status=400)
        found = []
        for message in inbound_messages(notification):
            if message.phone_number_id and message.phone_number_id != self.phone_number_id:
                logger.warning("Ignoring a message sent to another WhatsApp number id.")
                continue
            found.append(message)
        return found

    def output(self, outbox: Outbox, number: str) -> OutputChannel:
        """Replies from the clinic's number to ``number`` (digits, as Meta sends them)."""
        return WhatsAppCloudOutput(self, outbox, number)

    def acknowledged(self) -> HTTPResponse:
        """``{"status": "received"}``."""
        return response.json({"status": "received"})

    def retry_later(self) -> HTTPResponse:
        """503 with Retry-After: Meta redelivers the whole notification."""
        return response.json(
            {"error": "The message could not be handled; send it again shortly."},
            status=503,
            headers={"Retry-After": RETRY_AFTER_S},
        )


class WhatsAppCloudOutput(OutputChannel):
    """Replies to one patient; holds their number only while the reply is being sent."""

    def __init__(self, provider: MetaProvider, outbox: Outbox, recipient: str) -> None:
        """Replies from the clinic's number to ``recipient`` (digits, as Meta sends them)."""
        self.provider = provider
        self.outbox = outbox
        self.recipient = recipient

    @classmethod
    def name(cls) -> str:
        """The channel's name, as the input channel's."""
        return "whatsapp"

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Sends ``text``, split at paragraphs into messages the API accepts."""
        for piece in split_text(text, TEXT_MAX):
            await self._post(text_message(piece))

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Button], **kwargs: Any
    ) -> None:
        """Sends ``text`` with reply buttons or a list; numbered options when neither fits.

        A rating that would not fit beside the other buttons follows in a message of its own.
        """
        language = message_language(text, buttons)
        buttons, rating = separate_rating(buttons)
        await self._send_choices(recipient_id, text, buttons, language)
        if rating:
            await self._send_choices(recipient_id, messages.text("rate_question", language), rating, language)

    async def _send_choices(self, recipient_id: str, text: str, buttons: List[Button], language: str) -> None:
        """Sends ``text`` ending in one interactive message, or as numbered options."""
        pieces = split_text(text, TEXT_MAX)
        body = (
            pieces.pop()
            if pieces and len(pieces[-1]) <= BODY_MAX
            else messages.text("whatsapp_choose", language)
        )
        interactive = interactive_message(body, buttons, language)
        if interactive is None:
            await self.send_text_message(recipient_id, numbered_options(text, buttons))
            return
        for piece in pieces:
            await self._post(text_message(piece))
        await self._post({"type": "interactive", "interactive": interactive})

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: List[Button], **kwargs: Any
    ) -> None:
        """Sends quick replies like buttons."""
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """Sends an image by its URL."""
        await self._post({"type": "image", "image": {"link": image}})

    async def _post(self, message: Dict[str, Any]) -> None:
        await self.outbox.post(
            self.provider.messages_url,
            json={
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": self.recipient,
                **message,
            },
            headers={"Authorization": f"Bearer {self.provider.access_token}"},
        )


class WhatsAppCloudInput(WhatsAppInput):
    """The WhatsApp Cloud API webhook, with Meta's subscription check."""

    provider_class = MetaProvider

    @classmethod
    def name(cls) -> str:
        """Serves ``/webhooks/whatsapp/webhook``."""
        return "whatsapp"

    def blueprint(self, on_new_message: MessageHandler) -> Blueprint:
        """Returns the channel's routes plus ``GET /webhook``, Meta's subscription check."""
        webhook = super().blueprint(on_new_message)

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if not isinstance(self.provider, MetaProvider):
                return not_configured(MetaProvider.label)
            query = {name: request.args.get(name) for name in request.args}
            challenge = verification_challenge(self.provider.verify_token, query)
            if challenge is None:
                return response.text("Forbidden: verification failed", status=403)
            return response.text(challenge)

        return webhook
