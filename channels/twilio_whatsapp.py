"""WhatsApp through Twilio at ``/webhooks/twilio/webhook``, in place of Rasa's ``TwilioInput``.

Rasa's own channel trusts any POST, fails on one without ``Body`` and sends with a
blocking client inside the event loop. This provider answers 403 unless
``X-Twilio-Signature`` is valid for ``PUBLIC_BASE_URL`` + the path, 400 for a missing or
empty body, and replies through Twilio's REST API with aiohttp; buttons become a numbered
list, and the patient answers with the number or the title. The rest is the one WhatsApp
channel's (``channels/whatsapp_channel.py``).
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Union
from urllib.parse import parse_qs

import aiohttp
from rasa.core.channels.channel import OutputChannel
from sanic import response
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from channels.whatsapp_channel import WhatsAppInput, WhatsAppProvider
from channels.whatsapp_common import Outbox
from channels.whatsapp_text import Button, Inbound, numbered_options, split_text
from core.message_rules import visible_text
from core.settings import Settings, TwilioSettings, WhatsAppSettings, unset_variables

# Twilio refuses a message body longer than this.
MAX_CHARS = 1600
# Seconds Twilio is asked to wait before retrying a message that failed.
RETRY_AFTER_S = "5"
# Replies go through the REST API, so the webhook's own answer says nothing.
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


class TwilioProvider(WhatsAppProvider):
    """The Twilio account, the clinic's WhatsApp number and where the webhook is public."""

    label = "WhatsApp through Twilio"
    webhook_path = "/webhooks/twilio/webhook"

    def __init__(self, twilio: TwilioSettings, whatsapp: WhatsAppSettings) -> None:
        """Serves the account and number of complete settings (see ``unset_variables``)."""
        super().__init__(str(whatsapp.sender_hash_key))
        self.account_sid, self.auth_token = str(twilio.account_sid), str(twilio.auth_token)
        self.public_base_url = str(whatsapp.public_base_url)
        self.messages_url = (
            f"{twilio.api_base_url.rstrip('/')}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        )
        # The clinic's number as Twilio's ``From``, ``whatsapp:+…``.
        number = str(twilio.whatsapp_number)
        self.sender = number if number.startswith("whatsapp:") else f"whatsapp:{number}"

    @classmethod
    def unset_variables(cls, settings: Settings) -> List[str]:
        """Returns the unset variables among the account, the number, the public address and the key."""
        needed = unset_variables(settings.twilio, "account_sid", "auth_token", "whatsapp_number")
        return needed + unset_variables(settings.whatsapp, "public_base_url", "sender_hash_key")

    @classmethod
    def from_settings(cls, settings: Settings) -> TwilioProvider:
        """Builds the provider from complete settings."""
        return cls(settings.twilio, settings.whatsapp)

    async def read(self, request: Request) -> Union[List[Inbound], HTTPResponse]:
        """Checks ``X-Twilio-Signature`` and reads the one message of the form."""
        form = _form(request)
        url = signed_url(self.public_base_url, request.path, request.query_string)
        if not signature_valid(self.auth_token, url, form, request.headers.get("X-Twilio-Signature")):
            return response.text("Forbidden: missing or invalid X-Twilio-Signature", status=403)
        number, raw = form.get("From"), form.get("Body") or ""
        if not number:
            return response.text("'From' is missing", status=400)
        kind = "text"
        if not visible_text(raw):
            if not _has_media(form):
                return response.text("'Body' is missing or empty", status=400)
            kind = "unreadable"  # a photo or a voice note: told what works
        return [Inbound(message_id=form.get("MessageSid") or "", number=number, kind=kind, text=raw)]

    def output(self, outbox: Outbox, number: str) -> OutputChannel:
        """Replies from the clinic's number to ``number`` (``whatsapp:+…``)."""
        return TwilioWhatsAppOutput(self, outbox, number)

    def acknowledged(self) -> HTTPResponse:
        """An empty TwiML answer: the replies went through the REST API."""
        return response.text(_EMPTY_TWIML, content_type="text/xml")

    def retry_later(self) -> HTTPResponse:
        """503 with Retry-After; Twilio retries when the webhook URL asks it to (docs/security.md)."""
        return response.text(
            "The message could not be handled; send it again shortly.",
            status=503,
            headers={"Retry-After": RETRY_AFTER_S},
        )


class TwilioWhatsAppOutput(OutputChannel):
    """Replies to one patient; holds their number only while the reply is being sent."""

    def __init__(self, provider: TwilioProvider, outbox: Outbox, recipient: str) -> None:
        """Replies from the clinic's number to ``recipient`` (``whatsapp:+…``)."""
        self.provider = provider
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
            self.provider.messages_url,
            data={"To": self.recipient, "From": self.provider.sender, **fields},
            auth=aiohttp.BasicAuth(self.provider.account_sid, self.provider.auth_token),
        )


class TwilioWhatsAppInput(WhatsAppInput):
    """The Twilio WhatsApp webhook."""

    provider_class = TwilioProvider

    @classmethod
    def name(cls) -> str:
        """Keeps Rasa's path for Twilio, ``/webhooks/twilio/webhook``."""
        return "twilio"


def _form(request: Request) -> RequestParameters:
    # Sanic's request.form drops empty fields, but Twilio signs them: a photo arrives
    # with an empty Body, which must stay in the signed parameters.
    if not (request.content_type or "").startswith("application/x-www-form-urlencoded"):
        return RequestParameters()
    return RequestParameters(parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True))


def _has_media(form: RequestParameters) -> bool:
    return str(form.get("NumMedia") or "0").strip() not in ("", "0")
