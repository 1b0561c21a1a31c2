"""`make run`'s launcher (scripts/run.py): the whole product starts, answers and stops cleanly."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator

import pytest
import requests

from core.settings import PROJECT_ROOT, child_environment
from tooling.launcher import BIN_DIR, free_port

pytestmark = pytest.mark.servers
BANNER_END = "Press Ctrl-C to stop."


@dataclass
class Product:
    """A running ``python -m scripts.run`` and the ports it was given."""

    process: subprocess.Popen[bytes]
    ports: Dict[str, int]
    output: Path

    def children(self) -> list[int]:
        """The process ids of the services it started."""
        listed = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True)
        return [int(pid) for pid in listed.stdout.split()]


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def product(tmp_path: Path) -> Iterator[Product]:
    ports = {name: free_port() for name in ("RASA_PORT", "ACTIONS_PORT", "DEMO_PORT", "CONSOLE_PORT")}
    environment = child_environment(
        TF_CPP_MIN_LOG_LEVEL="3",
        TRACKER_DB_URL=f"sqlite:///{tmp_path / 'tracker.db'}",
        CONSOLE_SECRET_FILE=str(tmp_path / "console-secret.key"),
        **{name: str(port) for name, port in ports.items()},
    )
    output = tmp_path / "run.log"
    with output.open("wb") as log:
        process = subprocess.Popen(
            [str(BIN_DIR / "python"), "-m", "scripts.run"],
            cwd=PROJECT_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    running = Product(process, ports, output)
    deadline = time.monotonic() + 300
    while BANNER_END not in output.read_text(errors="replace"):
        assert process.poll() is None, output.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, "the product did not start within 300 s"
        time.sleep(1)
    yield running
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)


def test_the_product_answers_on_every_port_then_stops_everything_on_sigterm(product: Product) -> None:
    reply = requests.post(
        f"http://127.0.0.1:{product.ports['RASA_PORT']}/webhooks/rest/webhook",
        json={"sender": "run-test", "message": "hello"},
        timeout=60,
    )
    assert reply.status_code == 200 and reply.json()[0]["text"]
    assert requests.get(f"http://127.0.0.1:{product.ports['ACTIONS_PORT']}/health", timeout=10).ok
    assert requests.get(f"http://127.0.0.1:{product.ports['DEMO_PORT']}/", timeout=10).ok
    assert requests.get(f"http://127.0.0.1:{product.ports['CONSOLE_PORT']}/login", timeout=10).ok
    services = product.children()
    assert len(services) == 4

    product.process.send_signal(signal.SIGTERM)

    assert product.process.wait(timeout=120) == 0
    assert "Stopped." in product.output.read_text()
    assert [port for port in product.ports.values() if port_open(port)] == []
    assert [pid for pid in services if Path(f"/proc/{pid}").exists()] == []


def test_a_service_that_dies_stops_the_rest_with_an_error(product: Product) -> None:
    services = product.children()
    actions = next(pid for pid in services if "rasa_sdk" in Path(f"/proc/{pid}/cmdline").read_text())

    subprocess.run(["kill", "-KILL", str(actions)], check=True)

    assert product.process.wait(timeout=120) == 1
    assert "action server stopped unexpectedly" in product.output.read_text()
    assert [port for port in product.ports.values() if port_open(port)] == []
