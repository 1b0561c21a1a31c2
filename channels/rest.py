"""The REST channel (`/webhooks/rest/webhook`) with input checks and redaction.

Rasa's own REST channel answers 200 with no messages when handling a message fails (the
tracker database is down, say), so a client cannot tell a lost message from a silent
bot. This one answers 503 with ``Retry-After`` instead: the message was not stored and
should be sent again.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import BaseHTTPResponse

from core.message_rules import RejectedMessage, clean_message, clean_sender

logger = logging.getLogger(__name__)
RETRY_AFTER_S = "5"


def _body(request: Request) -> Dict[str, Any]:
    body = request.json
    if not isinstance(body, dict):
        raise InvalidUsage("The body must be a JSON object with 'sender' and 'message'.")
    return body


class RedactingRestInput(RestInput):
    """Rasa's REST channel, refusing bad input with 400 and redacting what it accepts."""

    @classmethod
    def name(cls) -> str:
        """Keeps Rasa's path, `/webhooks/rest/webhook`."""
        return "rest"

    async def _extract_sender(self, req: Request) -> Optional[str]:
        try:
            return clean_sender(_body(req).get("sender"))
        except RejectedMessage as error:
            raise InvalidUsage(str(error)) from None

    def _extract_input_channel(self, req: Request) -> str:
        """Always ``rest``: the body's ``input_channel`` would let a client pose as another channel."""
        return self.name()

    def _extract_message(self, req: Request) -> Optional[str]:
        try:
            return clean_message(_body(req).get("message"))
        except RejectedMessage as error:
            raise InvalidUsage(str(error)) from None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's REST routes, with a failed message answered 503 rather than 200 and silence."""
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> BaseHTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> BaseHTTPResponse:
            sender_id = await self._extract_sender(request)
            text = self._extract_message(request)
            collector = CollectingOutputChannel()
            message = UserMessage(text, collector, sender_id, input_channel=self.name(), metadata=None)
            try:
                await on_new_message(message)
            except Exception as error:  # whatever failed, the message was not stored
                # The error's type only: the message may hold personal data.
                logger.error("REST message not handled (%s); answered 503.", type(error).__name__)
                return response.json(
                    {"error": "The assistant cannot take messages right now. Please send it again shortly."},
                    status=503,
                    headers={"Retry-After": RETRY_AFTER_S},
                )
            return response.json(collector.messages)

        return webhook
