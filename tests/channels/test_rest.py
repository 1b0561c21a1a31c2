"""The REST channel against the running server: bad input refused, identifiers redacted."""

from __future__ import annotations

import sqlite3

import pytest
import requests

from core.settings import get_settings
from tooling.running_bot import RunningBot

pytestmark = pytest.mark.servers


def post(bot: RunningBot, body: object) -> requests.Response:
    return requests.post(f"{bot.rasa_url}/webhooks/rest/webhook", json=body, timeout=30)


@pytest.mark.parametrize(
    "body",
    [
        {"sender": "rest-bad", "message": ""},
        {"sender": "rest-bad", "message": "   \u200b\n\t "},
        {"sender": "rest-bad", "message": 42},
        {"sender": "rest-bad", "message": None},
        {"sender": "rest-bad"},
        {"sender": "rest-bad", "message": ["hello"]},
        {"sender": "", "message": "hello"},
        {"sender": "x" * 129, "message": "hello"},
        {"sender": "../../etc/passwd", "message": "hello"},
        {"sender": "wa-3f2a9c", "message": "hello"},
        {"sender": "web-3f2a9c", "message": "hello"},
        {"sender": "+60123456789", "message": "hello"},
        {"sender": "siti@example.com", "message": "hello"},
        {"message": "hello"},
        ["sender", "message"],
        "hello",
    ],
)
def test_bad_input_gets_a_clear_400(bot: RunningBot, body: object) -> None:
    response = post(bot, body)
    assert response.status_code == 400
    assert "sender" in response.text or "message" in response.text


def test_malformed_json_gets_400(bot: RunningBot) -> None:
    response = requests.post(
        f"{bot.rasa_url}/webhooks/rest/webhook",
        data=b'{"sender": "x", "message": ',
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400


def test_too_long_message_gets_400_and_the_server_keeps_answering(bot: RunningBot) -> None:
    limit = get_settings().core.max_message_chars
    assert post(bot, {"sender": "rest-long", "message": "a" * (limit + 1)}).status_code == 400
    assert post(bot, {"sender": "rest-long", "message": "hello"}).json()


def test_identifiers_never_reach_the_tracker_store(bot: RunningBot) -> None:
    message = "my ic 850412-14-5567, call 012-345 6789 or mail siti@example.com, how long to recover?"
    assert post(bot, {"sender": "rest-pii", "message": message}).status_code == 200
    with sqlite3.connect(bot.tracker_db) as connection:
        stored = " ".join(
            data for (data,) in connection.execute("SELECT data FROM events WHERE sender_id = 'rest-pii'")
        )
    assert "[nric]" in stored and "[phone]" in stored and "[email]" in stored
    for secret in ("850412", "345 6789", "siti@example.com"):
        assert secret not in stored
