"""The assistant with both WhatsApp channels configured, replying to a local fake provider."""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List

import pytest

from tooling.fake_whatsapp import SECRETS, FakeProvider
from tooling.running_bot import RunningBot, start_bot


def hashed_sender(number: str) -> str:
    """The conversation id the channels must store for ``number``: HMAC-SHA256 of its digits."""
    digits = "".join(char for char in number if char.isdigit())
    key = SECRETS["SENDER_HASH_KEY"].encode()
    return "wa-" + hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()


@dataclass
class WhatsAppBot:
    """The running servers and the fake provider they reply to."""

    bot: RunningBot
    provider: FakeProvider

    @property
    def rasa_url(self) -> str:
        return self.bot.rasa_url

    @property
    def log_path(self) -> Path:
        log_path = self.bot.group.services[-1].log_path
        assert log_path is not None
        return log_path

    def stored_senders(self) -> List[str]:
        with sqlite3.connect(self.bot.tracker_db) as connection:
            return [row[0] for row in connection.execute("SELECT DISTINCT sender_id FROM events")]

    def wait_stored(self, sender: str, timeout: float = 30.0) -> None:
        """Waits until the tracker store holds ``sender``'s conversation (saved after replying)."""
        deadline = time.monotonic() + timeout
        while sender not in self.stored_senders():
            assert time.monotonic() < deadline, f"{sender} never reached the tracker store"
            time.sleep(0.1)

    def stored_text(self) -> str:
        with sqlite3.connect(self.bot.tracker_db) as connection:
            rows = connection.execute("SELECT sender_id, data FROM events").fetchall()
        return "\n".join(f"{sender} {data}" for sender, data in rows)


@pytest.fixture(scope="session")
def fake_provider() -> Iterator[FakeProvider]:
    provider = FakeProvider().start()
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture(scope="session")
def whatsapp_bot(
    tmp_path_factory: pytest.TempPathFactory, fake_provider: FakeProvider
) -> Iterator[WhatsAppBot]:
    running = start_bot(
        tmp_path_factory.mktemp("whatsapp"),
        TWILIO_API_BASE_URL=fake_provider.url,
        WHATSAPP_API_BASE_URL=fake_provider.url,
        **SECRETS,
    )
    try:
        yield WhatsAppBot(running, fake_provider)
    finally:
        running.group.stop()
