"""The hostile-input corpus (tests/hostile/corpus.yml) on the staff console: never a 5xx.

Each text is tried as login username and password, as every conversation filter and as
the ``next`` redirect target; raw bodies go to the login form and abusive raw requests to
its path. Afterwards the console still signs staff in and lists conversations.
"""

from __future__ import annotations

from typing import Iterator

import pytest
import requests

from tests.console.conftest import STAFF, Console
from tests.hostile import corpus
from tests.hostile.corpus import Text

pytestmark = pytest.mark.servers
# Every text goes through REST and WhatsApp; a console login hashes a password, so the
# console gets two texts of each category to stay within CI's time.
TEXTS = corpus.sample()
BODIES = corpus.bodies()
RAW = corpus.raw_requests()
FILTERS = ("q", "from", "to", "channel", "topic", "page", "flag")


def _safe(value: str) -> str:
    """requests cannot send lone surrogates; a browser would send U+FFFD."""
    return value.encode("utf-8", "replace").decode("utf-8")


@pytest.fixture(scope="module")
def staff(console: Console) -> Iterator[requests.Session]:
    session = console.login(*STAFF)
    yield session
    session.close()


@pytest.mark.parametrize("text", TEXTS, ids=[text.id for text in TEXTS])
def test_hostile_login(console: Console, text: Text) -> None:
    session = console.session()
    token = console.token(session, "/login")
    value = _safe(text.value)
    response = session.post(
        f"{console.url}/login",
        data={"username": value, "password": value, "csrf_token": token},
        params={"next": value[:2000]},
        allow_redirects=False,
        timeout=60,
    )
    assert response.status_code < 500, f"{text.id}: {response.status_code}"
    assert response.status_code != 302, "a hostile login must not succeed"


@pytest.mark.parametrize("text", TEXTS, ids=[text.id for text in TEXTS])
def test_hostile_filters(console: Console, staff: requests.Session, text: Text) -> None:
    value = _safe(text.value)[:4000]
    response = staff.get(f"{console.url}/conversations", params=dict.fromkeys(FILTERS, value), timeout=60)
    assert response.status_code < 500, f"{text.id}: {response.status_code}"


@pytest.mark.parametrize("body", BODIES, ids=[body.id for body in BODIES])
def test_hostile_login_bodies(console: Console, body: corpus.Body) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    response = requests.post(f"{console.url}/login", data=body.data, headers=headers, timeout=60)
    assert 400 <= response.status_code < 500, f"{body.id}: {response.status_code}"


# waitress answers 501 Not Implemented to a transfer coding it does not implement ("gzip", or
# "identity" after "chunked"), as RFC 9112 section 6.1 asks of a server: the request is
# refused before the console sees it. Any other 5xx is a crash.
UNKNOWN_TRANSFER_CODING = {"transfer-encoding-gzip", "transfer-encoding-twice"}


@pytest.mark.parametrize("request_spec", RAW, ids=[raw.id for raw in RAW])
def test_hostile_http_on_the_login_path(console: Console, request_spec: corpus.RawRequest) -> None:
    raw = corpus.fill(request_spec, "/login", "127.0.0.1", b"username=a&password=b")
    status = corpus.send_raw(console.url, raw)
    if request_spec.id in UNKNOWN_TRANSFER_CODING:
        assert status == 501, f"{request_spec.id}: {status}"
    else:
        assert corpus.outcome_ok(request_spec.expect, status, answered=False), f"{request_spec.id}: {status}"


def test_still_serving_after_the_corpus(console: Console) -> None:
    assert console.service.running
    session = console.login(*STAFF)
    assert session.get(f"{console.url}/conversations", timeout=60).status_code == 200
