"""A patient rates an answer in the real widget; staff see it on the dashboard (two browsers).

The session's Rasa server, action server, demo page and console run for real; the
console's indexer derives the rating from the stored conversation.
"""

from __future__ import annotations

from typing import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from core import messages
from tests.browser import DESKTOP, browser  # noqa: F401
from tests.console.conftest import STAFF, Console
from tests.demo.chat_page import ask, open_chat
from tests.demo.conftest import start_demo_site
from tooling.running_bot import RunningBot

pytestmark = pytest.mark.servers
ANSWER_MS = 60_000
TOPIC = "muscle_atrophy_overview"


@pytest.fixture(scope="module")
def demo_url(bot: RunningBot) -> Iterator[str]:
    service = start_demo_site(bot)
    try:
        yield f"http://127.0.0.1:{bot.demo_port}/"
    finally:
        service.stop()


@pytest.fixture
def staff(browser: Browser, console: Console) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{console.url}/login")
    page.fill("input[name=username]", STAFF[0])
    page.fill("input[name=password]", STAFF[1])
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")
    yield page
    context.close()


def helpful_of(staff: Page, console: Console) -> int:
    """The dashboard's "rated helpful" count of the topic (0 before its first answer)."""
    staff.goto(f"{console.url}/dashboard")
    row = staff.locator(f'#learning tr[data-topic="{TOPIC}"] [data-figure="topic_helpful"]')
    return int(row.inner_text()) if row.count() else 0


def test_a_helpful_click_in_the_widget_shows_on_the_dashboard(
    browser: Browser,  # noqa: F811
    staff: Page,
    console: Console,
    demo_url: str,
) -> None:
    before = helpful_of(staff, console)
    context = browser.new_context(viewport={"width": 420, "height": 760})
    patient = context.new_page()
    try:
        open_chat(patient, demo_url)
        ask(patient, "what is muscle atrophy?")
        helpful = patient.locator(".sc-reply", has_text=messages.text("rate_helpful", "en"))
        expect(helpful).to_be_visible(timeout=ANSWER_MS)
        expect(patient.locator(".sc-reply", has_text=messages.text("rate_not_helpful", "en"))).to_be_visible()
        helpful.click()
        expect(patient.locator(".sc-msg-bot p").last).to_have_text(
            messages.text("rated_helpful", "en"), timeout=ANSWER_MS
        )
    finally:
        context.close()
    # The console indexes every 2 s; the dashboard counts the click under the topic it rated.
    for _ in range(30):
        if helpful_of(staff, console) == before + 1:
            break
        staff.wait_for_timeout(1000)
    assert helpful_of(staff, console) == before + 1
