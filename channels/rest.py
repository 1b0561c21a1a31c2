"""The REST channel (`/webhooks/rest/webhook`) with input checks and redaction."""

from __future__ import annotations

from typing import Any, Dict, Optional

from rasa.core.channels.rest import RestInput
from sanic.exceptions import InvalidUsage
from sanic.request import Request

from assistant.inbound import RejectedMessage, clean_message, clean_sender


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
