"""The assistant started for tests and benchmarks: an action server and a Rasa server on free ports."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List

import requests

from core.settings import PROJECT_ROOT, get_settings
from tooling.launcher import Service, ServiceGroup, action_server, demo_server, free_port, rasa_server

LOG_DIR = PROJECT_ROOT / "var" / "test-logs"


@dataclass
class RunningBot:
    """The servers started for the test session, and how to talk to them."""

    rasa_url: str
    actions_url: str
    tracker_db: Path
    group: ServiceGroup
    # The Rasa server allows browser connections from a page on this port (the demo page).
    demo_port: int

    def send(self, sender: str, message: str) -> List[Dict[str, Any]]:
        """Sends one message over the REST channel and returns the bot's messages."""
        response = requests.post(
            f"{self.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def stored_parses(self, sender: str) -> List[Dict[str, Any]]:
        """The NLU results of the sender's messages as the tracker store kept them, oldest first."""
        with sqlite3.connect(self.tracker_db) as connection:
            rows = connection.execute(
                "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (sender,)
            ).fetchall()
        return [json.loads(data)["parse_data"] for (data,) in rows]


def start_bot(tmp_dir: Path, **environment: str) -> RunningBot:
    """Starts an action server and a Rasa server on free ports with their own SQLite file."""
    rasa_port, actions_port = free_port(), free_port()
    demo_port = int(environment.setdefault("DEMO_PORT", str(free_port())))
    # The socket.io channel reads DEMO_PORT in the server; --cors comes from these settings.
    base = get_settings()
    settings = base.copy(update={"ports": base.ports.copy(update={"demo": demo_port})})
    tracker_db = tmp_dir / "tracker.db"
    environment.setdefault("TRACKER_DB_URL", f"sqlite:///{tracker_db}")
    group = ServiceGroup(
        [
            # The same environment for both: the action server reads the queue in the same database.
            action_server(actions_port, log_path=LOG_DIR / f"actions-{actions_port}.log", **environment),
            rasa_server(
                settings, rasa_port, actions_port, log_path=LOG_DIR / f"rasa-{rasa_port}.log", **environment
            ),
        ]
    )
    group.__enter__()
    return RunningBot(
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        actions_url=f"http://127.0.0.1:{actions_port}",
        tracker_db=tracker_db,
        group=group,
        demo_port=demo_port,
    )


def start_demo_site(bot: RunningBot) -> Service:
    """Starts the demo page on the port whose origin ``bot`` allows, talking to ``bot``."""
    service = demo_server(bot.demo_port, bot.rasa_url, log_path=LOG_DIR / f"demo-{bot.demo_port}.log")
    service.start()
    try:
        service.wait_ready(60)
    except BaseException:
        service.stop()
        raise
    return service
