"""The console over the running bot's SQLite tracker store: reading, filtering, security."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from datetime import timedelta
from typing import Dict, Iterator

import pytest
import requests
from markupsafe import escape as html_escape
from werkzeug.routing import Rule

from console.app import create_app
from console.template_helpers import topic_title
from console.timeutil import today
from core.settings import get_settings
from tests.console import scenario as conversations
from tests.console.conftest import ADMIN, STAFF, Console
from tests.console.scenario import Scenario, find
from tooling.running_bot import RunningBot

pytestmark = pytest.mark.servers

INJECTIONS = [
    "' OR '1'='1",
    "1; DROP TABLE events; --",
    "' UNION SELECT username, password_hash, 1, 1 FROM console_users --",
    '" OR ""="',
    "%' OR 1=1 --",
    "%",
    "_",
    "\\",
    "2026-01-01' OR 1=1 --",
    "\x00",
]
FILTERS = ("from", "to", "channel", "topic", "flag", "q", "page")


@pytest.fixture(scope="module")
def scenario(bot: RunningBot) -> Scenario:
    return conversations.create(bot, bot.rasa_url)


@pytest.fixture(scope="module")
def admin(console: Console) -> requests.Session:
    return console.login(*ADMIN)


@pytest.fixture(scope="module")
def ids(console: Console, admin: requests.Session, scenario: Scenario) -> Dict[str, int]:
    return {role: find(console, admin, sender) for role, sender in scenario.senders.items()}


def _routes(console: Console) -> Iterator[Rule]:
    # Only to read the routes: its own key, so no key file is written.
    base = get_settings()
    settings = base.copy(
        update={
            "core": base.core.copy(update={"tracker_db_url": console.db_url}),
            "console": base.console.copy(update={"secret_key": "k" * 40}),
        }
    )
    app = create_app(settings)
    yield from app.url_map.iter_rules()


def _path(rule: Rule) -> str:
    return re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule)


def test_every_route_but_login_refuses_anonymous_visitors(console: Console) -> None:
    checked = 0
    for rule in _routes(console):
        if rule.endpoint in ("auth.login", "static"):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = requests.request(
                method, f"{console.url}{_path(rule)}", allow_redirects=False, timeout=30
            )
            checked += 1
            assert response.status_code in (302, 400, 401, 403), (method, rule.rule, response.status_code)
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/login"), rule.rule
            assert "console-staff" not in response.text
    assert checked >= 15


def test_login_page_and_static_files_are_public(console: Console) -> None:
    assert requests.get(f"{console.url}/login", timeout=30).status_code == 200
    assert requests.get(f"{console.url}/static/console.css", timeout=30).status_code == 200


def test_every_post_form_refuses_a_request_without_csrf_token(
    console: Console, admin: requests.Session
) -> None:
    posted = 0
    for rule in _routes(console):
        if "POST" not in (rule.methods or set()):
            continue
        response = admin.post(
            f"{console.url}{_path(rule)}",
            data={
                "username": "intruder",
                "password": "x" * 20,
                "role": "admin",
                "intent": "greet",
                "event_id": "1",
            },
            allow_redirects=False,
        )
        posted += 1
        assert response.status_code == 400, rule.rule
        assert "not sent from this console" in response.text
    assert posted >= 6
    users = admin.get(f"{console.url}/admin/users").text
    assert "intruder" not in users


def test_cookies_are_http_only_same_site_and_pages_have_a_strict_policy(console: Console) -> None:
    session = console.login(*STAFF)
    cookie = next(cookie for cookie in session.cookies if cookie.name == "console_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert cookie.get_nonstandard_attr("SameSite") == "Lax"
    response = console.get(session, "/dashboard")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "default-src 'none'" in policy
    assert response.headers["Cache-Control"] == "no-store"
    # Scripts only as the console's own files (live.js keeps the waiting count current), never inline.
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", response.text, re.S)
    assert scripts and all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
    assert response.text.count("<script") == len(scripts) and " style=" not in response.text


def test_lockout_after_repeated_failures_then_unlock_by_admin(
    console: Console, admin: requests.Session
) -> None:
    from console import accounts, lockout
    from core.database import make_engine

    engine = make_engine(console.db_url)
    accounts.create_user(engine, "locky", "a long and secret phrase", "staff")
    session = console.session()
    for _ in range(get_settings().console.max_failed_logins):
        response = session.post(
            f"{console.url}/login",
            data={"username": "locky", "password": "wrong", "csrf_token": console.token(session, "/login")},
        )
        assert response.status_code == 401
    response = session.post(
        f"{console.url}/login",
        data={
            "username": "locky",
            "password": "a long and secret phrase",
            "csrf_token": console.token(session, "/login"),
        },
        allow_redirects=False,
    )
    # Locked at this address, with the same answer as a wrong password.
    assert response.status_code == 401 and "Wrong username or password" in response.text
    locked = accounts.find_user(engine, "locky")
    assert locked is not None and locked.id in lockout.active_locks(engine)
    assert "Locked at 1 address" in console.get(admin, "/admin/users").text
    token = console.token(admin, "/admin/users")
    admin.post(
        f"{console.url}/admin/users/{locked.id}/action", data={"action": "unlock", "csrf_token": token}
    )
    console.login("locky", "a long and secret phrase")
    engine.dispose()


def test_staff_cannot_open_admin_pages(console: Console) -> None:
    staff = console.login(*STAFF)
    assert console.get(staff, "/admin/users").status_code == 403
    assert console.get(staff, "/admin/audit").status_code == 403
    assert console.get(staff, "/conversations").status_code == 200


def test_logout_ends_the_session(console: Console) -> None:
    staff = console.login(*STAFF)
    stale = dict(staff.cookies)
    staff.post(f"{console.url}/logout", data={"csrf_token": console.token(staff, "/dashboard")})
    again = requests.get(f"{console.url}/dashboard", cookies=stale, allow_redirects=False, timeout=30)
    assert again.status_code == 302 and again.headers["Location"].startswith("/login")


def test_conversations_from_rest_and_socketio_are_listed_newest_first(
    console: Console, admin: requests.Session, ids: Dict[str, int]
) -> None:
    listed = conversations.conversation_ids(console, admin)
    for conversation_id in ids.values():
        assert conversation_id in listed
    assert listed.index(ids["socket"]) < listed.index(ids["question"])
    html = console.get(admin, "/conversations").text
    assert re.search(r"<strong>[\d,]+</strong> conversations?", html)


def test_transcript_shows_every_turn(
    console: Console, admin: requests.Session, ids: Dict[str, int], scenario: Scenario
) -> None:
    html = console.get(admin, f"/conversations/{ids['question']}").text
    assert conversations.QUESTION in html
    assert "<code>recovery_time</code>" in html
    assert html_escape(topic_title("recovery_time")) in html  # the topic answered
    assert "Buttons offered" in html
    assert f"✓ {scenario.clicked_title}" in html  # the button the patient clicked
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", html)  # times of each turn
    assert re.search(r"\d+%", html)  # confidence
    socket = console.get(admin, f"/conversations/{ids['socket']}").text
    assert "what is muscle atrophy" in socket and "Website chat" in socket


def test_filters_find_the_right_conversations(
    console: Console, admin: requests.Session, ids: Dict[str, int]
) -> None:
    def listed(**filters: object) -> set:
        return set(conversations.conversation_ids(console, admin, **filters))

    assert ids["unclear"] in listed(flag="fallback")
    assert ids["question"] not in listed(flag="fallback")
    assert ids["emergency"] in listed(flag="emergency") and ids["booking"] not in listed(flag="emergency")
    assert ids["booking"] in listed(flag="handoff")
    assert ids["xss"] in listed(flag="out_of_scope") or ids["xss"] in listed(flag="fallback")
    assert ids["socket"] in listed(channel="socketio") and ids["question"] not in listed(channel="socketio")
    assert ids["question"] in listed(topic="recovery_time") and ids["socket"] not in listed(
        topic="recovery_time"
    )
    by_text = listed(q="suddenly cannot MOVE")  # case-insensitive, anywhere in a message
    assert ids["emergency"] in by_text and ids["booking"] not in by_text
    day = today()
    assert ids["question"] in listed(**{"from": day.isoformat(), "to": day.isoformat()})
    assert ids["question"] not in listed(to=(day - timedelta(days=1)).isoformat())


def test_stored_script_payload_renders_inert(
    console: Console, admin: requests.Session, ids: Dict[str, int]
) -> None:
    for path in (f"/conversations/{ids['xss']}", "/conversations?q=console-xss", "/dashboard"):
        html = console.get(admin, path).text
        assert "<script>alert" not in html and "<img src=x" not in html
    html = console.get(admin, f"/conversations/{ids['xss']}").text
    assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in html


def test_sql_injection_in_every_filter_is_harmless(
    console: Console, admin: requests.Session, ids: Dict[str, int], bot: RunningBot
) -> None:
    with sqlite3.connect(bot.tracker_db) as connection:
        before = connection.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    filters = {
        "/conversations": FILTERS,
        "/conversations/export.csv": FILTERS,
        "/conversations/export.jsonl": FILTERS,
        "/dashboard": ("from", "to"),
        "/admin/audit": ("user", "action", "page"),
        "/annotations": ("page",),
    }
    for path, names in filters.items():
        for name in names:
            for payload in INJECTIONS:
                response = console.get(admin, path, **{name: payload})
                assert response.status_code == 200, (path, name, payload)
                assert "$argon2" not in response.text
    # Wildcards and quotes are searched for literally: they do not match every conversation.
    everything = len(conversations.conversation_ids(console, admin))
    assert len(conversations.conversation_ids(console, admin, q="%")) < everything
    assert len(conversations.conversation_ids(console, admin, q="' OR '1'='1")) < everything
    with sqlite3.connect(bot.tracker_db) as connection:
        after = connection.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        assert connection.execute("SELECT COUNT(*) FROM console_users").fetchone()[0] >= 2
    assert after >= before


def test_annotation_and_nlu_export(
    console: Console, admin: requests.Session, ids: Dict[str, int], scenario: Scenario
) -> None:
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    html = console.get(admin, f"/conversations/{ids['unclear']}").text
    event_id = re.search(r'name="event_id" value="(\d+)"', html).group(1)  # type: ignore[union-attr]
    token = console.token(admin, f"/conversations/{ids['unclear']}")
    saved = admin.post(
        f"{console.url}/conversations/{ids['unclear']}/annotate",
        data={"event_id": event_id, "intent": "out_of_scope", "csrf_token": token},
    )
    assert "Annotated by console-admin" in saved.text
    export = console.get(admin, "/annotations/export.yml")
    assert "attachment" in export.headers["Content-Disposition"]
    training = RasaYAMLReader().reads(export.text)
    examples = {(example.get("intent"), example.get("text")) for example in training.intent_examples}
    assert ("out_of_scope", scenario.unclear) in examples


def test_csv_and_jsonl_export_the_filtered_conversations(
    console: Console, admin: requests.Session, ids: Dict[str, int], scenario: Scenario
) -> None:
    response = console.get(admin, "/conversations/export.csv", flag="emergency")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    exported = {int(row["conversation_id"]) for row in rows}
    assert ids["emergency"] in exported and ids["question"] not in exported
    patient = [
        row for row in rows if row["speaker"] == "patient" and int(row["conversation_id"]) == ids["emergency"]
    ]
    assert patient[0]["text"] == conversations.EMERGENCY and patient[0]["intent"] == "emergency"
    assert any(row["speaker"] == "assistant" and "999" in row["text"] for row in rows)
    lines = console.get(admin, "/conversations/export.jsonl", q=scenario.senders["xss"]).text.splitlines()
    records = [json.loads(line) for line in lines]
    assert [record["conversation_id"] for record in records] == [ids["xss"]]
    assert records[0]["turns"][0]["user"] == conversations.XSS


def test_audit_log_records_views_and_exports_for_admins(
    console: Console, admin: requests.Session, ids: Dict[str, int]
) -> None:
    staff = console.login(*STAFF)
    console.get(staff, f"/conversations/{ids['booking']}")
    console.get(staff, "/conversations/export.jsonl", flag="handoff")
    html = console.get(admin, "/admin/audit", user=STAFF[0]).text
    assert f"conversation {ids['booking']}" in html
    assert "Exported JSONL" in html and "flag=handoff" in html
