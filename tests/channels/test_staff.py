"""Staff take over live conversations: the Rasa server's staff routes, the pause, delivery, time-outs.

Real servers (action server, Rasa server), the real socket.io client, the fake WhatsApp
providers on loopback, and the queue in the same SQLite database Rasa writes.
"""

from __future__ import annotations

import itertools
import json
import queue as queues
import sqlite3
import time
from typing import Any, Callable, Dict, Iterator, List

import pytest
import requests

from bench.whatsapp import meta_webhook, twilio_webhook
from core import messages
from core.clinic import get_clinic
from core.database import make_engine
from handoff import queue
from handoff.schema import ensure_schema
from handoff.staff_link import StaffLink, StaffLinkError
from tests.channels.conftest import hashed_sender
from tests.channels.test_socketio import Chat, settle, stored_id
from tooling.fake_whatsapp import SECRETS, Delivery, FakeProvider
from tooling.running_bot import RunningBot, start_bot

pytestmark = pytest.mark.servers

API_KEY = "staff-link-key-for-tests-0123456789abcdef"
TIMEOUT_MINUTES = 0.5
WAIT = 60
ALWAYS_OPEN = "Mon-Sun 00:00-24:00"
RED_FLAG = "I suddenly cannot lift my left arm and my face is drooping on one side"
_numbers = itertools.count(1)
QUEUED = messages.text("handoff_queued", "en", clinic=get_clinic().name, place="1")


@pytest.fixture(scope="module")
def staff_bot(tmp_path_factory: pytest.TempPathFactory, fake_provider: FakeProvider) -> Iterator[RunningBot]:
    running = start_bot(
        tmp_path_factory.mktemp("staff"),
        TWILIO_API_BASE_URL=fake_provider.url,
        WHATSAPP_API_BASE_URL=fake_provider.url,
        HANDOFF_API_KEY=API_KEY,
        HANDOFF_TIMEOUT_MINUTES=str(TIMEOUT_MINUTES),
        CLINIC_HOURS=ALWAYS_OPEN,
        **SECRETS,
    )
    try:
        yield running
    finally:
        running.group.stop()


@pytest.fixture
def engine(staff_bot: RunningBot) -> Any:
    engine = make_engine(f"sqlite:///{staff_bot.tracker_db}")
    ensure_schema(engine)
    return engine


@pytest.fixture
def link(staff_bot: RunningBot) -> StaffLink:
    return StaffLink(staff_bot.rasa_url, API_KEY)


@pytest.fixture
def chat(staff_bot: RunningBot) -> Iterator[Chat]:
    client = Chat(staff_bot)
    yield client
    client.close()


def someone_available(engine: Any, username: str = "aisyah") -> None:
    queue.set_presence(engine, username, True, time.time())


def nobody_available(engine: Any) -> None:
    for username in ("aisyah", "ben"):
        queue.set_presence(engine, username, False, time.time())


def events_of(staff_bot: RunningBot, sender: str) -> List[Dict[str, Any]]:
    with sqlite3.connect(staff_bot.tracker_db) as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,)
        ).fetchall()
    return [json.loads(data) for (data,) in rows]


def nothing_arrives(chat: Chat, seconds: float = 4.0) -> None:
    with pytest.raises(queues.Empty):
        message = chat.received.get(timeout=seconds)
        pytest.fail(f"the assistant answered a paused conversation: {message}")


def eventually(read: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 10.0) -> Any:
    """Returns what ``read`` gives once ``done`` holds (the alert is written just after the reply)."""
    deadline = time.monotonic() + timeout
    while not done(found := read()):
        assert time.monotonic() < deadline, f"still {found}"
        time.sleep(0.1)
    return found


def ask_for_a_person(chat: Chat, token: str) -> Dict[str, Any]:
    chat.emit({"session_id": token, "message": "/contact_human"})
    return chat.wait_for(lambda message: bool(message.get("text")))[-1]


def taken_over(engine: Any, link: StaffLink, chat: Chat) -> tuple[str, str, queue.HandoffRequest]:
    """A new web patient asks for a person and Aisyah takes the conversation."""
    token = chat.join()
    settle(chat, token)
    sender = stored_id(token)
    someone_available(engine)
    ask_for_a_person(chat, token)
    request = queue.open_request(engine, sender)
    assert request is not None
    queue.take(engine, request.id, "aisyah", "Aisyah", time.time())
    link.take(sender, "aisyah", "Aisyah")
    chat.wait_for(lambda message: message.get("handoff") == "taken")
    return token, sender, request


