"""The chat widget in headless Chromium, on the demo page, against the real Rasa + action servers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, Literal, Tuple

import pytest
from playwright.sync_api import Browser, Page, expect

from channels.web_sessions import is_issued_token
from core.clinic import get_clinic
from core.knowledge import KnowledgeBase
from core.settings import get_settings
from tests.demo.chat_page import (
    REPORTS,
    SHADOW,
    ask,
    bubbles,
    expect_quote,
    greeting,
    open_chat,
    session_id,
    shadow_count,
    stored_once_answered,
    stored_user_events,
)
from tooling.running_bot import RunningBot, start_bot, start_demo_site

pytestmark = pytest.mark.servers


def test_a_prevention_question_shows_the_verbatim_quote(
    watched: Page, demo_url: str, knowledge: KnowledgeBase
) -> None:
    open_chat(watched, demo_url)
    ask(watched, "how can I prevent muscle atrophy?")
    expect_quote(watched, knowledge, "prevention")


def test_a_button_sends_its_payload_shows_its_title_and_gets_its_answer(
    watched: Page, demo_url: str, knowledge: KnowledgeBase
) -> None:
    open_chat(watched, demo_url)
    topic = knowledge.topic("atrophy_symptoms")
    assert topic is not None
    watched.locator(".sc-reply", has_text=topic.title("en")).click()
    expect(watched.locator(".sc-msg-user p").last).to_have_text(topic.title("en"))
    expect_quote(watched, knowledge, "atrophy_symptoms")
    assert "/atrophy_symptoms" not in (watched.locator(".sc-log").text_content() or "")


def test_a_reload_continues_the_same_conversation(
    watched: Page, demo_url: str, bot: RunningBot, knowledge: KnowledgeBase
) -> None:
    open_chat(watched, demo_url)
    ask(watched, "how can I prevent muscle atrophy?")
    expect_quote(watched, knowledge, "prevention")
    before = bubbles(watched)
    conversation = session_id(watched)
    # The widget's own random id was replaced by the server's signed token.
    assert is_issued_token(conversation)

    watched.reload()
    expect(watched.locator(".sc-root")).to_have_attribute("data-status", "online")
    assert bubbles(watched) == before
    assert session_id(watched) == conversation
    ask(watched, "is muscle atrophy reversible?")
    expect_quote(watched, knowledge, "reversibility")
    texts = stored_once_answered(bot, conversation, "is muscle atrophy reversible?")
    assert texts[0] == "/greet"
    assert texts[1:] == ["how can I prevent muscle atrophy?", "is muscle atrophy reversible?"]


@pytest.mark.parametrize("markup", ["<img src=x onerror=alert(1)>", "[x](javascript:alert(1))"])
def test_markup_is_shown_as_text_and_never_runs(watched: Page, demo_url: str, markup: str) -> None:
    open_chat(watched, demo_url)
    ask(watched, markup)
    expect(watched.locator(".sc-msg-user ~ .sc-msg-bot").first).to_be_visible()  # answered
    assert shadow_count(watched, "img, script, iframe, object, embed") == 0
    # The only links are the clinic's own http(s) addresses (contact bar and contact lines).
    links = watched.evaluate(f"Array.from({SHADOW}.querySelectorAll('a'), (a) => [a.href, a.textContent])")
    assert all(href.startswith(("https://", "http://")) and text != "x" for href, text in links)
    assert watched.evaluate("document.querySelectorAll('img').length") == 0
    watched.reload()  # the stored transcript renders as text too
    expect(watched.locator(".sc-msg-user p").last).to_have_text(markup)
    assert shadow_count(watched, "img, script, iframe, object, embed") == 0


def test_the_clinic_link_and_the_emergency_number_are_visible(watched: Page, demo_url: str) -> None:
    open_chat(watched, demo_url)
    clinic = get_clinic()
    assert clinic.website
    link = watched.locator(".sc-contact-link")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", re.compile(re.escape(clinic.website)))
    expect(watched.locator(".sc-emergency")).to_contain_text("999")


def test_controls_are_labelled_and_new_messages_are_announced(watched: Page, demo_url: str) -> None:
    watched.goto(demo_url)
    watched.get_by_role("button", name=re.compile("^Ask us")).click()
    expect(watched.get_by_role("dialog", name=get_clinic().name)).to_be_visible()
    expect(watched.get_by_label("Your question")).to_be_focused()
    expect(watched.get_by_role("button", name="Send")).to_be_visible()
    expect(watched.get_by_role("button", name="Close the chat")).to_be_visible()
    log = watched.get_by_role("log")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(log.locator(".sc-msg-bot").first).to_contain_text(greeting())
    expect(watched.get_by_role("group", name="Suggested topics")).to_be_visible()


def active_in_widget(page: Page) -> str:
    """Returns the class of the focused element inside the widget ("" when outside)."""
    return page.evaluate(
        "() => document.activeElement && document.activeElement.id === 'synapse-chat'"
        f" ? ({SHADOW}.activeElement || {{}}).className || '' : ''"
    )


def test_the_widget_works_with_the_keyboard_alone(watched: Page, demo_url: str) -> None:
    watched.goto(demo_url)
    for _ in range(30):
        watched.keyboard.press("Tab")
        if "sc-launcher" in active_in_widget(watched):
            break
    assert "sc-launcher" in active_in_widget(watched)
    watched.keyboard.press("Enter")
    expect(watched.locator(".sc-panel")).to_be_visible()
    assert active_in_widget(watched) == "sc-input"
    expect(watched.locator(".sc-reply").first).to_be_visible()
    watched.keyboard.type("hello")
    watched.keyboard.press("Enter")
    expect(watched.locator(".sc-msg-user p").last).to_have_text("hello")
    expect(watched.locator(".sc-reply").first).to_be_visible()
    watched.keyboard.press("Shift+Tab")  # from the input back to the last quick reply
    assert active_in_widget(watched) == "sc-reply"
    title = watched.evaluate(f"{SHADOW}.activeElement.textContent")
    watched.keyboard.press("Enter")
    expect(watched.locator(".sc-msg-user p").last).to_have_text(title)
    watched.keyboard.press("Escape")
    expect(watched.locator(".sc-panel")).to_be_hidden()
    assert "sc-launcher" in active_in_widget(watched)


def test_the_message_length_is_limited_as_on_the_server(watched: Page, demo_url: str) -> None:
    limit = get_settings().core.max_message_chars
    open_chat(watched, demo_url)
    field = watched.locator(".sc-input")
    expect(field).to_have_attribute("maxlength", str(limit))
    field.focus()
    watched.keyboard.insert_text("a" * (limit + 50))
    assert len(field.input_value()) == limit
    expect(watched.locator(".sc-count")).to_have_text("0 characters left")


def test_a_typing_indicator_shows_while_waiting(watched: Page, demo_url: str) -> None:
    open_chat(watched, demo_url)
    shown = watched.evaluate(
        f"""() => {{
        const root = {SHADOW};
        root.querySelector('.sc-input').value = 'is muscle atrophy reversible?';
        root.querySelector('.sc-form').requestSubmit();
        return !root.querySelector('.sc-typing').hidden;
    }}"""
    )
    assert shown
    expect(watched.locator(".sc-typing")).to_be_hidden()


def test_motion_stops_when_the_user_prefers_reduced_motion(browser: Browser, demo_url: str) -> None:
    names: Dict[str, Any] = {}
    preferences: Tuple[Literal["no-preference"], Literal["reduce"]] = ("no-preference", "reduce")
    for preference in preferences:
        context = browser.new_context(reduced_motion=preference)
        page = context.new_page()
        page.goto(demo_url)
        page.locator(".sc-launcher").click()
        names[preference] = page.evaluate(
            f"""() => ['.sc-panel', '.sc-typing-dot'].map(
                (s) => getComputedStyle({SHADOW}.querySelector(s)).animationName)"""
        )
        context.close()
    assert "none" not in names["no-preference"]
    assert names["reduce"] == ["none", "none"]


def test_the_malay_page_has_malay_controls_and_a_malay_greeting(
    watched: Page, demo_url: str, bot: RunningBot
) -> None:
    watched.goto(f"{demo_url}?lang=ms")
    watched.get_by_role("button", name=re.compile("^Tanya kami")).click()
    expect(watched.get_by_label("Soalan anda")).to_be_visible()
    expect(watched.locator(".sc-msg-bot p").first).to_have_text(greeting("ms"))
    # The page's language travels as metadata with every message: the stored greeting is
    # "/greet" on both pages, no Malay word the patient never typed.
    conversation = session_id(watched)
    assert stored_once_answered(bot, conversation, "/greet") == ["/greet"]
    ask(watched, "ok")
    assert stored_once_answered(bot, conversation, "ok") == ["/greet", "ok"]
    assert [event["metadata"]["language"] for event in stored_user_events(bot, conversation)] == ["ms", "ms"]


def test_readable_at_360_px_with_a_screenshot(
    browser: Browser, demo_url: str, knowledge: KnowledgeBase
) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2)
    page = context.new_page()
    try:
        open_chat(page, demo_url)
        ask(page, "how can I prevent muscle atrophy?")
        expect_quote(page, knowledge, "prevention")
        panel = page.locator(".sc-panel").bounding_box()
        assert panel is not None and panel["width"] == 360
        assert page.evaluate(f"{SHADOW}.querySelector('.sc-scroll').scrollWidth") <= 360
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        REPORTS.mkdir(exist_ok=True)
        page.screenshot(path=str(REPORTS / "widget-360.png"))
    finally:
        context.close()


def test_reconnecting_state_and_recovery(browser: Browser, tmp_path: Path, knowledge: KnowledgeBase) -> None:
    own_bot = start_bot(tmp_path)  # its own servers: the shared bot stays up
    demo = start_demo_site(own_bot)
    context = browser.new_context(viewport={"width": 360, "height": 740})
    try:
        page = context.new_page()
        open_chat(page, f"http://127.0.0.1:{own_bot.demo_port}/")
        conversation = session_id(page)
        rasa = own_bot.group.services[-1]
        rasa.stop()
        expect(page.locator(".sc-root")).to_have_attribute("data-status", "reconnecting")
        expect(page.locator(".sc-banner")).to_have_text("Connection lost. Reconnecting…")
        expect(page.locator(".sc-send")).to_have_attribute("aria-disabled", "true")
        REPORTS.mkdir(exist_ok=True)
        page.screenshot(path=str(REPORTS / "widget-360-reconnecting.png"))

        rasa.start()
        rasa.wait_ready()
        expect(page.locator(".sc-root")).to_have_attribute("data-status", "online")
        expect(page.locator(".sc-banner")).to_have_text("Connected again.")
        ask(page, "how can I prevent muscle atrophy?")
        expect_quote(page, knowledge, "prevention")
        question = "how can I prevent muscle atrophy?"
        assert stored_once_answered(own_bot, conversation, question) == ["/greet", question]
    finally:
        context.close()
        demo.stop()
        own_bot.group.stop()
