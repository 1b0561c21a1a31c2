"""Starts, health-checks and stops the product's processes.

`make run`, the end-to-end tests and the benchmarks all start servers through this
module, so there is one way to start the Rasa server and the action server.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Callable, ContextManager, Dict, List, Optional, Protocol, Sequence, Set, Type, TypeVar

import requests

from core.settings import PROJECT_ROOT, Settings, child_environment

BIN_DIR = Path(sys.executable).parent


class ServiceError(RuntimeError):
    """A service did not start or died."""


# Below Linux's ephemeral range (32768-60999): every outgoing connection takes its local
# port from that range, and one took a port between free_port() and the server binding it
# (a demo page failed to start with "address already in use" in CI).
_LISTEN_PORTS = range(20000, 32768)
_handed_out: Set[int] = set()


def free_port() -> int:
    """Returns a TCP port on loopback, free right now and not handed out before by this process.

    Raises:
        ServiceError: If no port of the range is free.

    """
    candidates = [port for port in _LISTEN_PORTS if port not in _handed_out]
    random.shuffle(candidates)
    for port in candidates:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise ServiceError(f"no free port in {_LISTEN_PORTS.start}-{_LISTEN_PORTS.stop - 1}")


@dataclass
class Service:
    """One process of the product, with the URL that answers once it is ready."""

    name: str
    command: List[str]
    ready_url: str
    environment: Dict[str, str] = field(default_factory=child_environment)
    log_path: Optional[Path] = None
    process: Optional[subprocess.Popen] = None

    def start(self) -> None:
        """Starts the process in its own process group, logging to ``log_path``."""
        output = None
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            output = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command,
            cwd=PROJECT_ROOT,
            env=self.environment,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            start_new_session=True,
        )

    def answers(self) -> bool:
        """Whether the service answers now: ``ready_url`` gives 200 (other protocols override)."""
        try:
            return requests.get(self.ready_url, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def wait_ready(self, timeout: float = 180.0) -> float:
        """Polls :meth:`answers` until it is true.

        Returns:
            Seconds waited.

        Raises:
            ServiceError: If the process exits or the timeout passes first.

        """
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process is not None and self.process.poll() is not None:
                raise ServiceError(f"{self.name} exited with {self.process.returncode}{self._log_tail()}")
            if self.answers():
                return time.monotonic() - started
            time.sleep(0.2)
        raise ServiceError(f"{self.name} not ready after {timeout:.0f} s{self._log_tail()}")

    def stop(self, timeout: float = 15.0) -> None:
        """Stops the process group: SIGTERM, then SIGKILL after ``timeout``."""
        if self.process is None or self.process.poll() is not None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout=timeout)
                return
            except subprocess.TimeoutExpired:
                continue

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.process is not None and self.process.poll() is None

    def _log_tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        tail = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        return "\n" + "\n".join(tail)


class ServiceGroup:
    """Services started in order and stopped in reverse, as a context manager."""

    def __init__(self, services: Sequence[Service], timeout: float = 180.0) -> None:
        """Keeps the services to start, each given ``timeout`` seconds to get ready."""
        self.services = list(services)
        self.timeout = timeout

    def __enter__(self) -> ServiceGroup:
        """Starts every service, waiting for each before the next."""
        try:
            for service in self.services:
                service.start()
                service.wait_ready(self.timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        """Stops every service."""
        self.stop()

    def stop(self) -> None:
        """Stops the services in reverse order."""
        for service in reversed(self.services):
            service.stop()

    def first_dead(self) -> Optional[Service]:
        """Returns a service whose process has exited, if any."""
        return first_dead(self.services)


def first_dead(services: Sequence[Service]) -> Optional[Service]:
    """Returns the first of ``services`` whose process has exited, if any."""
    return next((service for service in services if not service.running), None)


class RunningServices(Protocol):
    """Anything that exposes the services it started (a ServiceGroup, a Cluster)."""

    @property
    def services(self) -> List[Service]:
        """The started services."""


Running = TypeVar("Running", bound=RunningServices)


def serve_until_interrupted(starter: ContextManager[Running], banner: Callable[[Running], str]) -> int:
    """Starts ``starter``, prints its banner and blocks until stopped or a service dies.

    Ctrl-C and SIGTERM (a process manager's stop) both stop every service before exiting:
    without the handler SIGTERM would end this process and orphan the servers. Returns the
    exit status: 0 when stopped, 1 if a service failed to start or died.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with starter as running:
            print(banner(running), flush=True)
            while (dead := first_dead(running.services)) is None:
                time.sleep(1)
            print(f"{dead.name} stopped unexpectedly; stopping the rest.", file=sys.stderr)
            return 1
    except ServiceError as error:
        print(f"Could not start: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopped.")
        return 0


def action_server(port: int, log_path: Optional[Path] = None, **environment: str) -> Service:
    """Returns the action server on 127.0.0.1:``port``, as its systemd unit starts it.

    ``actions.serve_rasa_sdk`` is rasa-sdk's server behind :mod:`core.http_guard`.
    """
    command = [str(BIN_DIR / "python"), "-m", "actions.serve_rasa_sdk", "--actions", "actions"]
    return Service(
        name="action server",
        command=[*command, "--host", "127.0.0.1", "--port", str(port)],
        ready_url=f"http://127.0.0.1:{port}/health",
        environment=child_environment(**environment),
        log_path=log_path,
    )


def rasa_server(
    settings: Settings,
    port: int,
    actions_port: int,
    log_path: Optional[Path] = None,
    model: Optional[str] = None,
    endpoints: str = "endpoints.yml",
    credentials: str = "credentials.yml",
    **environment: str,
) -> Service:
    """Returns the Rasa server with the configured channels, without the HTTP API.

    Args:
        settings: Supplies the tracker store URL, model and allowed browser origins.
        port: The port to serve on.
        actions_port: The action server's port.
        log_path: Where the server's output goes; inherited when None.
        model: The trained model; the configured one when None.
        endpoints: The endpoints file.
        credentials: The credentials (channels) file.
        **environment: Extra environment variables for the server.

    """
    environment.setdefault("ACTION_ENDPOINT_URL", f"http://127.0.0.1:{actions_port}/webhook")
    environment.setdefault("TRACKER_DB_URL", settings.core.tracker_db_url)
    # Sanic refuses larger bodies with 413 before anything parses them.
    environment.setdefault("SANIC_REQUEST_MAX_SIZE", str(settings.rasa.request_max_bytes))
    # `rasa run` with the project's Rasa-side hooks (rasa_server/serve.py).
    command = [
        str(BIN_DIR / "python"),
        "-m",
        "rasa_server.serve",
        "run",
        "--model",
        str(model or settings.rasa.model_path),
        "--port",
        str(port),
        "--endpoints",
        endpoints,
        "--credentials",
        credentials,
        "--cors",
        *settings.allowed_origins(),
    ]
    return Service(
        name="Rasa server",
        command=command,
        ready_url=f"http://127.0.0.1:{port}/webhooks/rest/",
        environment=child_environment(**environment),
        log_path=log_path,
    )


def demo_server(port: int, rasa_url: str, log_path: Optional[Path] = None) -> Service:
    """Returns the demo clinic page with the chat widget, talking to Rasa at ``rasa_url``."""
    return Service(
        name="demo page",
        command=[str(BIN_DIR / "python"), "-m", "demo.server", "--port", str(port), "--rasa-url", rasa_url],
        ready_url=f"http://127.0.0.1:{port}/health",
        log_path=log_path,
    )


def console_server(
    settings: Settings, port: int, log_path: Optional[Path] = None, **environment: str
) -> Service:
    """Returns the staff console (``python -m console``) on ``port``, reading the tracker store."""
    environment.setdefault("TRACKER_DB_URL", settings.core.tracker_db_url)
    return Service(
        name="staff console",
        command=[str(BIN_DIR / "python"), "-m", "console", "--port", str(port)],
        ready_url=f"http://127.0.0.1:{port}/login",
        environment=child_environment(**environment),
        log_path=log_path,
    )
