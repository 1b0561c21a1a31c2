"""Conversations created through the running bot, shared by the console tests."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List

import requests

from core import messages
from tests.console.conftest import Console, SocketChat
from tooling.running_bot import RunningBot

XSS = '<script>alert("xss")</script><img src=x onerror=alert(2)>'
EMERGENCY = "my father suddenly cannot move one side of his body"
BOOKING = "I want to book an appointment"
QUESTION = "how long does recovery take"
# Messages the model is unsure about; the first that gets the clarifying question is used,
# so a retrained model that understands one of them does not break the tests.
# Vague one-word messages land under the fallback threshold with the current model; the
# list is tried in order, so a retrained model that answers one of them still finds another.
UNCLEAR = ["my leg thing", "thing with my arm", "hmm muscle", "maybe", "body", "hmm ok"]


@dataclass
class Scenario:
    """Who said what: sender ids by role, and the texts used."""

    senders: Dict[str, str] = field(default_factory=dict)
    unclear: str = ""
    clicked_title: str = ""


def _sender(kind: str) -> str:
    return f"console-{kind}-{uuid.uuid4().hex[:8]}"


def create(bot: RunningBot, rasa_url: str) -> Scenario:
    """Talks to the bot over REST and socket.io, like patients would."""
    scenario = Scenario()
    question = scenario.senders["question"] = _sender("question")
    bot.send(question, "hello")
    replies = bot.send(question, QUESTION)
    buttons = [button for reply in replies for button in reply.get("buttons") or []]
    assert buttons, "the answer offers related topics"
    scenario.clicked_title = buttons[0]["title"]
    bot.send(question, buttons[0]["payload"])

    clarify = messages.text("clarify", "en")
    for text in UNCLEAR:
        sender = _sender("unclear")
        if any(reply.get("text") == clarify for reply in bot.send(sender, text)):
            scenario.senders["unclear"], scenario.unclear = sender, text
            break
    assert scenario.unclear, f"none of {UNCLEAR} got the clarifying question"

    scenario.senders["emergency"] = _sender("emergency")
    bot.send(scenario.senders["emergency"], EMERGENCY)
    scenario.senders["booking"] = _sender("booking")
    bot.send(scenario.senders["booking"], BOOKING)
    scenario.senders["xss"] = _sender("xss")
    bot.send(scenario.senders["xss"], XSS)

    chat = SocketChat(rasa_url)
    try:
        chat.ask("what is muscle atrophy")
        scenario.senders["socket"] = chat.sender_id
    finally:
        chat.close()
    return scenario


def wait_until(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    """Polls ``check`` until it returns something truthy (the bot stores replies after sending)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def conversation_ids(console: Console, session: requests.Session, **filters: Any) -> List[int]:
    """Returns the ids of the conversations the list shows for ``filters`` (all pages)."""
    import re

    ids: List[int] = []
    page = 1
    while True:
        html = console.get(session, "/conversations", page=page, **filters).text
        found = [int(value) for value in re.findall(r'href="/conversations/(\d+)"', html)]
        ids += [value for value in found if value not in ids]
        if "Older →</a>" not in html:
            return ids
        page += 1


def find(console: Console, session: requests.Session, sender: str) -> int:
    """Returns the id of the (latest) conversation of ``sender``, waiting for it to be stored."""
    ids = wait_until(lambda: conversation_ids(console, session, q=sender))
    assert ids, f"no conversation of {sender} in the console"
    return int(ids[0])
