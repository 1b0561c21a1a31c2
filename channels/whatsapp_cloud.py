"""Meta's WhatsApp Cloud API at ``/webhooks/whatsapp/webhook``.

``GET`` answers Meta's subscription check (``hub.verify_token``, constant-time compare).
``POST`` answers 403 unless ``X-Hub-Signature-256`` is the HMAC-SHA256 of the raw body
with the app secret, then handles the messages before answering: duplicates (same
message id, on any replica) once, receipts not at all; 503 when the tracker database
fails, so Meta redelivers (see ``whatsapp_common.Deliveries``). Replies go through
the Graph API with aiohttp: reply buttons or a list when the bot offers buttons, text
otherwise. Conversations are stored under a keyed hash of the number.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from assistant import messages
from assistant.inbound import RejectedMessage, clean_message
from assistant.language import reply_language
from assistant.settings import WHATSAPP_API_DEFAULT, get_settings
from channels.whatsapp_cloud_format import (
    BODY_MAX,
    TEXT_MAX,
    Inbound,
    inbound_messages,
    interactive_message,
    text_message,
)
from channels.whatsapp_common import (
    Deliveries,
    MessageHandler,
    Outbox,
    channel_status,
    configured_values,
    last_turn,
    not_configured,
    sender_id,
    stored_message_id,
)
from channels.whatsapp_text import (
    Button,
    chosen_payload,
    message_language,
    numbered_options,
    offered_payload,
    split_text,
)

logger = logging.getLogger(__name__)

PROVIDER = "WhatsApp Cloud API"
WEBHOOK_PATH = "/webhooks/whatsapp/webhook"
_VARIABLES = {
    "verify_token": "WHATSAPP_VERIFY_TOKEN",
    "app_secret": "WHATSAPP_APP_SECRET",
    "access_token": "WHATSAPP_ACCESS_TOKEN",
    "phone_number_id": "WHATSAPP_PHONE_NUMBER_ID",
    "sender_hash_key": "SENDER_HASH_KEY",
}
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


@dataclass(frozen=True)
class CloudConfig:
    """The Meta app and WhatsApp business number the channel serves."""

    verify_token: str
    app_secret: str
    access_token: str
    phone_number_id: str
    sender_hash_key: str
    api_base_url: str = WHATSAPP_API_DEFAULT

    @property
    def messages_url(self) -> str:
        """The Graph API endpoint that sends from the clinic's number."""
        return f"{self.api_base_url.rstrip('/')}/{self.phone_number_id}/messages"


class WhatsAppCloudOutput(OutputChannel):
    """Replies to one patient; holds their number only while the reply is being sent."""

    def __init__(self, config: CloudConfig, outbox: Outbox, recipient: str) -> None:
        """Replies from the clinic's number to ``recipient`` (digits, as Meta sends them)."""
        self.config = config
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
        """Sends ``text`` with reply buttons or a list; numbered options when neither fits."""
        language = message_language(text, buttons)
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
            self.config.messages_url,
            json={
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": self.recipient,
                **message,
            },
            headers={"Authorization": f"Bearer {self.config.access_token}"},
        )


class WhatsAppCloudInput(InputChannel):
    """The WhatsApp Cloud API webhook: verified, then handled before it is answered."""

    @classmethod
    def name(cls) -> str:
        """Serves ``/webhooks/whatsapp/webhook``."""
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        """Builds the channel from ``credentials.yml``; unconfigured when a value is empty."""
        values = configured_values(PROVIDER, WEBHOOK_PATH, credentials, _VARIABLES, WHATSAPP_API_DEFAULT)
        return cls(None if values is None else CloudConfig(**values))

    def __init__(self, config: Optional[CloudConfig]) -> None:
        """Serves ``config``'s number, or answers 503 when it is None."""
        self.config = config
        self.outbox = Outbox(PROVIDER)
        self.deliveries = Deliveries("whatsapp")

    def blueprint(self, on_new_message: MessageHandler) -> Blueprint:
        """Returns the routes: ``GET /`` (status), ``GET /webhook`` and ``POST /webhook``."""
        webhook = Blueprint("whatsapp_cloud_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return channel_status(PROVIDER, self.config is not None)

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if self.config is None:
                return not_configured(PROVIDER)
            query = {name: request.args.get(name) for name in request.args}
            challenge = verification_challenge(self.config.verify_token, query)
            if challenge is None:
                return response.text("Forbidden: verification failed", status=403)
            return response.text(challenge)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        @webhook.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.deliveries.close()
            await self.outbox.close()

        return webhook

    async def _receive(self, request: Request, on_new_message: MessageHandler) -> HTTPResponse:
        config = self.config
        if config is None:
            return not_configured(PROVIDER)
        body = request.body or b""
        if not signature_valid(config.app_secret, body, request.headers.get("X-Hub-Signature-256")):
            return response.text("Forbidden: missing or invalid X-Hub-Signature-256", status=403)
        try:
            notification = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
            return response.text("The body must be JSON", status=400)
        if not isinstance(notification, dict):
            return response.text("The body must be a JSON object", status=400)
        agent = getattr(request.app.ctx, "agent", None)
        for message in inbound_messages(notification):
            if message.phone_number_id and message.phone_number_id != config.phone_number_id:
                logger.warning("Ignoring a message sent to another WhatsApp number id.")
                continue
            conversation = sender_id(message.number, config.sender_hash_key)
            output = WhatsAppCloudOutput(config, self.outbox, message.number)
            stored_id = stored_message_id(message.message_id, config.sender_hash_key)
            job = functools.partial(
                self._answer, agent, on_new_message, output, conversation, message, stored_id
            )
            apologise = functools.partial(_apologise, output, conversation, message.text)
            if not await self.deliveries.handle(stored_id, conversation, job, apologise):
                # Meta redelivers the whole notification; the messages handled are skipped then.
                return response.json(
                    {"error": "The message could not be handled; send it again shortly."},
                    status=503,
                    headers={"Retry-After": RETRY_AFTER_S},
                )
        return response.json({"status": "received"})

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
                if message.kind == "unreadable" or len(message.text) > get_settings().max_message_chars:
                    await _refuse(output, conversation, reply_language(message.text, turn.language))
                return
            text = chosen_payload(text, turn.buttons) or text
        await on_new_message(
            UserMessage(text, output, conversation, input_channel=self.name(), message_id=stored_id)
        )


async def _apologise(output: OutputChannel, conversation: str, text: str) -> None:
    """Tells the patient the message was not handled: try again, or contact the clinic."""
    await output.send_text_message(
        conversation, messages.with_contact("action_unavailable", reply_language(text))
    )


async def _refuse(output: OutputChannel, conversation: str, language: str) -> None:
    limit = str(get_settings().max_message_chars)
    await output.send_text_message(conversation, messages.text("whatsapp_unreadable", language, limit=limit))
