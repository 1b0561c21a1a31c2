"""The hostile-input corpus (tests/hostile/corpus.yml) on both WhatsApp webhooks: never a 5xx.

Signed notifications carrying hostile text are accepted (200) and handled in the
background; unsigned ones are refused (403); raw bodies and abusive requests get a 4xx.
"""

from __future__ import annotations

import itertools
from typing import List
from urllib.parse import urlencode

import pytest
import requests

from tests.channels import test_twilio_whatsapp as twilio
from tests.channels import test_whatsapp_cloud as cloud
from tests.channels.conftest import WhatsAppBot
from tests.hostile import corpus
from tests.hostile.corpus import EITHER, REJECT, HttpCase

pytestmark = pytest.mark.servers
_numbers = itertools.count(1)


def utf8_safe(text: str) -> str:
    """Providers deliver valid UTF-8: lone surrogates become U+FFFD as they would."""
    return text.encode("utf-8", "replace").decode("utf-8") if text else text


def cases() -> List[HttpCase]:
    """Each text as a signed Twilio Body and From, as a signed Cloud text; raw bodies and requests."""
    result = []
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for text in corpus.texts():
        number = f"whatsapp:+6018{next(_numbers):08d}"
        for placement, fields in (
            ("body", twilio.params(number, utf8_safe(text.value))),
            ("from", twilio.params(f"whatsapp:{utf8_safe(text.value)}", "what is muscle atrophy")),
        ):
            signed_form = {**form, "X-Twilio-Signature": twilio.sign(fields)}
            encoded = urlencode(fields).encode()
            result.append(
                HttpCase(f"twilio-{placement}-{text.id}", "POST", twilio.PATH, EITHER, encoded, signed_form)
            )
        body = cloud.notification(f"6019{next(_numbers):08d}", cloud.text(text.value))
        signed_json = {"Content-Type": "application/json", "X-Hub-Signature-256": cloud.sign(body)}
        result.append(HttpCase(f"cloud-text-{text.id}", "POST", cloud.PATH, EITHER, body, signed_json))
    for raw_body in corpus.bodies():
        result.append(
            HttpCase(f"twilio-unsigned-{raw_body.id}", "POST", twilio.PATH, REJECT, raw_body.data, form)
        )
        json_headers = {"Content-Type": "application/json"}
        result.append(
            HttpCase(f"cloud-unsigned-{raw_body.id}", "POST", cloud.PATH, REJECT, raw_body.data, json_headers)
        )
        signed = {**json_headers, "X-Hub-Signature-256": cloud.sign(raw_body.data)}
        result.append(
            HttpCase(f"cloud-signed-{raw_body.id}", "POST", cloud.PATH, EITHER, raw_body.data, signed)
        )
    small = b"Body=hello"
    for request in corpus.raw_requests():
        for name, path in (("twilio", twilio.PATH), ("cloud", cloud.PATH)):
            raw = corpus.fill(request, path, "127.0.0.1", small)
            result.append(HttpCase(f"{name}-raw-{request.id}", "POST", path, request.expect, raw=raw))
    return result


CASES = cases()


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_webhook_request(whatsapp_bot: WhatsAppBot, case: HttpCase) -> None:
    if case.raw is not None:
        status, text = corpus.send_raw(whatsapp_bot.rasa_url, case.raw), ""
    else:
        response = requests.post(
            whatsapp_bot.rasa_url + case.path, data=case.body, headers=case.headers, timeout=60
        )
        status, text = response.status_code, response.text
    assert corpus.outcome_ok(case.expect, status, answered=False), f"{case.id}: {status} {text[:300]!r}"


def test_still_answering_after_the_corpus(whatsapp_bot: WhatsAppBot) -> None:
    assert whatsapp_bot.bot.group.first_dead() is None
    number = f"whatsapp:+6017{next(_numbers):08d}"
    twilio.send(whatsapp_bot, number, "what is muscle atrophy")
    replies = whatsapp_bot.bot.send("hostile-whatsapp-after", "what is muscle atrophy")
    assert any("not a diagnosis" in reply.get("text", "") for reply in replies)
