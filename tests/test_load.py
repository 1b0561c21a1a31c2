"""Load (reduced size) over REST and socket.io on SQLite and PostgreSQL, and a database restart.

``make loadtest`` runs the same code at full size (bench/loadtest.py).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest
import requests

from actions.conversation import greeting as greeting_text
from bench.loadtest import CHANNELS, LoadResult, load, stored_events
from bench.traffic import topic_questions
from core import messages
from tooling.launcher import ServiceGroup, free_port
from tooling.postgres import PostgresService, postgres_server
from tooling.running_bot import LOG_DIR, RunningBot, start_bot

pytestmark = pytest.mark.servers
CONVERSATIONS, LENGTH = 20, 5


def assert_complete(result: LoadResult) -> None:
    assert result.errors == 0, result
    assert result.problems == [], result.problems[:5]
    assert result.stored_user_messages == CONVERSATIONS * LENGTH
    # Every message answered and stored; the channels send a reply's paragraphs separately.
    assert result.replies_received >= result.stored_bot_messages >= CONVERSATIONS * LENGTH
    if result.flood is not None:  # the flooding socket is told to slow down, the patients are not
        assert result.flood.refused > 0, result.flood
        assert result.flood_held_back, result.flood


@pytest.fixture(scope="module")
def postgres_bot() -> Iterator[Tuple[PostgresService, RunningBot, str]]:
    # A folder in /tmp: PostgreSQL runs as 'nobody' when the tests run as root.
    data = Path(tempfile.mkdtemp(prefix="test-load-pg-"))
    server = postgres_server(data, free_port(), LOG_DIR / f"postgres-load-{data.name}.log")
    with ServiceGroup([server]):
        url = server.create_database("tracker")
        running = start_bot(Path(tempfile.mkdtemp(prefix="test-load-bot-")), TRACKER_DB_URL=url)
        try:
            yield server, running, url
        finally:
            running.group.stop()


@pytest.mark.parametrize("channel", CHANNELS)
def test_concurrent_conversations_on_sqlite_are_stored_whole(bot: RunningBot, channel: str) -> None:
    assert_complete(
        load(bot.rasa_url, f"sqlite:///{bot.tracker_db}", "sqlite", channel, CONVERSATIONS, LENGTH)
    )


# The flood is the channel's own (store-independent) and runs on SQLite here; make loadtest runs both.
@pytest.mark.parametrize("channel", [channel for channel in CHANNELS if channel != "socketio-flood"])
def test_concurrent_conversations_on_postgres_are_stored_whole(
    postgres_bot: Tuple[PostgresService, RunningBot, str], channel: str
) -> None:
    _, running, url = postgres_bot
    assert_complete(load(running.rasa_url, url, "postgresql", channel, CONVERSATIONS, LENGTH))


def test_postgres_restart_loses_no_acknowledged_message(
    postgres_bot: Tuple[PostgresService, RunningBot, str],
) -> None:
    server, running, url = postgres_bot
    sender, questions = "db-restart", topic_questions()
    endpoint = f"{running.rasa_url}/webhooks/rest/webhook"
    acknowledged: List[str] = []

    def send(text: str) -> requests.Response:
        reply = requests.post(endpoint, json={"sender": sender, "message": text}, timeout=60)
        if reply.status_code == 200 and reply.json():
            acknowledged.append(text)
        return reply

    for question in questions[:3]:
        assert send(question).status_code == 200
    server.stop()
    while_down = send(questions[3])
    assert while_down.status_code == 503
    assert while_down.headers.get("Retry-After")
    server.start()
    server.wait_ready()
    for question in questions[4:7]:
        reply = send(question)
        assert reply.status_code == 200 and reply.json(), reply.text
    stored = [text for kind, text, _ in stored_events(url, sender)[sender] if kind == "user"]
    assert stored == acknowledged == questions[:3] + questions[4:7]
    assert running.group.first_dead() is None


def test_a_conversation_longer_than_the_loaded_window_keeps_its_context(bot: RunningBot) -> None:
    # 8 answered questions are well over TRACKER_WINDOW_EVENTS events; the topic slot and
    # the rules still see the last turns.
    sender, questions = "long-window", topic_questions()
    for question in questions[:8]:
        assert bot.send(sender, question)
    replies = bot.send(sender, "tell me more")
    assert replies[0]["text"] == messages.text("tell_me_more", "en")
    greeting = bot.send(sender, "hello")
    assert greeting[0]["text"] == greeting_text("en")
