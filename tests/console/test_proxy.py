"""The console behind nginx: X-Forwarded-For and -Proto count only from CONSOLE_TRUSTED_PROXIES proxies.

These run the console as it is deployed (waitress), because waitress drops the forwarding
headers itself unless told otherwise; an in-process test would not see that.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from core.database import audit_log, make_engine
from tests.console.conftest import STAFF, Console, start_console

ATTEMPTS = 6  # CONSOLE_LOGIN_ATTEMPTS for these consoles


def run_console(tmp_path: Path, trusted_proxies: int) -> Iterator[Console]:
    running = start_console(
        tmp_path,
        f"sqlite:///{tmp_path / 'tracker.db'}",
        CONSOLE_TRUSTED_PROXIES=str(trusted_proxies),
        CONSOLE_LOGIN_ATTEMPTS=str(ATTEMPTS),
    )
    try:
        yield running
    finally:
        running.service.stop()


@pytest.fixture()
def direct(tmp_path: Path) -> Iterator[Console]:
    """A console reached without a proxy: CONSOLE_TRUSTED_PROXIES=0, the default."""
    yield from run_console(tmp_path, 0)


@pytest.fixture()
def proxied(tmp_path: Path) -> Iterator[Console]:
    """A console behind one proxy (nginx), CONSOLE_TRUSTED_PROXIES=1."""
    yield from run_console(tmp_path, 1)


def last_sign_in_address(console: Console) -> str:
    engine = make_engine(console.db_url)
    with engine.connect() as connection:
        address = connection.execute(
            sa.select(audit_log.c.remote_addr)
            .where(audit_log.c.action == "login")
            .order_by(audit_log.c.id.desc())
            .limit(1)
        ).scalar_one()
    engine.dispose()
    return str(address)


def attempt(
    console: Console, forwarded_for: str, username: str = "no-such-user", password: str = "wrong"
) -> int:
    session = console.session({"X-Forwarded-For": forwarded_for})
    response = session.post(
        f"{console.url}/login",
        data={"username": username, "password": password, "csrf_token": console.token(session, "/login")},
        allow_redirects=False,
        timeout=60,
    )
    if response.status_code == 429:
        assert int(response.headers["Retry-After"]) > 0
    return response.status_code


def test_behind_a_trusted_proxy_the_audit_log_has_the_client_address(proxied: Console) -> None:
    proxied.login(*STAFF, headers={"X-Forwarded-For": "203.0.113.7"})
    assert last_sign_in_address(proxied) == "203.0.113.7"
    # nginx appends the address it saw; what the client wrote before it is not believed.
    proxied.login(*STAFF, headers={"X-Forwarded-For": "198.51.100.66, 203.0.113.8"})
    assert last_sign_in_address(proxied) == "203.0.113.8"


def test_without_a_trusted_proxy_a_forged_forwarded_for_is_ignored(direct: Console) -> None:
    direct.login(*STAFF, headers={"X-Forwarded-For": "203.0.113.9"})
    assert last_sign_in_address(direct) == "127.0.0.1"


def test_the_login_limit_counts_the_address_the_proxy_reports(proxied: Console) -> None:
    assert [attempt(proxied, "203.0.113.20") for _ in range(ATTEMPTS)] == [401] * ATTEMPTS
    assert attempt(proxied, "203.0.113.20") == 429
    assert attempt(proxied, "203.0.113.21") == 401


def test_a_forged_forwarded_for_does_not_escape_the_login_limit(direct: Console) -> None:
    statuses = [attempt(direct, f"203.0.113.{number}") for number in range(ATTEMPTS + 1)]
    assert statuses == [401] * ATTEMPTS + [429]


def test_a_lockout_at_one_forwarded_address_leaves_the_others_open(proxied: Console) -> None:
    for _ in range(5):
        assert attempt(proxied, "203.0.113.30", STAFF[0]) == 401
    assert attempt(proxied, "203.0.113.30", *STAFF) == 401
    assert attempt(proxied, "203.0.113.31", *STAFF) == 302


def test_behind_an_https_proxy_the_strict_referrer_check_runs(proxied: Console) -> None:
    session = proxied.session({"X-Forwarded-For": "203.0.113.40", "X-Forwarded-Proto": "https"})
    form = {"username": STAFF[0], "password": STAFF[1], "csrf_token": proxied.token(session, "/login")}
    foreign = session.post(
        f"{proxied.url}/login", data=form, headers={"Referer": "https://evil.example/"}, allow_redirects=False
    )
    assert foreign.status_code == 400
    host = proxied.url.split("://", 1)[1]
    own = session.post(
        f"{proxied.url}/login", data=form, headers={"Referer": f"https://{host}/login"}, allow_redirects=False
    )
    assert own.status_code == 302
