"""The socket.io channel against the running server, with a real python-socketio client."""

from __future__ import annotations

import asyncio
import json
import queue
import sqlite3
import time
import uuid
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
import requests
import socketio
import websockets

from assistant import messages
from assistant.clinic import get_clinic
from assistant.settings import get_settings
from tests.conftest import RunningBot, close_polling_client

pytestmark = pytest.mark.servers

Message = Dict[str, Any]
FLOOD = 12
WAIT = 60  # seconds: generous, the two shared cores may be busy training elsewhere


class Chat:
    """A socket.io client speaking Rasa's socketio protocol, collecting the bot's messages."""

    def __init__(self, bot: RunningBot, headers: Optional[Dict[str, str]] = None) -> None:
        self.received: queue.Queue[Message] = queue.Queue()
        self.confirmed: queue.Queue[str] = queue.Queue()
        # Polling: python-engineio's websocket client needs a newer aiohttp than Rasa allows;
        # the browser tests use WebSocket.
        self.client = socketio.Client(reconnection=False)
        self.client.on("bot_uttered", self.received.put)
        self.client.on("session_confirm", self.confirmed.put)
        self.client.connect(bot.rasa_url, headers=headers or {}, transports=["polling"], wait_timeout=WAIT)

    def join(self, session_id: Any) -> str:
        self.client.emit("session_request", {"session_id": session_id})
        return self.confirmed.get(timeout=WAIT)

    def emit(self, data: Any) -> None:
        self.client.emit("user_uttered", data)

    def wait_for(self, done: Callable[[Message], bool]) -> List[Message]:
        """Returns the messages received up to and including the first that is ``done``."""
        collected: List[Message] = []
        while not collected or not done(collected[-1]):
            collected.append(self.received.get(timeout=WAIT))
        return collected

    def close(self) -> None:
        close_polling_client(self.client)


def has_buttons(message: Message) -> bool:
    return bool(message.get("quick_replies"))


def is_greeting(message: Message, language: str = "en") -> bool:
    return message.get("text") == messages.text("greet", language, clinic=get_clinic().name)


def settle(chat: Chat, session_id: str) -> None:
    """Waits until the bot has handled (and stored) everything sent before: it handles a
    conversation's messages in order, so once it has answered a greeting it has."""
    chat.emit({"session_id": session_id, "message": "/greet"})
    chat.wait_for(is_greeting)


@pytest.fixture
def chat(bot: RunningBot) -> Iterator[Chat]:
    client = Chat(bot)
    yield client
    client.close()


def stored_user_texts(bot: RunningBot, sender_id: str) -> List[str]:
    with sqlite3.connect(bot.tracker_db) as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'", (sender_id,)
        ).fetchall()
    return [json.loads(data)["text"] for (data,) in rows]


def stored_until_greeting(bot: RunningBot, sender_id: str) -> List[str]:
    """Returns the user texts stored once the closing "/greet" is (Rasa stores a turn after
    sending its replies)."""
    deadline = time.monotonic() + WAIT
    while (texts := stored_user_texts(bot, sender_id))[-1:] != ["/greet"] and time.monotonic() < deadline:
        time.sleep(0.2)
    return texts


def stored_user_metadata(bot: RunningBot, sender_id: str) -> List[Dict[str, Any]]:
    with sqlite3.connect(bot.tracker_db) as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'", (sender_id,)
        ).fetchall()
    return [json.loads(data).get("metadata") or {} for (data,) in rows]


def rejection(language: str = "en") -> str:
    return messages.text("message_rejected", language, limit=str(get_settings().max_message_chars))


def test_reply_arrives_in_the_session_room(chat: Chat) -> None:
    session_id = str(uuid.uuid4())
    assert chat.join(session_id) == session_id
    chat.emit({"session_id": session_id, "message": "/greet"})
    replies = chat.wait_for(has_buttons)
    assert is_greeting(replies[0])
    assert {"title", "payload"} <= set(replies[-1]["quick_replies"][0])


@pytest.mark.parametrize("language", ["ms", "en"])
def test_the_page_language_in_the_metadata_chooses_the_greetings_language(
    chat: Chat, bot: RunningBot, language: str
) -> None:
    session_id = chat.join(str(uuid.uuid4()))
    chat.emit({"session_id": session_id, "message": "/greet", "metadata": {"language": language}})
    replies = chat.wait_for(has_buttons)
    assert is_greeting(replies[0], language)
    assert stored_until_greeting(bot, session_id) == ["/greet"]
    assert stored_user_metadata(bot, session_id)[0]["language"] == language


