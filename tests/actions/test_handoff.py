"""A patient asks for a person: the action against a real queue database, open and closed hours."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Dict, Iterator, List
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionContactHuman, opening_hours
from core import messages
from core.clinic import get_clinic
from core.database import make_engine
from core.settings import get_settings
from handoff import queue
from handoff.schema import ensure_schema
from tests.actions.conftest import make_tracker

OPEN_ALL_WEEK = "Mon-Sun 00:00-24:00"
# Open all of tomorrow only (Kuala Lumpur time): closed whenever the test runs.
TOMORROW = (datetime.now(ZoneInfo("Asia/Kuala_Lumpur")) + timedelta(days=1)).strftime("%a")
CLOSED_NOW = f"{TOMORROW} 00:00-24:00"


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("TRACKER_DB_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    get_settings.cache_clear()
    engine = make_engine(get_settings().core.tracker_db_url)
    ensure_schema(engine)
    yield engine
    engine.dispose()
    get_settings.cache_clear()
    get_clinic.cache_clear()
    opening_hours.cache_clear()


def with_hours(monkeypatch: pytest.MonkeyPatch, hours: str) -> None:
    monkeypatch.setenv("CLINIC_HOURS", hours)
    get_settings.cache_clear()
    get_clinic.cache_clear()
    opening_hours.cache_clear()


def ask(channel: str, sender: str = "patient") -> tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    tracker = make_tracker("contact_human", "can I talk to a person")
    tracker.sender_id = sender
    tracker.events = [{"event": "user", "input_channel": channel, "text": "can I talk to a person"}]
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionContactHuman().run(dispatcher, tracker, {}))
    return dispatcher.messages, events


def test_open_with_someone_available_queues_and_pauses(engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with_hours(monkeypatch, OPEN_ALL_WEEK)
    queue.set_presence(engine, "aisyah", True, time.time())
    sent, events = ask("socketio")
    assert sent[0]["text"] == messages.text("handoff_queued", "en", clinic=get_clinic().name, place="1")
    assert {"event": "pause"} in [{"event": event["event"]} for event in events]
    request = queue.open_request(engine, "patient")
    assert request is not None and request.paused and request.channel == "socketio"


def test_closed_hours_give_the_hours_and_contact_even_with_staff_available(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_hours(monkeypatch, CLOSED_NOW)
    queue.set_presence(engine, "aisyah", True, time.time())
    sent, events = ask("socketio")
    assert sent[0]["text"].startswith(messages.text("handoff_unavailable", "en", clinic=get_clinic().name))
    assert CLOSED_NOW in sent[0]["text"]  # the hours, said plainly
    assert all(event["event"] != "pause" for event in events)
    assert queue.open_request(engine, "patient") is None


def test_closed_hours_on_whatsapp_keep_the_request_for_later_without_pausing(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_hours(monkeypatch, CLOSED_NOW)
    sent, events = ask("twilio", sender="wa-patient")
    assert sent[0]["text"].startswith(messages.text("handoff_later", "en", clinic=get_clinic().name))
    assert all(event["event"] != "pause" for event in events)
    request = queue.open_request(engine, "wa-patient")
    assert request is not None and not request.paused


def test_the_rest_api_cannot_be_written_to_later_so_it_gets_the_contact(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_hours(monkeypatch, OPEN_ALL_WEEK)
    queue.set_presence(engine, "aisyah", True, time.time())
    sent, _ = ask("rest")
    assert sent[0]["text"].startswith(messages.text("handoff_unavailable", "en", clinic=get_clinic().name))
    assert queue.open_request(engine, "patient") is None