def test_a_web_patient_is_queued_taken_answered_by_staff_and_handed_back(
    staff_bot: RunningBot, engine: Any, link: StaffLink, chat: Chat
) -> None:
    token = chat.join()
    settle(chat, token)
    sender = stored_id(token)
    someone_available(engine)
    queued = ask_for_a_person(chat, token)
    assert queued["text"] == messages.text("handoff_queued", "en", clinic=get_clinic().name, place="1")
    request = queue.open_request(engine, sender)
    assert (
        request is not None
        and request.state == queue.WAITING
        and request.paused
        and request.channel == "socketio"
    )

    chat.emit({"session_id": token, "message": "Is anyone there?"})
    nothing_arrives(chat)
    assert any(event.get("text") == "Is anyone there?" for event in events_of(staff_bot, sender))

    queue.take(engine, request.id, "aisyah", "Aisyah", time.time())
    link.take(sender, "aisyah", "Aisyah")
    taken = chat.wait_for(lambda message: message.get("handoff") == "taken")[-1]
    assert taken["text"] == f"You're now chatting with Aisyah from {get_clinic().name}."

    typed = "Hello, I'm Aisyah, a physiotherapist. You can call us on 03-7890 1234."
    link.reply(sender, "aisyah", "Aisyah", typed)
    staff_message = chat.wait_for(lambda message: "staff" in message)[-1]
    assert staff_message == {"text": typed, "staff": {"name": "Aisyah"}}
    stored = [event for event in events_of(staff_bot, sender) if event["event"] == "bot"][-1]
    assert {"staff_username": "aisyah", "staff_name": "Aisyah"}.items() <= stored["metadata"].items()
    assert "7890" not in stored["text"] and "[phone]" in stored["text"]  # redacted like any message

    chat.emit({"session_id": token, "message": "Thank you. Do I need to bring anything to the clinic?"})
    nothing_arrives(chat)

    queue.hand_back(engine, request.id, "aisyah", time.time())
    link.hand_back(sender, "aisyah")
    returned = chat.wait_for(lambda message: message.get("handoff") == "returned")[-1]
    assert "handed the conversation back" in returned["text"]
    chat.emit({"session_id": token, "message": "What is muscle atrophy?"})
    answer = chat.wait_for(lambda message: bool(message.get("quick_replies")))
    assert any("atrophy" in message.get("text", "").lower() for message in answer), answer
    types = [event["event"] for event in events_of(staff_bot, sender)]
    assert "pause" in types and "resume" in types


def test_a_long_takeover_keeps_reaching_the_patient(engine: Any, link: StaffLink, chat: Chat) -> None:
    """More staff messages than the tracker store loads events (30): channel and pause still known."""
    token, sender, request = taken_over(engine, link, chat)
    for number in range(40):
        link.reply(sender, "aisyah", "Aisyah", f"Note {number} from the clinic")
        assert chat.wait_for(lambda message: "staff" in message and "handoff" not in message)[-1]["text"] == (
            f"Note {number} from the clinic"
        )
    chat.emit({"session_id": token, "message": "What is muscle atrophy?"})
    nothing_arrives(chat)  # still paused, though the pause is older than the loaded window
    link.hand_back(sender, "aisyah")
    chat.wait_for(lambda message: message.get("handoff") == "returned")
    queue.hand_back(engine, request.id, "aisyah", time.time())


def test_a_red_flag_during_a_takeover_gets_999_at_once_and_raises_an_alert(
    engine: Any, link: StaffLink, chat: Chat
) -> None:
    token, sender, request = taken_over(engine, link, chat)
    chat.emit({"session_id": token, "message": RED_FLAG})
    reply = chat.wait_for(lambda message: bool(message.get("text")))[-1]
    assert reply["text"] == messages.text("emergency", "en")
    alerted = eventually(lambda: queue.get(engine, request.id), lambda found: found.alert_at is not None)
    assert alerted.state == queue.TAKEN
    chat.emit({"session_id": token, "message": "ok I will call them"})
    nothing_arrives(chat)  # still the person's conversation: the emergency did not resume the bot
    queue.hand_back(engine, request.id, "aisyah", time.time())
    link.hand_back(sender, "aisyah")


def test_a_request_nobody_takes_goes_back_to_the_assistant_with_an_apology(
    staff_bot: RunningBot, engine: Any, chat: Chat
) -> None:
    token = chat.join()
    settle(chat, token)
    sender = stored_id(token)
    someone_available(engine)
    ask_for_a_person(chat, token)
    apology = chat.wait_for(lambda message: message.get("handoff") == "timed_out")[-1]
    assert apology["text"].startswith(messages.text("handoff_timed_out", "en", clinic=get_clinic().name))
    requests_of_sender = [r for r in queue.queue(engine) if r.sender_id == sender]
    assert requests_of_sender == []
    with sqlite3.connect(staff_bot.tracker_db) as connection:
        state, waited = connection.execute(
            "SELECT state, ended_at - requested_at FROM handoff_requests WHERE sender_id = ?", (sender,)
        ).fetchone()
        audited = connection.execute(
            "SELECT username FROM console_audit_log WHERE action = 'handoff_timeout'"
        ).fetchall()
    assert state == queue.TIMED_OUT and waited >= TIMEOUT_MINUTES * 60
    assert ("assistant",) in audited
    chat.emit({"session_id": token, "message": "What is muscle atrophy?"})
    assert any(
        "atrophy" in m.get("text", "").lower() for m in chat.wait_for(lambda m: bool(m.get("quick_replies")))
    )


