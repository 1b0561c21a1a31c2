"""Signing in: one answer for every failure, a per-address limit, and a lockout outsiders cannot use.

The console runs in this process (Flask's test client), so each request can come from the
client address the test chooses.
"""

from __future__ import annotations

import re
from typing import Any, Callable, List

import pytest
from argon2 import PasswordHasher
from flask import Flask
from werkzeug.test import TestResponse

from console import accounts, throttle
from console.context import ConsoleContext
from console.throttle import LoginThrottle, client_key
from tests.console.conftest import STAFF, post_login

HOME, OUTSIDER = "192.0.2.10", "198.51.100.66"
MAX_FAILURES = 5  # CONSOLE_MAX_FAILED_LOGINS, default


def alert(response: TestResponse) -> str:
    """The error shown on the sign-in page."""
    match = re.search(r'role="alert">(.*?)</div>', response.get_data(as_text=True), re.S)
    assert match, response.get_data(as_text=True)[:500]
    return " ".join(match.group(1).split())


def console_of(app: Flask) -> ConsoleContext:
    return app.extensions["console"]  # type: ignore[no-any-return]


def fail_from(app: Flask, address: str, username: str, times: int) -> None:
    client = app.test_client()
    for _ in range(times):
        assert post_login(client, username, "not the password", address).status_code == 401


def test_unknown_user_wrong_password_and_locked_account_get_the_same_answer(
    console_app: Callable[..., Flask],
) -> None:
    app = console_app()
    accounts.create_user(console_of(app).engine, "locked-user", "a long and secret phrase")
    fail_from(app, OUTSIDER, "locked-user", MAX_FAILURES)
    client = app.test_client()
    answers = {
        "unknown user": post_login(client, "no-such-user", "a long and secret phrase", OUTSIDER),
        "wrong password": post_login(client, STAFF[0], "not the password", OUTSIDER),
        "locked account": post_login(client, "locked-user", "a long and secret phrase", OUTSIDER),
    }
    assert {name: answer.status_code for name, answer in answers.items()} == dict.fromkeys(answers, 401)
    messages = {name: alert(answer) for name, answer in answers.items()}
    assert len(set(messages.values())) == 1, messages
    assert "locked" not in messages["unknown user"].lower()


def test_the_login_limit_answers_429_with_retry_after_before_any_password_is_hashed(
    console_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = console_app(CONSOLE_LOGIN_ATTEMPTS="3", CONSOLE_LOGIN_WINDOW_SECONDS="600")
    hashed: List[str] = []
    verify = PasswordHasher.verify

    def counting(self: PasswordHasher, password_hash: Any, password: Any) -> bool:
        hashed.append(password)
        return verify(self, password_hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    fail_from(app, OUTSIDER, "no-such-user", 2)
    fail_from(app, OUTSIDER, STAFF[0], 1)
    assert len(hashed) == 3
    refused = post_login(app.test_client(), *STAFF, OUTSIDER)  # even the right password
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 600
    assert "Too many sign-in attempts" in alert(refused)
    assert len(hashed) == 3, "a refused attempt must not cost a hash"
    assert post_login(app.test_client(), *STAFF, HOME).status_code == 302  # other addresses are not limited


def test_failures_from_one_address_do_not_lock_out_the_user_at_another(
    console_app: Callable[..., Flask],
) -> None:
    app = console_app()
    fail_from(app, OUTSIDER, STAFF[0], MAX_FAILURES)
    assert post_login(app.test_client(), *STAFF, OUTSIDER).status_code == 401  # locked at that address
    assert post_login(app.test_client(), *STAFF, HOME).status_code == 302  # the real user signs in
    # The lockout at the outsider's address stays until it ends or an admin unlocks the user.
    assert post_login(app.test_client(), *STAFF, OUTSIDER).status_code == 401
    accounts.unlock(console_of(app).engine, STAFF[0])
    assert post_login(app.test_client(), *STAFF, OUTSIDER).status_code == 302


def test_an_ipv6_client_is_limited_by_its_64_bit_network() -> None:
    # One machine usually holds a whole /64: changing the last bits must not escape the limit.
    assert client_key("2001:db8:1:2::5") == client_key("2001:db8:1:2:ffff:ffff:ffff:1")
    assert client_key("2001:db8:1:3::5") != client_key("2001:db8:1:2::5")
    assert client_key("192.0.2.7") == "192.0.2.7"
    assert client_key("not an address") == "not an address"


def test_the_limit_slides_with_its_window_and_forgets_idle_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    limit = LoginThrottle(2, 60, clock=lambda: now[0])
    assert limit.attempt("a").allowed and limit.attempt("a").allowed
    refused = limit.attempt("a")
    assert (refused.allowed, refused.retry_after, refused.first_refusal) == (False, 60, True)
    now[0] = 30.0
    again = limit.attempt("a")
    assert (again.allowed, again.retry_after, again.first_refusal) == (False, 30, False)
    now[0] = 60.5
    assert limit.attempt("a").allowed
    monkeypatch.setattr(throttle, "MAX_ADDRESSES", 3)
    for number in range(10):
        limit.attempt(f"client-{number}")
    assert len(limit._recent) <= 3
