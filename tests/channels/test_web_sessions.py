"""Web chat session tokens: signed, expiring, and hashed into a stored id that ignores the time."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from channels.web_sessions import (
    confirmed_token,
    is_current,
    is_issued_token,
    issue_token,
    stored_sender,
)
from core.settings import WebChatSettings

KEY = b"a web session key for these tests, long enough to be real"
HOUR = 3600.0
NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("age_s", "current"),
    [
        (0, True),
        (23.9 * HOUR, True),
        (24 * HOUR, False),
        (30 * 24 * HOUR, False),
        (-60, True),  # a replica's clock a minute ahead
        (-HOUR, False),
    ],
)
def test_a_token_is_current_for_its_lifetime_only(age_s: float, current: bool) -> None:
    token = issue_token(KEY, now=NOW - age_s)
    assert is_issued_token(token, KEY)
    assert is_current(token, KEY, 24 * HOUR, now=NOW) is current


def test_an_expired_token_is_replaced_and_a_current_one_kept() -> None:
    current = issue_token(KEY)
    expired = issue_token(KEY, now=NOW - 48 * HOUR)
    assert confirmed_token(current, KEY, 24 * HOUR) == current
    renewed = confirmed_token(expired, KEY, 24 * HOUR)
    assert renewed != expired and is_current(renewed, KEY, 24 * HOUR)
    assert stored_sender(renewed, KEY) != stored_sender(expired, KEY)


def test_moving_the_issue_time_breaks_the_signature() -> None:
    token = issue_token(KEY, now=NOW - 48 * HOUR)
    prefix, nonce, issued, signature = token.split(".")
    moved = ".".join([prefix, nonce, str(int(NOW)), signature])
    assert not is_issued_token(moved, KEY)
    assert not is_current(moved, KEY, 24 * HOUR, now=NOW)


def test_the_stored_id_depends_on_the_session_not_on_the_clock() -> None:
    token = issue_token(KEY, now=NOW)
    assert stored_sender(token, KEY) == stored_sender(token, KEY)
    assert stored_sender(token, KEY) != stored_sender(issue_token(KEY, now=NOW), KEY)


@pytest.mark.parametrize("hours", [0, -1])
def test_a_lifetime_that_is_not_positive_is_refused(hours: float) -> None:
    with pytest.raises(ValidationError, match="session_hours"):
        WebChatSettings(session_hours=hours)
