"""What the live takeover tests share: a console over its own tracker store, with Rasa unreachable.

Import the fixtures into a test module (``from tests.console.live_support import console_fixture,
...``; pytest knows them as ``console``, ``engine`` and ``db_url``): each module gets its own
console and database.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator, List, Optional

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import Engine

from console import accounts
from core.database import make_engine
from core.settings import get_settings
from handoff import queue
from handoff.queue import HandoffRequest
from tests.console.conftest import Console, start_console
from tooling.launcher import free_port

VIEWER = ("console-viewer", "viewer password for tests")
ZONE = "Asia/Kuala_Lumpur"
MAX_CHARS = get_settings().core.max_message_chars


@pytest.fixture(scope="module", name="db_url")
def db_url_fixture(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('live-db') / 'tracker.db'}"


@pytest.fixture(scope="module", name="engine")
def engine_fixture(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def store(db_url: str, sender: str, new_events: List[Event]) -> None:
    """Adds events to a conversation as the Rasa server does (its own SQLTrackerStore)."""
    tracker_store = SQLTrackerStore(domain=Domain.empty(), host=db_url)

    async def append() -> None:
        tracker = await tracker_store.retrieve(sender) or DialogueStateTracker(sender, None)
        for event in new_events:
            tracker.update(event)
        await tracker_store.save(tracker)

    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, append()).result()
    tracker_store.engine.dispose()


def patient_says(texts: List[str], start: float) -> List[Event]:
    """A session in which the patient wrote ``texts``, each answered by the assistant."""
    found: List[Event] = [
        ActionExecuted("action_session_start", timestamp=start),
        SessionStarted(timestamp=start + 0.1),
    ]
    for index, text in enumerate(texts):
        at = start + 1 + index * 10
        found += [
            ActionExecuted("action_listen", timestamp=at),
            UserUttered(
                text, {"name": "ask_human", "confidence": 0.9}, timestamp=at + 1, input_channel="rest"
            ),
            BotUttered(f"assistant answer {index}", timestamp=at + 2),
        ]
    return found


@pytest.fixture(scope="module", name="console")
def console_fixture(
    db_url: str, engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Console]:
    # Rasa's ``events`` table exists before the console starts, as in production.
    store(db_url, "earlier-patient", patient_says(["hello"], time.time() - 3600))
    tmp: Path = tmp_path_factory.mktemp("live-console")
    running = start_console(
        tmp,
        db_url,
        # A port nothing listens on: the Rasa server is unreachable.
        HANDOFF_RASA_URL=f"http://127.0.0.1:{free_port()}",
        HANDOFF_API_KEY="k" * 40,
    )
    accounts.create_user(engine, *VIEWER, "viewer")
    try:
        yield running
    finally:
        running.service.stop()


def enqueue(
    engine: Engine, channel: str = "socketio", topic: Optional[str] = "recovery_time"
) -> HandoffRequest:
    request, _ = queue.enqueue(
        engine,
        f"web-{uuid.uuid4().hex[:12]}",
        channel,
        "en",
        topic,
        paused=True,
        now=time.time(),
        timezone=ZONE,
    )
    return request
