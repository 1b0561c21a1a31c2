"""The live pages in headless Chromium: updates within two seconds, no reload, nothing the policy blocks.

The Rasa server is not running (see tests/console/live_support.py), so a reply sent from
the page comes back with the server's error, shown beside the reply box.
"""

from __future__ import annotations

import time
from typing import Iterator, List

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy.engine import Engine

from handoff import queue
from tests.browser import DESKTOP, launch_chromium
from tests.console.conftest import STAFF, Console
from tests.console.live_support import (  # noqa: F401 (fixtures)
    console_fixture,
    db_url_fixture,
    engine_fixture,
    enqueue,
    patient_says,
    store,
)

pytestmark = pytest.mark.servers
LIVE_MS = 2000  # what staff may wait for a change to show


@pytest.fixture
def page(console: Console) -> Iterator[Page]:
    """Chromium signed in as the staff user; fails the test on a script error or a policy violation."""
    problems: List[str] = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        tab = browser.new_context(viewport=DESKTOP).new_page()
        tab.on("pageerror", lambda error: problems.append(str(error)))
        tab.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        console.sign_in(tab, *STAFF)
        yield tab
        browser.close()
    # The failed reply's 502 is logged by Chromium as a failed resource; anything else is a fault.
    assert [problem for problem in problems if "502" not in problem] == []


def test_a_new_request_shows_on_the_waiting_page_and_in_the_top_bar_without_reload(
    page: Page, console: Console, db_url: str, engine: Engine
) -> None:
    page.goto(f"{console.url}/waiting")
    count = page.locator("#waiting-count")
    before = int(count.inner_text())
    sound = page.locator("#notify-sound")
    expect(sound).not_to_be_checked()
    request = enqueue(engine, channel="whatsapp", topic=None)
    store(db_url, request.sender_id, patient_says(["please call me <i>back</i>"], time.time()))
    started = time.monotonic()
    row = page.locator(f'#waiting-rows tr[data-id="{request.id}"]')
    expect(row).to_be_visible(timeout=LIVE_MS)
    expect(count).to_have_text(str(before + 1), timeout=LIVE_MS)
    assert time.monotonic() - started < LIVE_MS / 1000 + 0.5
    expect(row).to_contain_text("please call me <i>back</i>")  # as text, never as markup
    expect(row.locator("button", has_text="Take")).to_be_visible()

    # Another staff member takes it: the row says so, the Take button goes.
    queue.take(engine, request.id, "someone-else", "someone-else", time.time())
    expect(row).to_contain_text("Taken by someone-else", timeout=LIVE_MS)
    expect(row.locator("button", has_text="Take")).to_have_count(0)

    # The sound is opt-in and remembered in this browser.
    sound.check()
    assert page.evaluate("localStorage.getItem('console-notify-sound')") == "1"
    page.goto(f"{console.url}/dashboard")
    # Taken, it no longer counts as waiting; a new request does, on any page.
    expect(page.locator("#waiting-count")).to_have_text(str(before), timeout=LIVE_MS)
    enqueue(engine)
    expect(page.locator("#waiting-count")).to_have_text(str(before + 1), timeout=LIVE_MS)
    page.goto(f"{console.url}/waiting")
    expect(page.locator("#notify-sound")).to_be_checked()


def test_the_takeover_page_shows_new_messages_and_the_alert_and_sends_replies_in_place(
    page: Page, console: Console, db_url: str, engine: Engine
) -> None:
    request = enqueue(engine)
    store(db_url, request.sender_id, patient_says(["I need a physiotherapist"], time.time() - 30))
    queue.take(engine, request.id, STAFF[0], STAFF[0], time.time())
    page.goto(f"{console.url}/live/{request.id}")
    log = page.locator("#live-log")
    expect(log).to_contain_text("I need a physiotherapist")
    expect(page.locator("#live-alert")).to_be_hidden()

    store(db_url, request.sender_id, patient_says(["my leg went numb suddenly"], time.time()))
    expect(log).to_contain_text("my leg went numb suddenly", timeout=LIVE_MS)
    queue.raise_alert(engine, request.sender_id, time.time())
    expect(page.locator("#live-alert")).to_be_visible(timeout=LIVE_MS)

    page.fill("#reply-text", "Please call 999 now.")
    page.press("#reply-text", "Enter")
    expect(page.locator("#reply-error")).to_contain_text("cannot be reached", timeout=5000)
    expect(page.locator("#reply-text")).to_have_value("Please call 999 now.")
    assert page.url.endswith(f"/live/{request.id}")
