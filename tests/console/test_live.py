"""Talking to patients from the console: the Waiting page, presence, take, reply, hand back, figures.

Against the real console over HTTP. The Rasa server is not running: HANDOFF_RASA_URL points
at a closed port, so every message to the patient fails the way an unreachable server
does (the full flow with a live Rasa server is tested separately).
"""

from __future__ import annotations

import math
import re
import statistics
import time
import uuid
from datetime import date, datetime
from typing import Dict, List
from zoneinfo import ZoneInfo

import pytest
import requests
import sqlalchemy as sa
from rasa.shared.core.events import BotUttered, UserUttered
from sqlalchemy.engine import Engine

from console import accounts
from console.timeutil import format_duration
from core.database import audit_log
from handoff import queue
from handoff.schema import requests as requests_table
from tests.console.conftest import ADMIN, STAFF, Console
from tests.console.live_support import (  # noqa: F401 (fixtures)
    MAX_CHARS,
    VIEWER,
    ZONE,
    console_fixture,
    db_url_fixture,
    engine_fixture,
    enqueue,
    patient_says,
    store,
)

pytestmark = pytest.mark.servers


@pytest.fixture(scope="module")
def staff(console: Console) -> requests.Session:
    return console.login(*STAFF)


@pytest.fixture(scope="module")
def admin(console: Console) -> requests.Session:
    return console.login(*ADMIN)


@pytest.fixture(scope="module")
def viewer(console: Console) -> requests.Session:
    return console.login(*VIEWER)


def feed(console: Console, session: requests.Session) -> Dict:
    response = console.get(session, "/waiting/feed")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    return response.json()  # type: ignore[no-any-return]


def audited(engine: Engine, action: str, username: str) -> List[sa.Row]:
    with engine.connect() as connection:
        return connection.execute(
            sa.select(audit_log).where(audit_log.c.action == action, audit_log.c.username == username)
        ).fetchall()


def test_anonymous_visitors_get_neither_the_queue_nor_a_conversation(
    console: Console, engine: Engine
) -> None:
    request = enqueue(engine)
    for path in ("/waiting", f"/live/{request.id}"):
        page = requests.get(f"{console.url}{path}", allow_redirects=False, timeout=30)
        assert page.status_code == 302 and page.headers["Location"].startswith("/login")
        assert request.sender_id not in page.text
    for path in ("/waiting/feed", f"/live/{request.id}/feed"):
        answer = requests.get(f"{console.url}{path}", allow_redirects=False, timeout=30)
        assert answer.status_code == 401
        assert set(answer.json()) == {"error"} and request.sender_id not in answer.text


def test_every_post_without_a_csrf_token_is_refused(
    console: Console, staff: requests.Session, engine: Engine
) -> None:
    request, held = enqueue(engine), enqueue(engine)
    queue.take(engine, held.id, STAFF[0], STAFF[0], time.time())
    for path, form in (
        (f"/waiting/{request.id}/take", {}),
        (f"/live/{held.id}/reply", {"text": "hello"}),
        (f"/live/{held.id}/hand_back", {}),
        ("/presence", {"available": "1"}),
    ):
        response = staff.post(f"{console.url}{path}", data=form, allow_redirects=False, timeout=30)
        assert response.status_code == 400, path
        assert "not sent from this console" in response.text
    assert queue.get(engine, request.id).state == queue.WAITING  # type: ignore[union-attr]
    assert queue.get(engine, held.id).state == queue.TAKEN  # type: ignore[union-attr]


def test_a_viewer_reads_everything_but_cannot_act(
    console: Console, viewer: requests.Session, engine: Engine
) -> None:
    request = enqueue(engine)
    page = console.get(viewer, "/waiting")
    assert page.status_code == 200 and f'data-id="{request.id}"' in page.text
    assert f"/waiting/{request.id}/take" not in page.text and 'id="presence-form"' not in page.text
    assert console.get(viewer, f"/live/{request.id}").status_code == 200
    assert console.get(viewer, "/dashboard").status_code == 200
    assert feed(console, viewer)["requests"][-1]["can_take"] is False
    token = console.token(viewer, "/waiting")
    for path, form in (
        (f"/waiting/{request.id}/take", {}),
        (f"/live/{request.id}/reply", {"text": "hello"}),
        (f"/live/{request.id}/hand_back", {}),
        ("/presence", {"available": "1"}),
        ("/conversations/1/annotate", {"event_id": "1", "intent": "greet"}),
    ):
        response = viewer.post(
            f"{console.url}{path}", data={**form, "csrf_token": token}, allow_redirects=False, timeout=30
        )
        assert response.status_code == 403, path
    assert queue.get(engine, request.id).state == queue.WAITING  # type: ignore[union-attr]
    assert not audited(engine, "presence", VIEWER[0])