HOSTILE_METADATA = [
    {"language": "<script>alert(1)</script>"},
    {"language": "ms" * 5000},
    {"language": ["ms"]},
    {"language": {"$ne": None}},
    {"language": None},
    {"language": "MS", "other": "x" * 10_000},
    ["ms"],
    "x" * 10_000,
    '{"language": "ms"}',
    42,
    None,
]


@pytest.mark.parametrize("metadata", HOSTILE_METADATA, ids=lambda metadata: repr(metadata)[:30])
def test_hostile_metadata_is_dropped_and_gets_a_normal_reply(
    chat: Chat, bot: RunningBot, metadata: Any
) -> None:
    session_id = chat.join(str(uuid.uuid4()))
    chat.emit({"session_id": session_id, "message": "/greet", "metadata": metadata})
    replies = chat.wait_for(has_buttons)
    assert is_greeting(replies[0], "en")
    assert stored_until_greeting(bot, session_id) == ["/greet"]
    assert not {"language", "other"} & set(stored_user_metadata(bot, session_id)[0])
    with sqlite3.connect(bot.tracker_db) as connection:
        rows = connection.execute("SELECT data FROM events WHERE sender_id = ?", (session_id,)).fetchall()
    stored = " ".join(data for (data,) in rows)  # every event: the message, the session's slots
    for trace in ("<script>", "x" * 100, "ms" * 50, "$ne", '\\"language'):
        assert trace not in stored


def test_the_same_session_id_continues_the_same_conversation_after_reconnecting(bot: RunningBot) -> None:
    session_id = str(uuid.uuid4())
    first = Chat(bot)
    first.join(session_id)
    first.emit({"session_id": session_id, "message": "/prevention"})
    first.wait_for(has_buttons)
    first.close()

    second = Chat(bot)
    try:
        assert second.join(session_id) == session_id
        second.emit({"session_id": session_id, "message": "thank you"})
        settle(second, session_id)
    finally:
        second.close()
    assert stored_until_greeting(bot, session_id) == ["/prevention", "thank you", "/greet"]


def test_identifiers_are_redacted_before_they_are_stored(chat: Chat, bot: RunningBot) -> None:
    session_id = str(uuid.uuid4())
    chat.join(session_id)
    message = "ic 850412-14-5567, call 012-345 6789 or siti@example.com, how long to recover?"
    chat.emit({"session_id": session_id, "message": message})
    settle(chat, session_id)
    stored, _ = stored_until_greeting(bot, session_id)
    assert "[nric]" in stored and "[phone]" in stored and "[email]" in stored
    for secret in ("850412", "345 6789", "siti@example.com"):
        assert secret not in stored


LIMIT = get_settings().max_message_chars


@pytest.mark.parametrize(
    "data",
    [
        {"message": ""},
        {"message": " \u200b\n\t "},
        {"message": 42},
        {"message": None},
        {"message": ["hello"]},
        {},
        "hello",
        ["hello"],
        None,
        {"message": "a" * (LIMIT + 1)},
        {"message": "a" * (LIMIT * 5)},
    ],
    ids=lambda data: repr(data)[:30],
)
def test_bad_messages_get_a_polite_reply_and_the_socket_keeps_working(chat: Chat, data: Any) -> None:
    session_id = str(uuid.uuid4())
    chat.join(session_id)
    if isinstance(data, dict):
        data["session_id"] = session_id
    chat.emit(data)
    assert chat.wait_for(lambda message: True) == [{"text": rejection()}]
    chat.emit({"session_id": session_id, "message": "hello"})
    assert chat.wait_for(has_buttons)


def test_a_too_long_malay_message_is_refused_in_malay(chat: Chat) -> None:
    session_id = str(uuid.uuid4())
    chat.join(session_id)
    chat.emit({"session_id": session_id, "message": "saya nak tanya tentang otot kaki " * 40})
    assert chat.wait_for(lambda message: True) == [{"text": rejection("ms")}]


