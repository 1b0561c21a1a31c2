"""WhatsApp reply addresses: kept encrypted, readable only with the key, gone after 24 hours."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from handoff import addresses
from handoff.schema import reply_addresses

KEY = "sender-hash-key-for-tests"
NOW = 1_800_000_000.0


def test_the_number_is_stored_encrypted_and_read_back_with_the_key(engine: Any) -> None:
    addresses.remember(engine, "wa-1", "twilio", "whatsapp:+60123456789", KEY, NOW)
    with engine.connect() as connection:
        stored = connection.execute(sa.select(reply_addresses.c.sealed_number)).scalar_one()
    assert "60123456789" not in stored
    found = addresses.lookup(engine, "wa-1", KEY)
    assert found == addresses.ReplyAddress("twilio", "whatsapp:+60123456789", NOW)
    assert addresses.lookup(engine, "wa-1", "another key") is None


def test_each_message_moves_the_window_and_it_closes_after_24_hours(engine: Any) -> None:
    addresses.remember(engine, "wa-1", "whatsapp", "60123456789", KEY, NOW)
    addresses.remember(engine, "wa-1", "whatsapp", "60123456789", KEY, NOW + 3600)
    found = addresses.lookup(engine, "wa-1", KEY)
    assert found is not None
    assert found.window_open(NOW + 3600 + addresses.WINDOW_SECONDS - 1)
    assert not found.window_open(NOW + 3600 + addresses.WINDOW_SECONDS)
    assert addresses.forget_before(engine, NOW + 3599) == 0
    assert addresses.forget_before(engine, NOW + 3601) == 1
    assert addresses.lookup(engine, "wa-1", KEY) is None
