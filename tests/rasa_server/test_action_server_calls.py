"""Faults of the action server, against the real Rasa server: an apology, never silence or 5xx.

One Rasa server is started for the module; its action endpoint's port is served in turn
by the real action server, by nothing (stopped), by a frozen one (SIGSTOP) and by
``broken_action_server`` (malformed answers).
"""

from __future__ import annotations

import os
import signal
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests
import yaml

from core import messages
from core.clinic import get_clinic
from core.settings import PROJECT_ROOT, get_settings
from tests.rasa_server.broken_action_server import FAULTS, HEALTHY_REPLY
from tooling.launcher import BIN_DIR, Service, ServiceGroup, action_server, free_port, rasa_server
from tooling.running_bot import LOG_DIR

pytestmark = pytest.mark.servers
QUESTIONS: Dict[str, str] = yaml.safe_load((PROJECT_ROOT / "tests" / "e2e_questions.yml").read_text())
QUESTION = QUESTIONS["muscle_atrophy_overview"]


class FaultyBot:
    """A Rasa server and the action server behind it, which the tests take away."""

    def __init__(self, tmp_dir: Path) -> None:
        self.actions_port, rasa_port = free_port(), free_port()
        self.actions = action_server(self.actions_port, log_path=LOG_DIR / f"actions-{self.actions_port}.log")
        self.rasa = rasa_server(
            get_settings(),
            rasa_port,
            self.actions_port,
            log_path=LOG_DIR / f"rasa-faults-{rasa_port}.log",
            TRACKER_DB_URL=f"sqlite:///{tmp_dir / 'tracker.db'}",
        )
        self.url = f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
        self.group = ServiceGroup([self.actions, self.rasa])

    def send(self, sender: str, text: str) -> List[Dict[str, Any]]:
        response = requests.post(self.url, json={"sender": sender, "message": text}, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()

    @contextmanager
    def broken_actions(self) -> Iterator[None]:
        """Serves the action port with the broken action server instead of the real one."""
        self.actions.stop()
        broken = Service(
            name="broken action server",
            command=[
                str(BIN_DIR / "python"),
                "-m",
                "tests.rasa_server.broken_action_server",
                str(self.actions_port),
            ],
            ready_url=f"http://127.0.0.1:{self.actions_port}/health",
            log_path=LOG_DIR / f"broken-actions-{self.actions_port}.log",
        )
        with ServiceGroup([broken]):
            yield
        self.actions.start()
        self.actions.wait_ready()


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultyBot]:
    bot = FaultyBot(tmp_path_factory.mktemp("faults"))
    with bot.group:
        yield bot


def text_of(replies: List[Dict[str, Any]]) -> str:
    return "\n".join(reply.get("text", "") for reply in replies)


def assert_apology(replies: List[Dict[str, Any]]) -> None:
    apology = messages.text("action_unavailable", "en")
    contact = messages.contact_lines(get_clinic(), "en")
    assert len(replies) == 1, replies
    assert replies[0]["text"].startswith(apology)
    assert contact in replies[0]["text"]


def test_answers_while_the_action_server_is_up(faulty: FaultyBot) -> None:
    assert "not a diagnosis" in text_of(faulty.send("fault-up", QUESTION))


def test_action_server_stopped_mid_conversation_then_back(faulty: FaultyBot) -> None:
    assert "not a diagnosis" in text_of(faulty.send("fault-stop", QUESTION))
    faulty.actions.stop()
    assert_apology(faulty.send("fault-stop", QUESTIONS["atrophy_symptoms"]))
    assert_apology(faulty.send("fault-stop", QUESTIONS["atrophy_treatments"]))
    faulty.actions.start()
    faulty.actions.wait_ready()
    assert "not a diagnosis" in text_of(faulty.send("fault-stop", QUESTIONS["atrophy_treatments"]))
    assert faulty.group.first_dead() is None


def test_frozen_action_server_times_out_into_an_apology(faulty: FaultyBot) -> None:
    assert faulty.actions.process is not None
    pid = faulty.actions.process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        assert_apology(faulty.send("fault-frozen", QUESTION))
    finally:
        os.kill(pid, signal.SIGCONT)
    assert "not a diagnosis" in text_of(faulty.send("fault-frozen", QUESTION))


def test_malformed_action_server_answers_get_an_apology(faulty: FaultyBot) -> None:
    with faulty.broken_actions():
        assert text_of(faulty.send("fault-healthy", QUESTION)) == HEALTHY_REPLY
        for marker in FAULTS:
            assert_apology(faulty.send(f"fault-{marker}", f"{QUESTION} {marker}"))
            assert text_of(faulty.send(f"fault-{marker}", QUESTION)) == HEALTHY_REPLY, marker
    assert "not a diagnosis" in text_of(faulty.send("fault-after", QUESTION))
    assert faulty.group.first_dead() is None