def test_a_socket_may_only_speak_in_the_session_it_joined(chat: Chat, bot: RunningBot) -> None:
    other = str(uuid.uuid4())
    chat.emit({"session_id": other, "message": "hello"})
    assert chat.wait_for(lambda message: True) == [{"text": rejection()}]
    joined = chat.join(str(uuid.uuid4()))
    chat.emit({"session_id": other, "message": "hello"})
    assert chat.wait_for(lambda message: True) == [{"text": rejection()}]
    settle(chat, joined)
    assert stored_until_greeting(bot, joined) == ["/greet"]
    assert stored_user_texts(bot, other) == []


@pytest.mark.parametrize("requested", [None, "", "../../etc/passwd", "x" * 129, 42, {"a": 1}])
def test_an_unusable_session_id_is_replaced_by_a_random_one(chat: Chat, requested: Any) -> None:
    confirmed = chat.join(requested)
    assert len(confirmed) == 32 and int(confirmed, 16) >= 0
    chat.emit({"session_id": confirmed, "message": "hello"})
    assert chat.wait_for(has_buttons)


def handshake(bot: RunningBot, origin: str) -> requests.Response:
    return requests.get(
        f"{bot.rasa_url}/socket.io/",
        params={"EIO": "4", "transport": "polling"},
        headers={"Origin": origin},
        timeout=WAIT,
    )


def test_the_demo_page_origin_may_connect(bot: RunningBot) -> None:
    for origin in (f"http://localhost:{bot.demo_port}", f"http://127.0.0.1:{bot.demo_port}"):
        response = handshake(bot, origin)
        assert response.status_code == 200
        assert response.raw.headers.getlist("Access-Control-Allow-Origin") == [origin]


@pytest.mark.parametrize("origin", ["https://evil.example", "http://localhost:1", "null"])
def test_a_foreign_origin_is_refused(bot: RunningBot, origin: str) -> None:
    response = handshake(bot, origin)
    assert response.status_code == 400
    assert "Access-Control-Allow-Origin" not in response.headers
    with pytest.raises(socketio.exceptions.ConnectionError):
        Chat(bot, headers={"Origin": origin})


def test_a_foreign_origin_cannot_open_a_websocket(bot: RunningBot) -> None:
    url = bot.rasa_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"

    async def open_socket(origin: str) -> str:
        async with websockets.connect(url, origin=origin, open_timeout=WAIT) as socket:  # type: ignore[attr-defined]
            return str(await socket.recv())

    assert asyncio.run(open_socket(f"http://127.0.0.1:{bot.demo_port}")).startswith("0{")
    with pytest.raises(websockets.exceptions.InvalidStatusCode):
        asyncio.run(open_socket("https://evil.example"))


def test_a_flooding_socket_is_slowed_down_and_other_patients_are_still_answered(bot: RunningBot) -> None:
    settings = get_settings()
    flooder, patient = Chat(bot), Chat(bot)
    try:
        flood_id, patient_id = flooder.join(str(uuid.uuid4())), patient.join(str(uuid.uuid4()))
        # 12: long-polling batches the emits, and Engine.IO drops a batch of more than 16.
        for number in range(FLOOD):
            flooder.emit({"session_id": flood_id, "message": f"hello {number}"})
        patient.emit({"session_id": patient_id, "message": "/greet"})
        assert patient.wait_for(is_greeting)
        slow_down = messages.text("slow_down", "en")
        refused = 0
        try:
            while True:
                refused += flooder.received.get(timeout=10).get("text") == slow_down
        except queue.Empty:
            pass
        stored = stored_user_texts(bot, flood_id)
        # At most a burst was handled, all in the order sent; the rest was refused, not stored.
        assert 1 <= len(stored) <= settings.socket_burst_messages
        assert stored == sorted(stored, key=lambda text: int(text.split()[1]))
        assert refused == FLOOD - len(stored)
    finally:
        flooder.close()
        patient.close()


def test_a_packet_larger_than_the_longest_message_is_dropped_by_engineio(bot: RunningBot) -> None:
    from channels.socketio import engineio_buffer_bytes

    limit = get_settings().max_message_chars
    chat = Chat(bot)
    session_id = chat.join(str(uuid.uuid4()))
    chat.emit({"session_id": session_id, "message": "x" * (engineio_buffer_bytes(limit) + 1)})
    with pytest.raises(queue.Empty):
        chat.received.get(timeout=5)
    chat.close()
    assert stored_user_texts(bot, session_id) == []
    fresh = Chat(bot)
    try:
        settle(fresh, fresh.join(str(uuid.uuid4())))
    finally:
        fresh.close()
