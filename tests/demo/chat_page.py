"""Drives the chat widget on the demo page: open it, ask, read the bubbles, check storage."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import List

from playwright.sync_api import Page, expect

from channels.web_sessions import stored_sender
from core import messages
from core.clinic import get_clinic
from core.knowledge import KnowledgeBase, render_quote
from core.settings import PROJECT_ROOT
from tooling.running_bot import RunningBot

REPORTS = PROJECT_ROOT / "reports"
WAIT_MS = 60_000
# Records what a page logs and any Content-Security-Policy violation.
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective));
"""
SHADOW = "document.querySelector('#synapse-chat').shadowRoot"


def greeting(language: str = "en") -> str:
    return messages.text("greet", language, clinic=get_clinic().name)


def open_chat(page: Page, url: str) -> None:
    page.goto(url)
    page.locator(".sc-launcher").click()
    expect(page.locator(".sc-msg-bot p").first).to_have_text(greeting())
    expect(page.locator(".sc-reply").first).to_be_visible()


def ask(page: Page, question: str) -> None:
    page.locator(".sc-input").fill(question)
    page.locator(".sc-input").press("Enter")
    expect(page.locator(".sc-msg-user p").last).to_have_text(question)


def bubbles(page: Page) -> List[List[str]]:
    """Returns each bot bubble as the texts of its paragraphs."""
    return page.locator(".sc-msg-bot").evaluate_all(
        "els => els.map(e => Array.from(e.querySelectorAll('p'), p => p.textContent))"
    )


def quote_blocks(knowledge: KnowledgeBase, topic_id: str) -> List[List[str]]:
    """Returns a topic's quote as the bubbles it must show: one per block, one <p> per line."""
    topic = knowledge.topic(topic_id)
    assert topic is not None
    quote = render_quote(topic, messages.text("heading_added", "en"))
    return [[line.strip() for line in block.split("\n") if line.strip()] for block in quote.split("\n\n")]


def expect_quote(page: Page, knowledge: KnowledgeBase, topic_id: str) -> None:
    blocks = quote_blocks(knowledge, topic_id)
    # The footer's quick replies come last: once they show, the whole answer has.
    expect(page.locator(".sc-msg-user ~ .sc-replies")).to_be_visible()
    shown = bubbles(page)
    for block in blocks:
        assert block in shown
    heading = page.locator(".sc-msg-bot", has=page.locator(".sc-heading", has_text=blocks[0][0]))
    expect(heading.locator("p").first).to_have_class("sc-heading")


def session_id(page: Page) -> str:
    """The session token the widget keeps in sessionStorage (the server's, once confirmed)."""
    return page.evaluate(
        "() => JSON.parse(sessionStorage.getItem(Object.keys(sessionStorage)"
        ".find((key) => key.startsWith('synapse-chat:')))).sessionId"
    )


def stored_user_events(bot: RunningBot, token: str) -> List[dict]:
    """The stored user events of session ``token``, under the id the server stores for it."""
    with sqlite3.connect(bot.tracker_db) as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'", (stored_sender(token),)
        ).fetchall()
    return [json.loads(data) for (data,) in rows]


def stored_user_texts(bot: RunningBot, token: str) -> List[str]:
    return [event["text"] for event in stored_user_events(bot, token)]


def stored_once_answered(bot: RunningBot, token: str, last: str) -> List[str]:
    """Returns the stored user texts of session ``token`` once ``last`` is among them (Rasa
    stores a turn after sending its replies)."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while last not in (texts := stored_user_texts(bot, token)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return texts


def shadow_count(page: Page, selector: str) -> int:
    return page.evaluate(f"{SHADOW}.querySelectorAll({json.dumps(selector)}).length")