def test_the_feed_shows_a_new_request_its_last_messages_and_the_count(
    console: Console, db_url: str, staff: requests.Session, engine: Engine
) -> None:
    before = feed(console, staff)["count"]
    request = enqueue(engine, channel="twilio", topic="recovery_time")
    store(
        db_url,
        request.sender_id,
        patient_says(["first", "second", "third", "fourth <b>bold</b>"], time.time()),
    )
    data = feed(console, staff)
    assert data["count"] == before + 1
    shown = next(item for item in data["requests"] if item["id"] == request.id)
    assert shown["state"] == "waiting" and shown["channel"] == "twilio" and shown["language"] == "en"
    assert shown["topic"] == "recovery_time" and shown["alert"] is False and shown["can_take"] is True
    assert [message["text"] for message in shown["messages"]] == ["second", "third", "fourth <b>bold</b>"]
    assert 0 <= shown["wait_seconds"] < 60
    # Oldest first: the new request comes after every older one.
    assert data["requests"][-1]["id"] == request.id
    page = console.get(staff, "/waiting").text
    assert f'data-id="{request.id}"' in page and "fourth &lt;b&gt;bold&lt;/b&gt;" in page
    # The top bar of every page counts the waiting requests.
    for path in ("/dashboard", "/conversations", "/waiting"):
        count = re.search(r'id="waiting-count"[^>]*>(\d+)<', console.get(staff, path).text)
        assert count and int(count.group(1)) == before + 1, path
    assert audited(engine, "view_waiting", STAFF[0])


def test_presence_toggle_counts_the_member_of_staff_available(
    console: Console, staff: requests.Session, engine: Engine
) -> None:
    token = console.token(staff, "/waiting")
    before = queue.available_staff(engine, time.time(), 90)
    response = staff.post(f"{console.url}/presence", data={"available": "1", "csrf_token": token}, timeout=30)
    assert response.status_code == 200 and "You are available" in response.text
    assert queue.available_staff(engine, time.time(), 90) == before + 1
    assert feed(console, staff)["available"] is True
    staff.post(f"{console.url}/presence", data={"available": "0", "csrf_token": token}, timeout=30)
    assert queue.available_staff(engine, time.time(), 90) == before
    assert feed(console, staff)["available"] is False
    assert [row.detail for row in audited(engine, "presence", STAFF[0])][-2:] == ["available", "away"]
    bad = staff.post(f"{console.url}/presence", data={"available": "yes", "csrf_token": token}, timeout=30)
    assert bad.status_code == 400


def test_signing_out_marks_the_member_of_staff_away(console: Console, engine: Engine) -> None:
    accounts.create_user(engine, "console-nurse", "nurse password for tests", "staff")
    nurse = console.login("console-nurse", "nurse password for tests")
    token = console.token(nurse, "/waiting")
    nurse.post(f"{console.url}/presence", data={"available": "1", "csrf_token": token}, timeout=30)
    before = queue.available_staff(engine, time.time(), 90)
    nurse.post(f"{console.url}/logout", data={"csrf_token": token}, timeout=30)
    assert queue.available_staff(engine, time.time(), 90) == before - 1


def test_take_when_the_rasa_server_is_unreachable_puts_the_request_back(
    console: Console, staff: requests.Session, engine: Engine
) -> None:
    request = enqueue(engine)
    token = console.token(staff, "/waiting")
    response = staff.post(f"{console.url}/waiting/{request.id}/take", data={"csrf_token": token}, timeout=30)
    assert response.url.endswith("/waiting")
    assert "Could not take the conversation" in response.text and "cannot be reached" in response.text
    after = queue.get(engine, request.id)
    assert after is not None and after.state == queue.WAITING and after.staff_username is None
    assert not [
        row for row in audited(engine, "handoff_take", STAFF[0]) if row.target == f"request {request.id}"
    ]