def test_with_nobody_available_the_web_patient_gets_the_contact_details_and_no_queue(
    engine: Any, chat: Chat
) -> None:
    nobody_available(engine)
    token = chat.join()
    settle(chat, token)
    reply = ask_for_a_person(chat, token)
    assert reply["text"].startswith(messages.text("handoff_unavailable", "en", clinic=get_clinic().name))
    assert ALWAYS_OPEN in reply["text"]  # the hours, said plainly
    assert queue.open_request(engine, stored_id(token)) is None


def new_number() -> str:
    return f"60129{next(_numbers):07d}"


def twilio_texts(deliveries: List[Delivery]) -> List[str]:
    return [delivery.text for delivery in deliveries]


def test_whatsapp_staff_messages_reach_the_patient_through_twilio_and_meta(
    staff_bot: RunningBot, engine: Any, link: StaffLink, fake_provider: FakeProvider
) -> None:
    for send, recipient_of in (
        (twilio_webhook, lambda number: f"whatsapp:+{number}"),
        (meta_webhook, lambda number: number),
    ):
        number = new_number()
        sender = hashed_sender(number)
        someone_available(engine)
        send(staff_bot.rasa_url, number, "/contact_human")
        recipient = recipient_of(number)
        fake_provider.wait_for(recipient, lambda got: any(QUEUED[:40] in d.text for d in got))
        request = queue.open_request(engine, sender)
        assert request is not None and request.channel in ("twilio", "whatsapp")
        queue.take(engine, request.id, "ben", "Ben", time.time())
        link.take(sender, "ben", "Ben")
        link.reply(sender, "ben", "Ben", "Hi, Ben here from the clinic. How can I help?")
        got = fake_provider.wait_for(recipient, lambda got: any("Ben here" in d.text for d in got))
        assert f"Ben ({get_clinic().name}):\nHi, Ben here from the clinic. How can I help?" in twilio_texts(
            got
        )
        send(staff_bot.rasa_url, number, "My calf got thin after the cast")
        with sqlite3.connect(staff_bot.tracker_db) as connection:
            deadline = time.monotonic() + WAIT
            while not connection.execute(
                "SELECT 1 FROM events WHERE sender_id = ? AND data LIKE '%after the cast%'", (sender,)
            ).fetchone():
                assert time.monotonic() < deadline
                time.sleep(0.2)
        queue.hand_back(engine, request.id, "ben", time.time())
        link.hand_back(sender, "ben")
        fake_provider.wait_for(
            recipient, lambda got: any("handed the conversation back" in d.text for d in got)
        )
        assert number not in "".join(json.dumps(e) for e in events_of(staff_bot, sender))


def test_whatsapp_free_text_is_refused_outside_the_24_hour_window(
    staff_bot: RunningBot, engine: Any, link: StaffLink, fake_provider: FakeProvider
) -> None:
    number = new_number()
    sender = hashed_sender(number)
    nobody_available(engine)
    twilio_webhook(staff_bot.rasa_url, number, "/contact_human")
    later = messages.with_contact("handoff_later", "en")
    fake_provider.wait_for(f"whatsapp:+{number}", lambda got: any(later[:40] in d.text for d in got))
    request = queue.open_request(engine, sender)
    assert request is not None and not request.paused  # left in the queue for staff who come in later
    with sqlite3.connect(staff_bot.tracker_db) as connection:
        connection.execute(
            "UPDATE handoff_reply_addresses SET last_inbound_at = last_inbound_at - 25 * 3600"
            " WHERE sender_id = ?",
            (sender,),
        )
    with pytest.raises(StaffLinkError, match="24 hours"):
        link.take(sender, "ben", "Ben")


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({}, {"conversation": "x", "username": "a", "staff_name": "A", "text": "hi"}, 401),
        (
            {"Authorization": "Bearer wrong-key"},
            {"conversation": "x", "username": "a", "staff_name": "A"},
            401,
        ),
        ({"Authorization": f"Bearer {API_KEY}"}, ["not", "an", "object"], 400),
        (
            {"Authorization": f"Bearer {API_KEY}"},
            {"conversation": "", "username": "a", "staff_name": "A"},
            400,
        ),
        (
            {"Authorization": f"Bearer {API_KEY}"},
            {"conversation": "nobody", "username": "a", "staff_name": "A"},
            404,
        ),
    ],
)
def test_the_staff_routes_refuse_strangers_and_bad_requests(
    staff_bot: RunningBot, headers: Dict[str, str], body: Any, status: int
) -> None:
    response = requests.post(
        f"{staff_bot.rasa_url}/webhooks/staff/take", json=body, headers=headers, timeout=30
    )
    assert response.status_code == status
    assert "error" in response.json()
