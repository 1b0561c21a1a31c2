"""The bot storing conversations in PostgreSQL (TRACKER_DB_URL), read in the console."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Iterator

import pytest

from console import accounts
from console.schema import ensure_schema
from core.database import make_engine
from tests.console import scenario as conversations
from tests.console.conftest import ADMIN, Console, start_console
from tests.console.erasure_support import erase_during_an_index_batch, erase_one_of_two
from tests.console.test_console import INJECTIONS
from tooling.postgres import PostgresService
from tooling.running_bot import RunningBot, start_bot

pytestmark = pytest.mark.servers


@pytest.fixture(scope="module")
def pg_url(postgres: PostgresService) -> str:
    return postgres.create_database("tracker")


@pytest.fixture(scope="module")
def pg_bot(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    running = start_bot(tmp_path_factory.mktemp("pg-bot"), TRACKER_DB_URL=pg_url)
    try:
        yield running
    finally:
        running.group.stop()


@pytest.fixture(scope="module")
def pg_console(
    pg_bot: RunningBot, pg_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Console]:
    running = start_console(Path(tmp_path_factory.mktemp("pg-console")), pg_url)
    try:
        yield running
    finally:
        running.service.stop()


def test_rest_and_socketio_conversations_stored_in_postgresql_are_read_in_the_console(
    pg_bot: RunningBot, pg_console: Console
) -> None:
    scenario = conversations.create(pg_bot, pg_bot.rasa_url)
    admin = pg_console.login(*ADMIN)
    ids = {role: conversations.find(pg_console, admin, sender) for role, sender in scenario.senders.items()}

    transcript = pg_console.get(admin, f"/conversations/{ids['question']}").text
    assert conversations.QUESTION in transcript and "<code>recovery_time</code>" in transcript
    assert "what is muscle atrophy" in pg_console.get(admin, f"/conversations/{ids['socket']}").text
    assert "&lt;script&gt;" in pg_console.get(admin, f"/conversations/{ids['xss']}").text

    fallback = set(conversations.conversation_ids(pg_console, admin, flag="fallback"))
    assert ids["unclear"] in fallback and ids["question"] not in fallback
    assert set(conversations.conversation_ids(pg_console, admin, channel="socketio")) == {ids["socket"]}
    assert set(conversations.conversation_ids(pg_console, admin, flag="emergency")) == {ids["emergency"]}

    for name in ("from", "to", "channel", "topic", "flag", "q", "page"):
        for payload in INJECTIONS:
            response = pg_console.get(admin, "/conversations", **{name: payload})
            assert response.status_code == 200, (name, payload)
    rows = list(csv.DictReader(io.StringIO(pg_console.get(admin, "/conversations/export.csv").text)))
    assert {int(row["conversation_id"]) for row in rows} >= set(ids.values())
    dashboard = pg_console.get(admin, "/dashboard").text
    assert re.search(r'kpi-value">\d', dashboard)


def test_failures_lock_the_account_at_one_address_only_in_postgresql(postgres: PostgresService) -> None:
    engine = make_engine(postgres.create_database("lockouts"))
    ensure_schema(engine)
    accounts.create_user(engine, "pg-staff", "a long and secret phrase")
    outcomes = [accounts.sign_in(engine, "pg-staff", "wrong", "203.0.113.1", 3, 15).outcome for _ in range(3)]
    assert outcomes == ["invalid", "invalid", "locked"]
    assert (
        accounts.sign_in(engine, "pg-staff", "a long and secret phrase", "203.0.113.1", 3, 15).outcome
        == "locked"
    )
    assert (
        accounts.sign_in(engine, "pg-staff", "a long and secret phrase", "203.0.113.2", 3, 15).outcome == "ok"
    )
    accounts.unlock(engine, "pg-staff")
    assert (
        accounts.sign_in(engine, "pg-staff", "a long and secret phrase", "203.0.113.1", 3, 15).outcome == "ok"
    )
    engine.dispose()


def test_an_erased_conversation_leaves_no_row_in_postgresql_and_the_others_stay(
    pg_bot: RunningBot, pg_console: Console, pg_url: str
) -> None:
    engine = make_engine(pg_url)
    erase_one_of_two(pg_bot, engine, "delete my conversation")
    engine.dispose()


def test_an_erasure_waits_for_an_index_batch_in_progress_in_postgresql(
    postgres: PostgresService, monkeypatch: pytest.MonkeyPatch
) -> None:
    erase_during_an_index_batch(postgres.create_database("erasure_race"), monkeypatch)