def test_a_conversation_taken_by_one_is_refused_to_another_with_their_name(
    console: Console, staff: requests.Session, engine: Engine
) -> None:
    request = enqueue(engine)
    queue.take(engine, request.id, ADMIN[0], ADMIN[0], time.time())
    token = console.token(staff, "/waiting")
    response = staff.post(f"{console.url}/waiting/{request.id}/take", data={"csrf_token": token}, timeout=30)
    assert f"{ADMIN[0]} has already taken this conversation" in response.text
    assert queue.get(engine, request.id).staff_username == ADMIN[0]  # type: ignore[union-attr]
    shown = next(item for item in feed(console, staff)["requests"] if item["id"] == request.id)
    assert shown["state"] == "taken" and shown["staff_name"] == ADMIN[0] and shown["can_take"] is False
    assert f"Taken by {ADMIN[0]}" in console.get(staff, "/waiting").text


def test_only_the_holder_may_reply_or_hand_back(
    console: Console, staff: requests.Session, engine: Engine
) -> None:
    request = enqueue(engine)
    queue.take(engine, request.id, ADMIN[0], ADMIN[0], time.time())
    token = console.token(staff, f"/live/{request.id}")
    page = console.get(staff, f"/live/{request.id}").text
    assert 'id="reply-form"' not in page and f"{ADMIN[0]} is talking to this patient" in page
    form = staff.post(
        f"{console.url}/live/{request.id}/reply", data={"text": "hi", "csrf_token": token}, timeout=30
    )
    assert form.status_code == 403 and f"{ADMIN[0]} has this conversation" in form.text
    script = staff.post(
        f"{console.url}/live/{request.id}/reply",
        data={"text": "hi"},
        headers={"X-CSRFToken": token, "Accept": "application/json"},
        timeout=30,
    )
    assert script.status_code == 403 and ADMIN[0] in script.json()["error"]
    back = staff.post(f"{console.url}/live/{request.id}/hand_back", data={"csrf_token": token}, timeout=30)
    assert back.status_code == 403
    after = queue.get(engine, request.id)
    assert after is not None and after.state == queue.TAKEN and after.first_reply_at is None


def test_the_holders_reply_is_checked_and_an_undelivered_one_is_not_counted(
    console: Console, staff: requests.Session, engine: Engine
) -> None:
    request = enqueue(engine)
    queue.take(engine, request.id, STAFF[0], STAFF[0], time.time())
    path = f"{console.url}/live/{request.id}"
    page = console.get(staff, f"/live/{request.id}").text
    assert 'id="reply-form"' in page and "Hand back to the assistant" in page
    token = console.token(staff, f"/live/{request.id}")
    empty = staff.post(f"{path}/reply", data={"text": "   ", "csrf_token": token}, timeout=30)
    assert empty.status_code == 400 and "Write a message first" in empty.text
    long = staff.post(f"{path}/reply", data={"text": "x" * (MAX_CHARS + 1), "csrf_token": token}, timeout=30)
    assert long.status_code == 400 and f"at most {MAX_CHARS:,} characters" in long.text
    script = staff.post(
        f"{path}/reply",
        data={"text": ""},
        headers={"X-CSRFToken": token, "Accept": "application/json"},
        timeout=30,
    )
    assert script.status_code == 400 and "Write a message first" in script.json()["error"]
    undelivered = staff.post(
        f"{path}/reply",
        data={"text": "Hello, this is the clinic"},
        headers={"X-CSRFToken": token, "Accept": "application/json"},
        timeout=30,
    )
    assert undelivered.status_code == 502 and "cannot be reached" in undelivered.json()["error"]
    # Rasa could not resume: the holder keeps the conversation and can try again.
    back = staff.post(f"{path}/hand_back", data={"csrf_token": token}, timeout=30)
    assert "Not handed back" in back.text
    after = queue.get(engine, request.id)
    assert after is not None and after.state == queue.TAKEN and after.first_reply_at is None
    assert not [
        row for row in audited(engine, "handoff_reply", STAFF[0]) if row.target == f"request {request.id}"
    ]


