"""A staff member in headless Chromium: sign in, find a fallback, annotate it, download exports."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterator, List

import pytest
from playwright.sync_api import ConsoleMessage, Dialog, Page, sync_playwright
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from tests.browser import launch_chromium
from tests.console import scenario as conversations
from tests.console.conftest import ADMIN, Console
from tooling.running_bot import RunningBot

pytestmark = pytest.mark.servers


@pytest.fixture
def page() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
        yield context.new_page()
        browser.close()


def test_staff_finds_a_fallback_annotates_it_and_downloads_the_exports(
    page: Page, console: Console, bot: RunningBot, tmp_path: Path
) -> None:
    scenario = conversations.create(bot, bot.rasa_url)
    target = conversations.find(console, console.login(*ADMIN), scenario.senders["unclear"])
    xss = conversations.find(console, console.login(*ADMIN), scenario.senders["xss"])
    dialogs: List[str] = []
    policy_errors: List[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security" in message.text:
            policy_errors.append(message.text)

    page.on("dialog", on_dialog)
    page.on("console", on_console)

    page.goto(f"{console.url}/conversations")
    assert "/login" in page.url
    page.fill("#username", ADMIN[0])
    page.fill("#password", ADMIN[1])
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**/conversations")  # back where the sign-in started
    page.click("nav.mainnav >> text=Dashboard")
    # The click returns once the navigation commits; the page may still be loading.
    page.wait_for_url("**/dashboard")
    assert page.locator("h1", has_text="Dashboard").is_visible()
    assert page.locator("svg.chart").count() >= 3

    page.click("nav.mainnav >> text=Conversations")
    page.check("input[name=flag][value=fallback]")
    page.click("button:has-text('Apply')")
    page.wait_for_url("**flag=fallback**")
    page.click(f"table.conversations a[href='/conversations/{target}'] >> nth=0")
    page.wait_for_url(f"**/conversations/{target}")
    turn = page.locator("article.turn", has_text=scenario.unclear)
    assert turn.locator("code", has_text="nlu_fallback").is_visible()
    turn.locator("select[name=intent]").select_option("out_of_scope")
    turn.locator("button:has-text('Save annotation')").click()
    page.wait_for_url(f"**/conversations/{target}**")
    assert page.locator(".notice.success").is_visible()
    assert page.locator("article.turn", has_text=scenario.unclear).locator("text=Annotated by").is_visible()

    page.click("nav.mainnav >> text=Annotations")
    with page.expect_download() as nlu_download:
        page.click("text=Download NLU YAML")
    nlu_file = tmp_path / "nlu.yml"
    nlu_download.value.save_as(nlu_file)
    training = RasaYAMLReader().reads(nlu_file.read_text(encoding="utf-8"))
    assert ("out_of_scope", scenario.unclear) in {
        (example.get("intent"), example.get("text")) for example in training.intent_examples
    }

    page.goto(f"{console.url}/conversations?flag=fallback")
    with page.expect_download() as csv_download:
        page.click("text=Export CSV")
    csv_file = tmp_path / "conversations.csv"
    csv_download.value.save_as(csv_file)
    with csv_file.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert any(row["text"] == scenario.unclear and int(row["conversation_id"]) == target for row in rows)

    page.goto(f"{console.url}/conversations/{xss}")
    assert page.locator(".bubble", has_text="<script>").count() == 1
    assert dialogs == [] and policy_errors == []
