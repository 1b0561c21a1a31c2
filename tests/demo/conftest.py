"""Chromium for the demo page's tests (the page itself: ``demo_url`` in tests/conftest.py)."""

from __future__ import annotations

from typing import Iterator, List

import pytest
from playwright.sync_api import ConsoleMessage, Dialog, Page, expect

from tests.browser import browser, page  # noqa: F401
from tests.demo.chat_page import WAIT_MS, WATCH
from tooling.launcher import demo_server, free_port
from tooling.running_bot import LOG_DIR

# The page alone: its Rasa server is never reached by these tests.
RASA_URL = "http://rasa.example:5005"


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The demo page server alone, on a free port."""
    port = free_port()
    service = demo_server(port, RASA_URL, log_path=LOG_DIR / f"demo-{port}.log")
    service.start()
    try:
        service.wait_ready(60)
        yield f"http://127.0.0.1:{port}"
    finally:
        service.stop()


@pytest.fixture(autouse=True)
def _default_timeout() -> None:
    expect.set_options(timeout=WAIT_MS)


@pytest.fixture
def watched(page: Page) -> Iterator[Page]:  # noqa: F811 (the fixture imported above)
    """The page, failing the test on a CSP violation, a console error or a dialog."""
    problems: List[str] = []

    def on_dialog(dialog: Dialog) -> None:
        problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    page.add_init_script(WATCH)
    page.on("dialog", on_dialog)
    page.on("console", on_console)
    yield page
    problems += [f"CSP: {directive}" for directive in page.evaluate("window.__csp || []")]
    assert problems == []
