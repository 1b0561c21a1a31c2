"""The hostile-input corpus (tests/hostile/corpus.yml) on the demo page server: never a 5xx, no file leaks.

The page is public: anyone can send it abusive requests, paths that climb out of the site,
and texts in its one parameter (``lang``). Afterwards it still serves the page.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
import requests

from tests.hostile import corpus
from tests.hostile.corpus import Text

TEXTS = corpus.sample()
RAW = corpus.raw_requests()
# Paths that try to climb out of the site or to reach the code beside it.
CLIMBING = [
    "/../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/..%2f..%2fpyproject.toml",
    "/synapse-chat.js/../../pyproject.toml",
    "//etc/passwd",
    "/demo/server.py",
    "/.env",
    "/%00",
    "/" + "a" * 8000,
]
# What any of those files would show if it leaked.
SECRETS_OF_FILES = ("root:", "[tool.ruff]", "import ", "SECRET")


@pytest.mark.parametrize("request_spec", RAW, ids=[raw.id for raw in RAW])
def test_hostile_http_on_the_page(site: str, request_spec: corpus.RawRequest) -> None:
    raw = corpus.fill(request_spec, "/", "127.0.0.1", b"lang=ms")
    status = corpus.send_raw(site, raw)
    assert corpus.outcome_ok(request_spec.expect, status, answered=False), f"{request_spec.id}: {status}"


@pytest.mark.parametrize("path", CLIMBING)
def test_no_path_reaches_a_file_outside_the_site(site: str, path: str) -> None:
    raw = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
    status = corpus.send_raw(site, raw)
    assert 400 <= status < 500 or status == 0, f"{path[:40]}: {status}"
    response = requests.get(site + quote(path, safe="/%"), timeout=30)
    assert response.status_code >= 400
    assert not any(secret in response.text for secret in SECRETS_OF_FILES)


@pytest.mark.parametrize("text", TEXTS, ids=[text.id for text in TEXTS])
def test_hostile_language_parameter(site: str, text: Text) -> None:
    value = text.value.encode("utf-8", "replace").decode("utf-8")[:2000]
    response = requests.get(site, params={"lang": value}, timeout=30)
    assert response.status_code < 500, f"{text.id}: {response.status_code}"
    if response.status_code == 200:
        # An unknown language falls back to English; the text itself is never echoed.
        assert '<html lang="en">' in response.text
        assert len(value) < 4 or value not in response.text


def test_still_serving_after_the_corpus(site: str) -> None:
    response = requests.get(site, params={"lang": "ms"}, timeout=30)
    assert response.status_code == 200 and '<html lang="ms">' in response.text
