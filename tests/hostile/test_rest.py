"""Hostile input on the REST channel: no 5xx, clear 4xx, answers where the text is usable."""

from __future__ import annotations

from typing import List

import pytest
import requests

from tests.hostile import corpus
from tests.hostile.corpus import HttpCase
from tooling.running_bot import RunningBot

pytestmark = pytest.mark.servers
PATH = "/webhooks/rest/webhook"
QUESTION = "what is muscle atrophy"


def rest_cases() -> List[HttpCase]:
    """The corpus as REST requests: each text as message and as sender, raw bodies, raw requests."""
    cases = []
    json_headers = {"Content-Type": "application/json"}
    for text in corpus.texts():
        cases.append(
            HttpCase(
                f"message-{text.id}",
                "POST",
                PATH,
                text.message,
                corpus.json_bytes({"sender": f"hostile-{text.id}", "message": text.value}),
                json_headers,
            )
        )
        cases.append(
            HttpCase(
                f"sender-{text.id}",
                "POST",
                PATH,
                text.sender,
                corpus.json_bytes({"sender": text.value, "message": QUESTION}),
                json_headers,
            )
        )
    for body in corpus.bodies():
        cases.append(HttpCase(f"body-{body.id}", "POST", PATH, body.expect, body.data, json_headers))
    small = corpus.json_bytes({"sender": "hostile-raw", "message": QUESTION})
    for request in corpus.raw_requests():
        cases.append(
            HttpCase(
                f"raw-{request.id}",
                "POST",
                PATH,
                request.expect,
                raw=corpus.fill(request, PATH, "127.0.0.1", small),
            )
        )
    return cases


CASES = rest_cases()


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 300


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_request(bot: RunningBot, case: HttpCase) -> None:
    if case.raw is not None:
        status = corpus.send_raw(bot.rasa_url, case.raw)
        answered, text = status == 200, ""
    else:
        response = requests.request(
            case.method, bot.rasa_url + case.path, data=case.body, headers=case.headers, timeout=60
        )
        status, text = response.status_code, response.text
        answered = status == 200 and isinstance(response.json(), list) and len(response.json()) > 0
    assert corpus.outcome_ok(case.expect, status, answered), f"{case.id}: {status} {text[:300]!r}"
    if 400 <= status < 500 and case.raw is None and status != 413:
        assert text.strip(), "a 4xx must say what is wrong"


def test_server_still_answers_after_the_corpus(bot: RunningBot) -> None:
    assert bot.group.first_dead() is None
    replies = bot.send("hostile-after", QUESTION)
    assert any("not a diagnosis" in reply.get("text", "") for reply in replies)
