"""The socket.io channel against the running server, with a real python-socketio client."""

from __future__ import annotations

import asyncio
import json
import queue
import re
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
import requests
import socketio
import websockets

from actions.conversation import greeting
from channels.web_sessions import (
    WEB_SENDER_PREFIX,
    is_issued_token,
    issue_token,
    session_key,
    stored_sender,
)
from core import messages
from core.message_rules import clean_sender
from core.settings import Settings, WebChatSettings, get_settings
from tests.channels.stored_values import stored_values
from tests.conftest import close_polling_client
from tooling.running_bot import RunningBot

pytestmark = pytest.mark.servers

Message = Dict[str, Any]
FLOOD = 12
WAIT = 60  # seconds: generous, the two shared cores may be busy training elsewhere


class Chat:
    """A socket.io client speaking Rasa's socketio protocol, collecting the bot's messages."""

    def __init__(self, bot: RunningBot | str, headers: Optional[Dict[str, str]] = None) -> None:
        """Connects to ``bot`` (or a Rasa server's URL, e.g. one replica of a cluster)."""
        self.received: queue.Queue[Message] = queue.Queue()
        self.confirmed: queue.Queue[str] = queue.Queue()
        # The session token the server confirmed last: what the client sends its messages with.
        self.token = ""
        # Polling: python-engineio's websocket client needs a newer aiohttp than Rasa allows;
        # the browser tests use WebSocket.
        self.client = socketio.Client(reconnection=False)
        self.client.on("bot_uttered", self.received.put)
        self.client.on("session_confirm", self.confirmed.put)
        url = bot if isinstance(bot, str) else bot.rasa_url
        self.client.connect(url, headers=headers or {}, transports=["polling"], wait_timeout=WAIT)

    def join(self, session_id: Any = None) -> str:
        """Asks for session ``session_id`` (None: a new one); returns the token confirmed."""
        self.client.emit("session_request", {"session_id": session_id})
        self.token = self.confirmed.get(timeout=WAIT)
        return self.token

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
    return message.get("text") == greeting(language)


def settle(chat: Chat, token: str) -> None:
    """Waits until the bot has handled (and stored) everything sent before: it handles a
    conversation's messages in order, so once it has answered a greeting it has. The
    greeting's last message, the one with buttons, is read too: nothing is left unread."""
    chat.emit({"session_id": token, "message": "/greet"})
    chat.wait_for(is_greeting)
    chat.wait_for(has_buttons)


def stored_id(token: str) -> str:
    """The conversation id the server stores for a session token (the server's own function)."""
    return stored_sender(token)


def user_events(bot: RunningBot, token: str) -> List[Dict[str, Any]]:
    """The stored user events of the conversation of session ``token``."""
    with sqlite3.connect(bot.tracker_db) as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'", (stored_id(token),)
        ).fetchall()
    return [json.loads(data) for (data,) in rows]


@pytest.fixture
def chat(bot: RunningBot) -> Iterator[Chat]:
    client = Chat(bot)
    yield client
    client.close()


def stored_user_texts(bot: RunningBot, token: str) -> List[str]:
    return [event["text"] for event in user_events(bot, token)]


def stored_until_greeting(bot: RunningBot, token: str) -> List[str]:
    """Returns the user texts stored once the closing "/greet" is (Rasa stores a turn after
    sending its replies)."""
    deadline = time.monotonic() + WAIT
    while (texts := stored_user_texts(bot, token))[-1:] != ["/greet"] and time.monotonic() < deadline:
        time.sleep(0.2)
    return texts


def stored_user_metadata(bot: RunningBot, token: str) -> List[Dict[str, Any]]:
    return [event.get("metadata") or {} for event in user_events(bot, token)]


def senders_of_text(bot: RunningBot, text: str) -> List[str]:
    """The conversation ids stored with a user message ``text``: what staff see it under."""
    with sqlite3.connect(bot.tracker_db) as connection:
        rows = connection.execute(
            "SELECT DISTINCT sender_id FROM events WHERE type_name = 'user' AND data LIKE ?",
            (f'%"text": "{text}"%',),
        ).fetchall()
    return [sender for (sender,) in rows]


