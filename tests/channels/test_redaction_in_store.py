"""Personal data never reaches the tracker store over the REST channel; medical numbers do, unchanged."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.channels.stored_values import stored_values
from tests.core.redaction_corpus import IDENTIFYING, ORDINARY, leaked
from tooling.running_bot import RunningBot

pytestmark = pytest.mark.servers


def test_no_identifying_form_of_the_corpus_is_stored(bot: RunningBot) -> None:
    for index, (message, _) in enumerate(IDENTIFYING):
        bot.send(f"redaction-forms-{index % 20}", message)
    leaking = leaked(stored_values(bot.tracker_db))
    assert leaking == [], f"{len(leaking)} of {len(IDENTIFYING)} forms reached the store"


def test_ordinary_messages_with_numbers_are_stored_unchanged(bot: RunningBot) -> None:
    for index, message in enumerate(ORDINARY):
        bot.send(f"redaction-ordinary-{index % 20}", message)
    with sqlite3.connect(bot.tracker_db) as connection:
        stored = {
            json.loads(data).get("text")
            for (data,) in connection.execute(
                "SELECT data FROM events WHERE type_name = 'user' AND sender_id LIKE 'redaction-ordinary-%'"
            )
        }
    assert [message for message in ORDINARY if message not in stored] == []
