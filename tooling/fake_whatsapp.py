"""A local stand-in for Twilio's and Meta's send APIs that records what the bot sends.

A real HTTP server on loopback (port chosen by the OS): the Rasa server posts to it
exactly as it would to api.twilio.com or graph.facebook.com.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import parse_qs

# Test secrets only: the fake provider accepts anything.
SECRETS = {
    "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000001",
    "TWILIO_AUTH_TOKEN": "test-twilio-auth-token",
    "TWILIO_WHATSAPP_NUMBER": "+14155238886",
    "PUBLIC_BASE_URL": "https://assistant.clinic.example",
    "WHATSAPP_VERIFY_TOKEN": "test-verify-token",
    "WHATSAPP_APP_SECRET": "test-app-secret",
    "WHATSAPP_ACCESS_TOKEN": "test-access-token",
    "WHATSAPP_PHONE_NUMBER_ID": "109876543210",
    "SENDER_HASH_KEY": "test-sender-hash-key",
}


@dataclass
class Delivery:
    """One request the bot made to the provider."""

    path: str
    headers: Dict[str, str]
    body: bytes
    received_at: float

    @property
    def form(self) -> Dict[str, str]:
        """The form fields of a Twilio request, one value each."""
        return {key: values[0] for key, values in parse_qs(self.body.decode("utf-8")).items()}

    @property
    def json(self) -> Dict[str, Any]:
        """The JSON body of a Graph API request."""
        return json.loads(self.body)

    @property
    def is_twilio(self) -> bool:
        """Whether this went to Twilio's Messages endpoint."""
        return self.path.endswith("/Messages.json")

    @property
    def recipient(self) -> str:
        """Who the message is for."""
        return self.form.get("To", "") if self.is_twilio else str(self.json.get("to", ""))

    @property
    def text(self) -> str:
        """The visible text: a Twilio body, a Graph text body or interactive body."""
        if self.is_twilio:
            return self.form.get("Body", "")
        message = self.json
        if message.get("type") == "interactive":
            return str(message["interactive"]["body"]["text"])
        return str(message.get("text", {}).get("body", ""))


class FakeProvider:
    """Twilio's ``/2010-04-01/Accounts/{sid}/Messages.json`` and Graph's ``/{id}/messages``."""

    def __init__(self) -> None:
        """Records nothing yet; ``start`` serves."""
        self.deliveries: List[Delivery] = []
        self._changed = threading.Condition()
        self._server: Optional[ThreadingHTTPServer] = None

    def start(self) -> FakeProvider:
        """Serves on a free loopback port in a background thread."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stops serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        """The base URL to give the bot instead of the provider's."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def to(self, recipient: str) -> List[Delivery]:
        """Returns what was sent to ``recipient`` so far, in order."""
        with self._changed:
            return [delivery for delivery in self.deliveries if delivery.recipient == recipient]

    def wait_for(
        self, recipient: str, done: Callable[[List[Delivery]], bool], timeout: float = 60.0
    ) -> List[Delivery]:
        """Waits until what ``recipient`` received satisfies ``done``; returns it.

        Raises:
            AssertionError: With what did arrive, when ``timeout`` passes first.

        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                received = [delivery for delivery in self.deliveries if delivery.recipient == recipient]
                if done(received):
                    return received
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    texts = [delivery.text[:120] for delivery in received]
                    raise AssertionError(f"timed out waiting for the bot's reply; received {texts}")
                self._changed.wait(remaining)

    def _record(self, delivery: Delivery) -> None:
        with self._changed:
            self.deliveries.append(delivery)
            self._changed.notify_all()

    def _handler(self) -> type:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server calls it by this name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                delivery = Delivery(self.path, dict(self.headers.items()), body, time.monotonic())
                if self.path.endswith("/Messages.json"):
                    provider._record(delivery)
                    self._reply(201, {"sid": f"SM{uuid.uuid4().hex}", "status": "queued"})
                elif self.path.endswith("/messages"):
                    provider._record(delivery)
                    self._reply(200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.fake"}]})
                else:
                    self._reply(404, {"error": {"code": 404}})

            def _reply(self, status: int, payload: Dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the bot's server was stopped mid-request: nothing to tell it

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler
