"""The staff console served for real (waitress on a free port) over a real tracker store."""

from __future__ import annotations

import queue
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
import requests
import socketio
from flask import Flask
from playwright.sync_api import Page
from werkzeug.test import TestResponse

from channels.web_sessions import stored_sender
from console import accounts
from console.app import create_app
from console.schema import ensure_schema
from core.database import make_engine
from core.settings import Settings, get_settings
from tests.conftest import close_polling_client
from tooling.launcher import Service, console_server, free_port
from tooling.postgres import PostgresService, postgres_server
from tooling.running_bot import LOG_DIR, RunningBot

ADMIN = ("console-admin", "admin password for tests")
STAFF = ("console-staff", "staff password for tests")
WAIT = 60


@dataclass
class Console:
    """A running console and the database it reads."""

    url: str
    db_url: str
    service: Service

    def session(self, headers: Optional[Dict[str, str]] = None) -> requests.Session:
        """A fresh, anonymous browser-like session, sending ``headers`` with every request."""
        session = requests.Session()
        session.headers.update(headers or {})
        return session

    def login(
        self, username: str, password: str, headers: Optional[Dict[str, str]] = None
    ) -> requests.Session:
        """Returns a session signed in as ``username`` (sending ``headers``, e.g. X-Forwarded-For)."""
        session = self.session(headers)
        response = session.post(
            f"{self.url}/login",
            data={"username": username, "password": password, "csrf_token": self.token(session, "/login")},
            allow_redirects=False,
        )
        assert response.status_code == 302, response.text[:500]
        return session

    def sign_in(self, page: Page, username: str, password: str) -> None:
        """Signs a browser tab in as ``username`` through the login form; it lands on the dashboard."""
        page.goto(f"{self.url}/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url("**/dashboard")

    def token(self, session: requests.Session, path: str) -> str:
        """Reads the CSRF token from the form on ``path``."""
        page = session.get(f"{self.url}{path}")
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def get(self, session: requests.Session, path: str, **params: Any) -> requests.Response:
        """GETs a console page."""
        return session.get(f"{self.url}{path}", params=params, timeout=60)


def start_console(tmp_dir: Path, db_url: str, **environment: str) -> Console:
    """Starts the console on ``db_url``, its secret key generated into ``tmp_dir``."""
    engine = make_engine(db_url)
    ensure_schema(engine)
    for username, password in (ADMIN, STAFF):
        if accounts.find_user(engine, username) is None:
            accounts.create_user(engine, username, password, "admin" if username == ADMIN[0] else "staff")
    engine.dispose()
    port = free_port()
    environment.setdefault("CONSOLE_SECRET_FILE", str(tmp_dir / "console-secret.key"))
    # The shared consoles sign in hundreds of times from 127.0.0.1; the per-address limit
    # itself is tested on consoles of its own (test_login_security.py, test_proxy.py).
    environment.setdefault("CONSOLE_LOGIN_ATTEMPTS", "100000")
    service = console_server(
        get_settings(), port, log_path=LOG_DIR / f"console-{port}.log", TRACKER_DB_URL=db_url, **environment
    )
    service.start()
    service.wait_ready(60)
    return Console(url=f"http://127.0.0.1:{port}", db_url=db_url, service=service)


@pytest.fixture(scope="session")
def console(bot: RunningBot, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """The console over the session bot's SQLite tracker store."""
    running = start_console(
        tmp_path_factory.mktemp("console"), f"sqlite:///{bot.tracker_db}", HANDOFF_RASA_URL=bot.rasa_url
    )
    try:
        yield running
    finally:
        running.service.stop()


# Console settings a developer's shell might set; the in-process tests start from the defaults.
CONSOLE_VARIABLES = (
    "CONSOLE_SECURE_COOKIES",
    "CONSOLE_PUBLIC_URL",
    "CONSOLE_TRUSTED_PROXIES",
    "CONSOLE_LOGIN_ATTEMPTS",
    "CONSOLE_LOGIN_WINDOW_SECONDS",
    "CONSOLE_MAX_FAILED_LOGINS",
    "CONSOLE_LOCKOUT_MINUTES",
    "CONSOLE_SECRET_KEY",
    "CONSOLE_SECRET_FILE",
)


@pytest.fixture()
def console_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Flask]:
    """Builds the console in this process from the environment plus ``environment``.

    The app runs on a fresh SQLite file with the staff user of the tests; its test client
    sets the client address per request (``environ_base={"REMOTE_ADDR": ...}``).
    """

    def build(**environment: str) -> Flask:
        for name in CONSOLE_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        url = f"sqlite:///{tmp_path / 'tracker.db'}"
        monkeypatch.setenv("TRACKER_DB_URL", url)
        monkeypatch.setenv("CONSOLE_SECRET_KEY", "k" * 40)
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        engine = make_engine(url)
        ensure_schema(engine)
        if accounts.find_user(engine, STAFF[0]) is None:
            accounts.create_user(engine, *STAFF, "staff")
        engine.dispose()
        return create_app(Settings())

    return build


def post_login(
    client: Any, username: str, password: str, address: str = "192.0.2.10", **options: Any
) -> TestResponse:
    """Signs in through the form of the in-process console, from the client ``address``."""
    environ = {"REMOTE_ADDR": address}
    page = client.get("/login", environ_base=environ, **options)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    assert match, "no CSRF token on /login"
    form = {"username": username, "password": password, "csrf_token": match.group(1)}
    return client.post("/login", data=form, environ_base=environ, **options)  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresService]:
    """A PostgreSQL server of the tests' own, in a temporary folder."""
    data_dir = Path(tempfile.mkdtemp(prefix="console-pg-"))
    server = postgres_server(data_dir, free_port(), log_path=LOG_DIR / f"postgres-{uuid.uuid4().hex[:6]}.log")
    server.start()
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


class SocketChat:
    """A patient on the website chat: Rasa's socket.io protocol, python-socketio client."""

    def __init__(self, rasa_url: str) -> None:
        self.received: queue.Queue[Dict[str, Any]] = queue.Queue()
        self.confirmed: queue.Queue[Any] = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("bot_uttered", self.received.put)
        self.client.on("session_confirm", self.confirmed.put)
        # Polling: python-engineio's websocket client needs a newer aiohttp than Rasa allows.
        self.client.connect(rasa_url, transports=["polling"], socketio_path="/socket.io", wait_timeout=WAIT)
        # Like the widget: a random id of its own, which the server replaces with its token.
        self.client.emit("session_request", {"session_id": uuid.uuid4().hex})
        self.token: str = self.confirmed.get(timeout=WAIT)
        # What the tracker store and the console know the conversation by: never the token.
        self.sender_id = stored_sender(self.token)

    def ask(self, text: str) -> List[Dict[str, Any]]:
        """Sends a message and returns the replies, up to the one that ends the answer."""
        self.client.emit("user_uttered", {"message": text, "session_id": self.token})
        replies = [self.received.get(timeout=WAIT)]
        # Every answer ends with a message offering buttons, or is a single message.
        while not replies[-1].get("quick_replies"):
            try:
                replies.append(self.received.get(timeout=3))
            except queue.Empty:
                break
        return replies

    def close(self) -> None:
        close_polling_client(self.client)
