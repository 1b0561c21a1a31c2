"""Two real browsers, the patient's widget and a signed-in staff console, on the live servers.

The session's Rasa server, action server, demo page and console all run for real; the
console reaches the Rasa server with the shared key, as under ``make run``. A person steps
in (screenshots of the queue, a takeover and the widget go to reports/), and a patient's
rating reaches the dashboard.
"""

from __future__ import annotations

import re
from typing import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from core import messages
from core.clinic import get_clinic
from tests.browser import DESKTOP, browser  # noqa: F401
from tests.console.conftest import STAFF, Console
from tests.demo.chat_page import REPORTS, ask, open_chat

pytestmark = pytest.mark.servers
LIVE_MS = 2000  # staff and patients see each other's messages within 2 s
ANSWER_MS = 60_000  # the assistant's own answers, on two shared cores


@pytest.fixture
def staff(browser: Browser, console: Console) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    console.sign_in(page, *STAFF)
    yield page
    context.close()


@pytest.fixture
def patient(browser: Browser) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(viewport={"width": 420, "height": 760})
    yield context.new_page()
    context.close()


def test_a_patient_asks_for_a_person_staff_take_over_reply_and_hand_back(
    staff: Page, patient: Page, console: Console, demo_url: str
) -> None:
    staff.goto(f"{console.url}/waiting")
    if staff.locator("#presence-button").inner_text().strip() == "I'm available":
        staff.click("#presence-button")
    expect(staff.locator("#presence-state")).to_have_text("You are available")

    open_chat(patient, demo_url)
    ask(patient, "/contact_human")
    clinic = get_clinic().name
    expect(patient.locator(".sc-msg-bot p").last).to_contain_text(
        f"A member of the {clinic} team will reply here", timeout=ANSWER_MS
    )

    # The queue shows it without a reload.
    row = staff.locator("#waiting-rows tr").last  # the oldest first: the newest request is the last row
    expect(row).to_be_visible(timeout=LIVE_MS)
    staff.screenshot(path=str(REPORTS / "handoff-queue.png"), full_page=True)
    row.locator("button", has_text="Take").click()
    staff.wait_for_url(re.compile(r".*/live/\d+$"))
    expect(patient.locator(".sc-msg-notice p").last).to_have_text(
        f"You're now chatting with {STAFF[0]} from {clinic}.", timeout=LIVE_MS
    )

    staff.fill("#reply-text", "Hello, I'm from the clinic. How can I help with your leg?")
    staff.press("#reply-text", "Enter")
    staff_bubble = patient.locator(".sc-msg-staff").last
    expect(staff_bubble).to_contain_text("How can I help with your leg?", timeout=LIVE_MS)
    expect(staff_bubble.locator(".sc-staff-name")).to_have_text(f"{STAFF[0]} · clinic staff")

    ask(patient, "My thigh got thinner after six weeks in a brace")
    expect(staff.locator("#live-log")).to_contain_text("six weeks in a brace", timeout=LIVE_MS)
    expect(patient.locator(".sc-typing")).to_be_hidden()  # a person answers: no "typing" promise
    staff.screenshot(path=str(REPORTS / "handoff-takeover.png"))
    patient.screenshot(path=str(REPORTS / "handoff-widget.png"))

    staff.locator("button", has_text="Hand back to the assistant").click()
    expect(patient.locator(".sc-msg-notice").last).to_contain_text(
        "handed the conversation back", timeout=LIVE_MS
    )
    ask(patient, "What is muscle atrophy?")
    expect(patient.locator(".sc-msg-user ~ .sc-replies")).to_be_visible(timeout=ANSWER_MS)
    expect(patient.locator(".sc-heading").last).to_be_visible()


TOPIC = "muscle_atrophy_overview"


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
