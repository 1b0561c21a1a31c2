"""The demo page server over real HTTP: security headers, the widget bundle and its config."""

from __future__ import annotations

import gzip
import json
import re
from html.parser import HTMLParser
from typing import Dict, List, Optional, Tuple

import pytest
import requests

from core.clinic import get_clinic
from core.settings import get_settings
from demo.server import BUNDLE, content_security_policy, json_for_script
from tests.demo.conftest import RASA_URL


class Scripts(HTMLParser):
    """Collects the page's <script> elements: attributes and text."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: List[Tuple[Dict[str, Optional[str]], str]] = []
        self._open: Optional[Dict[str, Optional[str]]] = None

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        if tag == "script":
            self._open = dict(attrs)
            self.scripts.append((self._open, ""))

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._open = None


def scripts_of(html: str) -> List[Tuple[Dict[str, Optional[str]], str]]:
    parser = Scripts()
    parser.feed(html)
    return parser.scripts


def test_the_page_has_a_strict_content_security_policy(site: str) -> None:
    response = requests.get(f"{site}/", timeout=30)
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    directives = dict(item.strip().split(" ", 1) for item in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["connect-src"] == f"{RASA_URL} ws://rasa.example:5005"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_page_runs_no_inline_script_and_embeds_the_widget_with_one_tag(site: str) -> None:
    scripts = scripts_of(requests.get(f"{site}/", timeout=30).text)
    executable = [attrs for attrs, _ in scripts if attrs.get("type") != "application/json"]
    assert executable == [{"src": "/synapse-chat.js", "defer": None}]
    [config_text] = [text for attrs, text in scripts if attrs.get("type") == "application/json"]
    config = json.loads(config_text)
    assert config["server"] == RASA_URL
    assert config["maxMessageChars"] == get_settings().core.max_message_chars
    assert config["clinic"]["name"] == get_clinic().name
    assert None not in config["clinic"].values()


@pytest.mark.parametrize(("query", "language"), [("", "en"), ("?lang=ms", "ms"), ("?lang=xx", "en")])
def test_the_page_language_follows_the_lang_parameter(site: str, query: str, language: str) -> None:
    html = requests.get(f"{site}/{query}", timeout=30).text
    assert re.search(rf'<html lang="{language}">', html)
    [config_text] = [text for attrs, text in scripts_of(html) if attrs.get("type") == "application/json"]
    assert json.loads(config_text)["lang"] == language


def test_the_bundle_is_served_compressed_and_whole(site: str) -> None:
    built = BUNDLE.read_bytes()
    compressed = requests.get(
        f"{site}/synapse-chat.js", headers={"Accept-Encoding": "gzip"}, stream=True, timeout=30
    )
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert compressed.headers["Content-Type"].startswith("text/javascript")
    assert gzip.decompress(compressed.raw.read()) == built
    plain = requests.get(f"{site}/synapse-chat.js", headers={"Accept-Encoding": "identity"}, timeout=30)
    assert "Content-Encoding" not in plain.headers
    assert plain.content == built


def test_unknown_paths_are_404_with_the_same_headers(site: str) -> None:
    response = requests.get(f"{site}/../etc/passwd", timeout=30)
    assert response.status_code == 404
    assert "Content-Security-Policy" in response.headers


def test_config_json_cannot_close_its_script_element() -> None:
    text = json_for_script({"name": "</script><script>alert(1)</script><!--"})
    assert "<" not in text and ">" not in text
    assert json.loads(text) == {"name": "</script><script>alert(1)</script><!--"}


def test_a_secure_rasa_url_gives_a_wss_socket_origin() -> None:
    assert "connect-src https://bot.example wss://bot.example;" in content_security_policy(
        "https://bot.example"
    )
    with pytest.raises(ValueError):
        content_security_policy("javascript:alert(1)")
