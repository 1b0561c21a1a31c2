"""The console's link to the Rasa server for staff messages: ``POST /webhooks/staff/<what>``.

The console keeps the queue's state (:mod:`handoff.queue`); the Rasa server writes the
conversation (pause, staff messages, resume) under its lock store and delivers each
message on the patient's channel (:mod:`channels.staff`). Both sign with one shared key.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Dict

import requests

from core.key_files import generated_key
from core.settings import Settings

MIN_KEY_LENGTH = 32
TIMEOUT_S = 15.0


class StaffLinkError(RuntimeError):
    """The Rasa server did not deliver; the message says why, for staff."""


def api_key(settings: Settings) -> str:
    """Returns HANDOFF_API_KEY, or the key generated once into HANDOFF_KEY_FILE.

    Raises:
        ValueError: If the configured key is too short.

    """
    if settings.handoff.api_key:
        if len(settings.handoff.api_key) < MIN_KEY_LENGTH:
            raise ValueError(f"HANDOFF_API_KEY must have at least {MIN_KEY_LENGTH} characters")
        return settings.handoff.api_key
    return generated_key(settings.handoff.key_file)


def authorised(header: str, key: str) -> bool:
    """Whether an ``Authorization`` header carries the shared ``key``."""
    scheme, _, token = header.partition(" ")
    return scheme == "Bearer" and secrets.compare_digest(token.encode(), key.encode())


@dataclass(frozen=True)
class StaffLink:
    """Posts staff actions to the Rasa server."""

    base_url: str
    key: str

    @classmethod
    def from_settings(cls, settings: Settings) -> StaffLink:
        """The link to the configured Rasa server."""
        return cls(settings.rasa_url(), api_key(settings))

    def _post(self, what: str, payload: Dict[str, Any]) -> Dict[str, Any]:
        try:
            response = requests.post(
                f"{self.base_url}/webhooks/staff/{what}",
                json=payload,
                headers={"Authorization": f"Bearer {self.key}"},
                timeout=TIMEOUT_S,
            )
        except requests.RequestException as error:
            raise StaffLinkError(
                f"The assistant's server cannot be reached ({type(error).__name__})."
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200:
            raise StaffLinkError(
                body.get("error") or f"The assistant's server answered {response.status_code}."
            )
        return body if isinstance(body, dict) else {}

    def take(self, conversation: str, username: str, staff_name: str) -> None:
        """Pauses the assistant and tells the patient who they are now chatting with."""
        self._post("take", {"conversation": conversation, "username": username, "staff_name": staff_name})

    def reply(self, conversation: str, username: str, staff_name: str, text: str) -> None:
        """Sends a staff message to the patient (stored as a bot message naming the account)."""
        self._post(
            "reply",
            {"conversation": conversation, "username": username, "staff_name": staff_name, "text": text},
        )

    def hand_back(self, conversation: str, username: str) -> None:
        """Resumes the assistant, which tells the patient so."""
        self._post("hand_back", {"conversation": conversation, "username": username})
