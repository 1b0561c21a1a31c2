"""WhatsApp through Twilio at ``/webhooks/twilio/webhook``, in place of Rasa's ``TwilioInput``.

Rasa's own channel trusts any POST, fails on one without ``Body`` and sends with a
blocking client inside the event loop. This one answers 403 unless ``X-Twilio-Signature``
is valid for ``PUBLIC_BASE_URL`` + the path, 400 for a missing or empty body, handles
the message before answering (503 when the tracker database fails, see
``whatsapp_common.Deliveries``) and replies through Twilio's REST API with aiohttp. Buttons
become a numbered list; the patient answers with the number or the title. Conversations
are stored under a keyed hash of the number (see ``whatsapp_common.sender_id``).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional
from urllib.parse import parse_qs

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from assistant import messages
from assistant.inbound import RejectedMessage, clean_message
from assistant.language import reply_language
from assistant.settings import TWILIO_API_DEFAULT, get_settings
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
from channels.whatsapp_text import Button, chosen_payload, numbered_options, split_text

logger = logging.getLogger(__name__)

PROVIDER = "WhatsApp through Twilio"
WEBHOOK_PATH = "/webhooks/twilio/webhook"
# Twilio refuses a message body longer than this.
MAX_CHARS = 1600
_VARIABLES = {
    "account_sid": "TWILIO_ACCOUNT_SID",
    "auth_token": "TWILIO_AUTH_TOKEN",
    "whatsapp_number": "TWILIO_WHATSAPP_NUMBER",
    "public_base_url": "PUBLIC_BASE_URL",
    "sender_hash_key": "SENDER_HASH_KEY",
}
# Replies go through the REST API, so the webhook's own answer says nothing.
# Seconds a provider is asked to wait before retrying a message that failed.
RETRY_AFTER_S = "5"
_EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def signed_url(public_base_url: str, path: str, query_string: str = "") -> str:
    """Returns the URL Twilio signed: the public address, the request's path and query."""
    url = public_base_url.rstrip("/") + path
    return f"{url}?{query_string}" if query_string else url


def signature_valid(auth_token: str, url: str, params: Mapping[str, Any], signature: Optional[str]) -> bool:
    """Returns whether ``signature`` is Twilio's signature of ``url`` and the POST ``params``."""
    if not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, params, signature))


@dataclass(frozen=True)
class TwilioConfig:
    """The Twilio account, the clinic's WhatsApp number and where the webhook is public."""

    account_sid: str
    auth_token: str
    whatsapp_number: str
    public_base_url: str
    sender_hash_key: str
    api_base_url: str = TWILIO_API_DEFAULT

    @property
    def messages_url(self) -> str:
        """Twilio's endpoint that sends a message."""
        return f"{self.api_base_url.rstrip('/')}/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    @property
    def sender(self) -> str:
        """The clinic's number as Twilio's ``From``, ``whatsapp:+…``."""
        number = self.whatsapp_number
        return number if number.startswith("whatsapp:") else f"whatsapp:{number}"


class TwilioWhatsAppOutput(OutputChannel):
    """Replies to one patient; holds their number only while the reply is being sent."""

    def __init__(self, config: TwilioConfig, outbox: Outbox, recipient: str) -> None:
        """Replies from the clinic's number to ``recipient`` (``whatsapp:+…``)."""
        self.config = config
        self.outbox = outbox
        self.recipient = recipient

    @classmethod
    def name(cls) -> str:
        """The channel's name, as the input channel's."""
        return "twilio"

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Sends ``text``, split at paragraphs into messages Twilio accepts."""
        for piece in split_text(text, MAX_CHARS):
            await self._post({"Body": piece})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Button], **kwargs: Any
    ) -> None:
        """Sends ``text`` with the buttons as numbered options."""
        await self.send_text_message(recipient_id, numbered_options(text, buttons))

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: List[Button], **kwargs: Any
    ) -> None:
        """Sends quick replies as numbered options, like buttons."""
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """Sends an image by its URL."""
        await self._post({"MediaUrl": image})

    async def _post(self, fields: Dict[str, str]) -> None:
        await self.outbox.post(
            self.config.messages_url,
            data={"To": self.recipient, "From": self.config.sender, **fields},
            auth=aiohttp.BasicAuth(self.config.account_sid, self.config.auth_token),
        )


class TwilioWhatsAppInput(InputChannel):
    """The Twilio WhatsApp webhook: verified, validated, handled before it is answered."""

    @classmethod
    def name(cls) -> str:
        """Keeps Rasa's path for Twilio, ``/webhooks/twilio/webhook``."""
        return "twilio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        """Builds the channel from ``credentials.yml``; unconfigured when a value is empty."""
        values = configured_values(PROVIDER, WEBHOOK_PATH, credentials, _VARIABLES, TWILIO_API_DEFAULT)
        return cls(None if values is None else TwilioConfig(**values))

    def __init__(self, config: Optional[TwilioConfig]) -> None:
        """Serves ``config``'s account, or answers 503 when it is None."""
        self.config = config
        self.outbox = Outbox(PROVIDER)
        self.deliveries = Deliveries("twilio")

    def blueprint(self, on_new_message: MessageHandler) -> Blueprint:
        """Returns the routes: ``GET /`` (status) and ``POST /webhook``."""
        webhook = Blueprint("twilio_whatsapp_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return channel_status(PROVIDER, self.config is not None)

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
        url = signed_url(config.public_base_url, request.path, request.query_string)
        form = _form(request)
        if not signature_valid(config.auth_token, url, form, request.headers.get("X-Twilio-Signature")):
            return response.text("Forbidden: missing or invalid X-Twilio-Signature", status=403)
        number = form.get("From")
        raw = form.get("Body")
        if not number:
            return response.text("'From' is missing", status=400)
        conversation = sender_id(number, config.sender_hash_key)
        output = TwilioWhatsAppOutput(config, self.outbox, number)
        agent = getattr(request.app.ctx, "agent", None)
        stored_id = stored_message_id(form.get("MessageSid"), config.sender_hash_key)
        job: Callable[[], Awaitable[None]]
        try:
            text = clean_message(raw)
            job = functools.partial(
                self._answer, agent, on_new_message, output, conversation, text, stored_id
            )
        except RejectedMessage:
            if not (_has_media(form) or len(raw or "") > get_settings().max_message_chars):
                return response.text("'Body' is missing or empty", status=400)
            # A photo, a voice note or an overlong text: tell the patient what works.
            job = functools.partial(_refuse, agent, output, conversation, raw or "")
        apologise = functools.partial(_apologise, output, conversation, raw or "")
        if not await self.deliveries.handle(stored_id, conversation, job, apologise):
            # Not handled (the tracker database failed), and the patient was told. Twilio
            # retries when the webhook URL carries its connection overrides (docs/security.md).
            return response.text(
                "The message could not be handled; send it again shortly.",
                status=503,
                headers={"Retry-After": RETRY_AFTER_S},
            )
        return response.text(_EMPTY_TWIML, content_type="text/xml")

    async def _answer(
        self,
        agent: Any,
        on_new_message: MessageHandler,
        output: TwilioWhatsAppOutput,
        conversation: str,
        text: str,
        message_id: Optional[str],
    ) -> None:
        offered = (await last_turn(agent, conversation)).buttons
        text = chosen_payload(text, offered) or text
        await on_new_message(
            UserMessage(text, output, conversation, input_channel=self.name(), message_id=message_id)
        )


def _form(request: Request) -> RequestParameters:
    # Sanic's request.form drops empty fields, but Twilio signs them: a photo arrives
    # with an empty Body, which must stay in the signed parameters.
    if not (request.content_type or "").startswith("application/x-www-form-urlencoded"):
        return RequestParameters()
    return RequestParameters(parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True))


def _has_media(form: RequestParameters) -> bool:
    return str(form.get("NumMedia") or "0").strip() not in ("", "0")


async def _apologise(output: OutputChannel, conversation: str, raw: str) -> None:
    """Tells the patient the message was not handled: try again, or contact the clinic."""
    text = messages.with_contact("action_unavailable", reply_language(raw))
    await output.send_text_message(conversation, text)


async def _refuse(agent: Any, output: OutputChannel, conversation: str, raw: str) -> None:
    language = reply_language(raw, (await last_turn(agent, conversation)).language)
    limit = str(get_settings().max_message_chars)
    await output.send_text_message(conversation, messages.text("whatsapp_unreadable", language, limit=limit))