def test_the_takeover_page_shows_staff_messages_the_alert_and_new_messages(
    console: Console, db_url: str, viewer: requests.Session, engine: Engine
) -> None:
    request = enqueue(engine)
    start = time.time() - 60
    store(
        db_url,
        request.sender_id,
        [
            *patient_says(["I want to talk to someone"], start),
            BotUttered(
                "You're now chatting with nurse-amy",
                metadata={"handoff": "taken", "staff_username": "nurse-amy", "staff_name": "nurse-amy"},
                timestamp=start + 29,
            ),
            BotUttered("Hello, I am here", metadata={"staff_username": "nurse-amy"}, timestamp=start + 30),
        ],
    )
    page = console.get(viewer, f"/live/{request.id}").text
    assert "I want to talk to someone" in page and "assistant answer 0" in page
    assert "nurse-amy (staff)" in page and "Hello, I am here" in page
    assert re.search(r'id="live-alert"\s+hidden', page)
    queue.raise_alert(engine, request.sender_id, time.time())
    last_id = int(re.search(r'data-after="(\d+)"', page).group(1))  # type: ignore[union-attr]
    store(db_url, request.sender_id, [UserUttered("my chest hurts", timestamp=time.time())])
    news = console.get(viewer, f"/live/{request.id}/feed", after=last_id).json()
    assert news["alert"] is True and news["state"] == "waiting" and news["holder"] is False
    assert [(item["kind"], item["text"]) for item in news["messages"]] == [("patient", "my chest hurts")]
    assert not re.search(r'id="live-alert"\s+hidden', console.get(viewer, f"/live/{request.id}").text)
    shown = console.get(viewer, f"/live/{request.id}/feed").json()["messages"]
    # The take notice is the assistant's, though it names the account; the typed reply is staff's.
    assert [(item["kind"], item["author"]) for item in shown] == [
        ("patient", "Patient"),
        ("bot", "Assistant"),
        ("bot", "Assistant"),
        ("staff", "nurse-amy (staff)"),
        ("patient", "Patient"),
    ]
    assert next(item for item in feed(console, viewer)["requests"] if item["id"] == request.id)["alert"]


def nearest_rank_90(values: List[float]) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def test_the_dashboard_shows_requests_waits_and_time_outs_per_channel(
    console: Console, staff: requests.Session, engine: Engine
) -> None:
    # Far in the past, so no other test's request falls in the range.
    day = datetime(2021, 3, 2, 10, 0, tzinfo=ZoneInfo(ZONE)).timestamp()
    waits = {"socketio": [30.0, 75.0, 90.0, 610.0, 45.0], "twilio": [20.0, 300.0]}
    outcomes = {"socketio": ["timed_out", "timed_out"], "twilio": ["expired"]}
    for channel, channel_waits in waits.items():
        for index, wait in enumerate(channel_waits):
            request, _ = queue.enqueue(
                engine, uuid.uuid4().hex, channel, "en", None, True, day + index * 86400, ZONE
            )
            with engine.begin() as connection:
                connection.execute(
                    sa.update(requests_table)
                    .where(requests_table.c.id == request.id)
                    .values(state="returned", first_reply_at=request.requested_at + wait)
                )
        for state in outcomes[channel]:
            request, _ = queue.enqueue(engine, uuid.uuid4().hex, channel, "en", None, True, day, ZONE)
            with engine.begin() as connection:
                connection.execute(
                    sa.update(requests_table).where(requests_table.c.id == request.id).values(state=state)
                )
    page = console.get(staff, "/dashboard", **{"from": "2021-03-01", "to": "2021-03-10"}).text
    assert "Talking to a person" in page

    def cells(channel: str) -> List[str]:
        row = re.search(rf'<tr class="[^"]*" data-channel="{channel}">(.*?)</tr>', page, re.S)
        assert row, channel
        return [
            re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
        ]

    everything = waits["socketio"] + waits["twilio"]
    for channel, channel_waits, timed_out, expired in (
        ("socketio", waits["socketio"], 2, 0),
        ("twilio", waits["twilio"], 0, 1),
        ("all", everything, 2, 1),
    ):
        total = len(channel_waits) + timed_out + expired
        assert cells(channel)[1:] == [
            str(total),
            f"{total / 10:.1f}" if total >= 10 else f"{total / 10:.2f}",
            f"{len(channel_waits)} of {total}",
            format_duration(statistics.median(channel_waits)),
            format_duration(nearest_rank_90(channel_waits)),
            f"{timed_out} of {total}",
            f"{expired} of {total}",
        ], channel
    # The same figures in words: socketio's median of 30, 45, 75, 90, 610 s is 75 s; p90 610 s.
    assert cells("socketio")[4:6] == ["1 min 15 s", "10 min 10 s"]
    assert date(2021, 3, 2).strftime("%d %b %Y") in page
