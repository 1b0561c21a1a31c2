"""The demo page served for the shared bot, and Chromium."""

from __future__ import annotations

from typing import Iterator, List

import pytest
from playwright.sync_api import ConsoleMessage, Dialog, Page, expect

from tests.browser import browser, page  # noqa: F401
from tests.demo.chat_page import WAIT_MS, WATCH
from tooling.launcher import Service, demo_server
from tooling.running_bot import LOG_DIR, RunningBot


def start_demo_site(bot: RunningBot) -> Service:
    """Starts the demo page on the port whose origin ``bot`` allows, talking to ``bot``."""
    service = demo_server(bot.demo_port, bot.rasa_url, log_path=LOG_DIR / f"demo-{bot.demo_port}.log")
    service.start()
    try:
        service.wait_ready(60)
    except BaseException:
        service.stop()
        raise
    return service


@pytest.fixture(scope="session")
def demo_url(bot: RunningBot) -> Iterator[str]:
    """The demo page's URL, for the whole session."""
    service = start_demo_site(bot)
    try:
        yield f"http://127.0.0.1:{bot.demo_port}/"
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
