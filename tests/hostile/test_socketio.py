"""The hostile-input corpus on the socket.io channel: answers or polite refusals, never a crash."""

from __future__ import annotations

import json
import queue
from typing import Any, Iterator, List

import pytest

from actions.conversation import greeting
from channels.socketio import engineio_buffer_bytes, rejection_text
from channels.web_sessions import is_issued_token
from core.settings import get_settings
from tests.channels.test_socketio import Chat, Message
from tests.hostile import corpus
from tests.hostile.corpus import ACCEPT, REJECT, Text
from tooling.running_bot import RunningBot

pytestmark = pytest.mark.servers
TEXTS = corpus.texts()
# Every text goes through REST and WhatsApp; over socket.io (one NLU pass and a polling
# round trip more per case) two of each category keep the suite within CI's time.
SAMPLE = corpus.sample()
# Payloads of the wrong shape for the user_uttered event.
PAYLOADS: List[Any] = [
    None, 42, "hello", [], ["message"], {}, {"message": 42}, {"message": None},
    {"message": ["hi"]}, {"message": {"text": "hi"}}, {"message": "y" * 5_000},
]  # fmt: skip
# Longer than the message limit, within Engine.IO's buffer; past the buffer Engine.IO drops
# the packet (tests/channels/test_socketio.py::test_a_packet_larger_than_the_longest_message_...).
SOCKET_PATH = "/socket.io/?EIO=4&transport=polling"
WAIT_S, QUIET_S = 60.0, 3.0


@pytest.fixture(scope="module")
def chat(bot: RunningBot) -> Iterator[Chat]:
    client = Chat(bot)
    assert is_issued_token(client.join("hostile-socketio"))
    yield client
    client.close()


GREETINGS = {greeting(language) for language in ("en", "ms")}


def is_greeting(message: Message) -> bool:
    """The greeting, in whichever language the conversation has switched to."""
    return message.get("text") in GREETINGS


def replies_to(bot: RunningBot, data: Any) -> List[Message]:
    """Sends ``data`` on a socket of its own, in a new session; returns the bot's messages in reply.

    A dict's ``session_id`` is set to the token the server confirmed. A reply ends with the
    message carrying buttons, or when nothing more comes for a few seconds (a refusal is
    one message). Each case has its own socket and session, so no reply can be mistaken
    for another case's.
    """
    chat = Chat(bot)
    try:
        token = chat.join()
        chat.emit(dict(data, session_id=token) if isinstance(data, dict) else data)
        replies: List[Message] = []
        try:
            while not (replies and replies[-1].get("quick_replies")):
                replies.append(chat.received.get(timeout=QUIET_S if replies else WAIT_S))
        except queue.Empty:
            pass
        return replies
    finally:
        chat.close()


def oversized(data: Any) -> bool:
    """Whether a long-polling POST of ``data`` exceeds the server's body limit (413) or Engine.IO's."""
    settings = get_settings()
    limit = min(settings.rasa.request_max_bytes // 2, engineio_buffer_bytes(settings.core.max_message_chars))
    return len(json.dumps(data)) > limit


def test_oversized_message_is_dropped_and_the_server_goes_on(bot: RunningBot) -> None:
    throwaway = Chat(bot)
    token = throwaway.join()
    throwaway.emit({"session_id": token, "message": "z" * 200_000})
    throwaway.close()
    fresh = Chat(bot)
    try:
        token = fresh.join()
        fresh.emit({"session_id": token, "message": "/greet"})
        assert fresh.wait_for(is_greeting)
    finally:
        fresh.close()


@pytest.mark.parametrize("text", SAMPLE, ids=[text.id for text in SAMPLE])
def test_hostile_message(bot: RunningBot, text: Text) -> None:
    if oversized({"message": text.value}):
        pytest.skip("over the body limit: test_oversized_message_is_dropped_and_the_server_goes_on")
    replies = replies_to(bot, {"message": text.value})
    refusal = rejection_text(text.value)
    refused = any(reply.get("text") == refusal for reply in replies)
    if text.message == ACCEPT:
        assert replies and not refused, replies[:2]
    elif text.message == REJECT:
        assert refused, replies[:2]


@pytest.mark.parametrize("payload", PAYLOADS, ids=[f"payload-{i}" for i in range(len(PAYLOADS))])
def test_wrong_payloads_get_a_polite_refusal(bot: RunningBot, payload: Any) -> None:
    replies = replies_to(bot, payload)
    assert len(replies) == 1 and replies[0]["text"] == rejection_text(None), replies


@pytest.fixture(scope="module")
def joiner(bot: RunningBot) -> Iterator[Chat]:
    client = Chat(bot)
    yield client
    client.close()


@pytest.mark.parametrize("text", SAMPLE, ids=[text.id for text in SAMPLE])
def test_hostile_session_ids(joiner: Chat, text: Text) -> None:
    if oversized({"session_id": text.value}):
        pytest.skip("over the body limit: test_oversized_message_is_dropped_and_the_server_goes_on")
    # Whether or not it would do as a REST sender id, a client's choice is never kept: the
    # server issues the session token (tests/channels/test_socketio.py).
    confirmed = joiner.join(text.value)
    assert confirmed != text.value and is_issued_token(confirmed)


RAW = corpus.raw_requests()


@pytest.mark.parametrize("request_spec", RAW, ids=[raw.id for raw in RAW])
def test_hostile_http_on_the_socket_path(bot: RunningBot, request_spec: corpus.RawRequest) -> None:
    raw = corpus.fill(request_spec, SOCKET_PATH, "127.0.0.1", b'40{"sid":"x"}')
    status = corpus.send_raw(bot.rasa_url, raw)
    assert status < 500, f"{request_spec.id}: {status}"


def test_still_answering_after_the_corpus(bot: RunningBot, chat: Chat) -> None:
    assert bot.group.first_dead() is None
    chat.emit({"session_id": chat.token, "message": "what is muscle atrophy"})
    assert any(
        reply.get("quick_replies")
        for reply in chat.wait_for(lambda message: bool(message.get("quick_replies")))
    )