def stored_sender_of_text(bot: RunningBot, text: str) -> List[str]:
    """Like :func:`senders_of_text`, waiting until the message is stored."""
    deadline = time.monotonic() + WAIT
    while not (senders := senders_of_text(bot, text)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return senders


def rejection(language: str = "en") -> str:
    return messages.text("message_rejected", language, limit=str(get_settings().core.max_message_chars))


def test_reply_arrives_in_the_session_room(chat: Chat) -> None:
    token = chat.join()
    chat.emit({"session_id": token, "message": "/greet"})
    replies = chat.wait_for(has_buttons)
    assert is_greeting(replies[0])
    assert {"title", "payload"} <= set(replies[-1]["quick_replies"][0])


@pytest.mark.parametrize("language", ["ms", "en"])
def test_the_page_language_in_the_metadata_chooses_the_greetings_language(
    chat: Chat, bot: RunningBot, language: str
) -> None:
    token = chat.join()
    chat.emit({"session_id": token, "message": "/greet", "metadata": {"language": language}})
    replies = chat.wait_for(has_buttons)
    assert is_greeting(replies[0], language)
    assert stored_until_greeting(bot, token) == ["/greet"]
    assert stored_user_metadata(bot, token)[0]["language"] == language


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
    token = chat.join()
    chat.emit({"session_id": token, "message": "/greet", "metadata": metadata})
    replies = chat.wait_for(has_buttons)
    assert is_greeting(replies[0], "en")
    assert stored_until_greeting(bot, token) == ["/greet"]
    assert not {"language", "other"} & set(stored_user_metadata(bot, token)[0])
    with sqlite3.connect(bot.tracker_db) as connection:
        query = "SELECT data FROM events WHERE sender_id = ?"
        rows = connection.execute(query, (stored_id(token),)).fetchall()
    stored = " ".join(data for (data,) in rows)  # every event: the message, the session's slots
    for trace in ("<script>", "x" * 100, "ms" * 50, "$ne", '\\"language'):
        assert trace not in stored


def test_reconnecting_with_the_token_continues_the_same_conversation(bot: RunningBot) -> None:
    first = Chat(bot)
    token = first.join(str(uuid.uuid4()))  # the widget's first request: a random id of its own
    assert is_issued_token(token)
    first.emit({"session_id": token, "message": "/prevention"})
    first.wait_for(has_buttons)
    first.close()

    second = Chat(bot)
    try:
        assert second.join(token) == token
        second.emit({"session_id": token, "message": "thank you"})
        settle(second, token)
    finally:
        second.close()
    assert stored_until_greeting(bot, token) == ["/prevention", "thank you", "/greet"]


@pytest.mark.parametrize("requested", ["my-own-session", str(uuid.uuid4()), uuid.uuid4().hex])
def test_a_client_chosen_session_id_is_replaced_by_a_server_token(
    chat: Chat, bot: RunningBot, requested: str
) -> None:
    token = chat.join(requested)
    assert token != requested and is_issued_token(token)
    assert clean_sender(token) == token  # fits the rules for conversation ids
    chat.emit({"session_id": requested, "message": "hello"})
    assert chat.wait_for(lambda message: True) == [{"text": rejection()}]
    settle(chat, token)
    assert stored_until_greeting(bot, token) == ["/greet"]
    with sqlite3.connect(bot.tracker_db) as connection:
        assert connection.execute("SELECT 1 FROM events WHERE sender_id = ?", (requested,)).fetchall() == []


ALTERATIONS: Dict[str, Callable[[str], str]] = {
    "signature-altered": lambda token: token[:-1] + ("0" if token[-1] != "0" else "1"),
    "nonce-altered": lambda token: token[:4] + ("A" if token[4] != "A" else "B") + token[5:],
    "signature-dropped": lambda token: token.rsplit(".", 1)[0] + ".",
    "signature-truncated": lambda token: token[:-2],
    "prefix-uppercase": lambda token: token.upper()[:4] + token[4:],
    "suffix-added": lambda token: token + "0",
    "other-key": lambda token: issue_token(b"a key that is not the server's, long enough to look real"),
    # The issue time moved a day on, to stretch the token's life: its signature no longer fits.
    "issued-moved": lambda token: re.sub(r"\.(\d+)\.", lambda m: f".{int(m[1]) + 86400}.", token, count=1),
    # What staff see in the console, presented as a session id.
    "stored-id": lambda token: stored_id(token),
}


@pytest.mark.parametrize("alteration", ALTERATIONS)
def test_an_altered_or_forged_token_is_replaced(chat: Chat, bot: RunningBot, alteration: str) -> None:
    genuine = chat.join()
    settle(chat, genuine)
    forged = ALTERATIONS[alteration](genuine)
    assert forged != genuine
    confirmed = chat.join(forged)
    assert confirmed not in (forged, genuine) and is_issued_token(confirmed)
    # The socket now speaks only in the new session, not in the genuine one.
    chat.emit({"session_id": genuine, "message": "hello"})
    assert chat.wait_for(lambda message: True) == [{"text": rejection()}]
    settle(chat, confirmed)
    assert stored_until_greeting(bot, genuine) == ["/greet"]
    assert stored_until_greeting(bot, confirmed) == ["/greet"]


def test_an_expired_token_starts_a_new_conversation(chat: Chat, bot: RunningBot) -> None:
    lifetime_s = get_settings().web.session_hours * 3600
    # A token with a few seconds of its life left: honoured now, expired when presented again.
    issued = time.time() - lifetime_s + 10
    token = issue_token(session_key(), now=issued)
    assert chat.join(token) == token
    chat.emit({"session_id": token, "message": "/prevention"})
    chat.wait_for(has_buttons)
    time.sleep(max(0.0, issued + lifetime_s + 1 - time.time()))

    renewed = chat.join(token)
    assert renewed != token and is_issued_token(renewed)
    assert stored_id(renewed) != stored_id(token)
    chat.emit({"session_id": token, "message": "hello"})  # the old session is closed to this socket
    assert chat.wait_for(lambda message: True) == [{"text": rejection()}]
    settle(chat, renewed)
    assert stored_until_greeting(bot, renewed) == ["/greet"]
    assert stored_user_texts(bot, token) == ["/prevention"]


def test_the_token_is_never_stored_only_its_keyed_hash(chat: Chat, bot: RunningBot) -> None:
    token = chat.join()
    text = f"what is muscle atrophy {uuid.uuid4().hex[:6]}"
    chat.emit({"session_id": token, "message": text})
    settle(chat, token)
    [shown] = stored_sender_of_text(bot, text)
    store = "\n".join(stored_values(bot.tracker_db))
    assert shown in store
    _, nonce, _, signature = token.split(".")  # the prefix and the issue time are no secret
    for secret in (token, nonce, signature):
        assert secret not in store
    assert shown == stored_id(token) and shown.startswith(WEB_SENDER_PREFIX)
    assert stored_until_greeting(bot, token) == [text, "/greet"]


def test_the_id_staff_see_does_not_let_another_client_read_the_replies(bot: RunningBot) -> None:
    patient, intruder = Chat(bot), Chat(bot)
    try:
        token = patient.join()
        first = f"how long to recover {uuid.uuid4().hex[:6]}"
        patient.emit({"session_id": token, "message": first})
        settle(patient, token)
        # What the console and the exports show for this conversation.
        [shown] = stored_sender_of_text(bot, first)
        joined = intruder.join(shown)

        patient.emit({"session_id": token, "message": "/prevention"})
        assert patient.wait_for(has_buttons)
        with pytest.raises(queue.Empty):
            intruder.received.get(timeout=5)
        assert joined != shown and is_issued_token(joined)
        intruder.emit({"session_id": shown, "message": "hello"})
        assert intruder.wait_for(lambda message: True) == [{"text": rejection()}]
        settle(patient, token)
        assert stored_until_greeting(bot, token) == [first, "/greet", "/prevention", "/greet"]
    finally:
        patient.close()
        intruder.close()


def test_a_socket_that_joins_another_session_no_longer_receives_the_first(bot: RunningBot) -> None:
    moved, patient = Chat(bot), Chat(bot)
    try:
        first = moved.join()
        second = moved.join()
        assert second != first
        assert patient.join(first) == first  # the first session, continued on another socket
        patient.emit({"session_id": first, "message": "/prevention"})
        assert patient.wait_for(has_buttons)
        with pytest.raises(queue.Empty):
            moved.received.get(timeout=5)
    finally:
        moved.close()
        patient.close()


def test_the_session_key_is_generated_once_privately_and_a_short_one_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "var" / "web-session.key"
    generated = session_key(Settings(web=WebChatSettings(session_key=None)), key_file)
    assert len(generated) >= 32 and key_file.stat().st_mode & 0o777 == 0o600
    assert session_key(Settings(web=WebChatSettings(session_key="")), key_file) == generated
    assert list(key_file.parent.iterdir()) == [key_file]
    configured = "c" * 32
    assert session_key(Settings(web=WebChatSettings(session_key=configured)), key_file) == configured.encode()
    with pytest.raises(ValueError, match="WEB_SESSION_KEY"):
        session_key(Settings(web=WebChatSettings(session_key="too-short")), key_file)
    token = issue_token(generated)
    assert stored_sender(token, generated) != stored_sender(issue_token(generated), generated)
    with pytest.raises(ValueError):
        stored_sender(token, configured.encode())


def test_identifiers_are_redacted_before_they_are_stored(chat: Chat, bot: RunningBot) -> None:
    token = chat.join()
    message = "ic 850412-14-5567, call 012-345 6789 or siti@example.com, how long to recover?"
    chat.emit({"session_id": token, "message": message})
    settle(chat, token)
    stored, _ = stored_until_greeting(bot, token)
    assert "[nric]" in stored and "[phone]" in stored and "[email]" in stored
    for secret in ("850412", "345 6789", "siti@example.com"):
        assert secret not in stored


LIMIT = get_settings().core.max_message_chars


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
    token = chat.join()
    if isinstance(data, dict):
        data["session_id"] = token
    chat.emit(data)
    assert chat.wait_for(lambda message: True) == [{"text": rejection()}]
    chat.emit({"session_id": token, "message": "hello"})
    assert chat.wait_for(has_buttons)


def test_a_too_long_malay_message_is_refused_in_malay(chat: Chat) -> None:
    token = chat.join()
    question = "saya nak tanya tentang otot kaki "
    chat.emit({"session_id": token, "message": question * (LIMIT // len(question) + 1)})
    assert chat.wait_for(lambda message: True) == [{"text": rejection("ms")}]


def test_a_socket_may_only_speak_in_the_session_it_joined(chat: Chat, bot: RunningBot) -> None:
    other = issue_token(session_key())  # a genuine token, of a session this socket never joined
    chat.emit({"session_id": other, "message": "hello"})
    assert chat.wait_for(lambda message: True) == [{"text": rejection()}]
    joined = chat.join()
    chat.emit({"session_id": other, "message": "hello"})
    assert chat.wait_for(lambda message: True) == [{"text": rejection()}]
    settle(chat, joined)
    assert stored_until_greeting(bot, joined) == ["/greet"]
    assert stored_user_texts(bot, other) == []


@pytest.mark.parametrize("requested", [None, "", "../../etc/passwd", "x" * 129, 42, {"a": 1}])
def test_an_unusable_session_id_is_replaced_by_a_server_token(chat: Chat, requested: Any) -> None:
    confirmed = chat.join(requested)
    assert is_issued_token(confirmed)
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
        # At most a burst was handled, all in the order sent; the rest was refused, not stored,
        # with one "slow down" for the whole flood (a flood costs no reply per message).
        assert 1 <= len(stored) <= settings.web.burst_messages
        assert stored == sorted(stored, key=lambda text: int(text.split()[1]))
        assert refused == 1
    finally:
        flooder.close()
        patient.close()


def test_a_packet_larger_than_the_longest_message_is_dropped_by_engineio(bot: RunningBot) -> None:
    from channels.socketio import engineio_buffer_bytes

    limit = get_settings().core.max_message_chars
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
