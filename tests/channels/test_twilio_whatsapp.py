"""WhatsApp through Twilio against the running servers and a fake Twilio API on loopback."""

from __future__ import annotations

import base64
import itertools
import sqlite3
import time
import uuid
from typing import Dict, List, Optional

import pytest
import requests
import yaml
from twilio.request_validator import RequestValidator

from core import messages
from core.knowledge import Topic, get_knowledge
from core.settings import PROJECT_ROOT, get_settings
from tests.channels.conftest import WhatsAppBot, hashed_sender
from tooling.fake_whatsapp import SECRETS, Delivery
from tooling.running_bot import RunningBot

pytestmark = pytest.mark.servers

PATH = "/webhooks/twilio/webhook"
QUESTIONS: Dict[str, str] = yaml.safe_load((PROJECT_ROOT / "tests" / "e2e_questions.yml").read_text())
_numbers = itertools.count(1)


def new_number() -> str:
    """A fresh patient number (Malaysian mobile format, not a real subscriber) per test."""
    return f"whatsapp:+6011{next(_numbers):08d}"


def params(number: str, body: Optional[str]) -> Dict[str, str]:
    fields = {
        "AccountSid": SECRETS["TWILIO_ACCOUNT_SID"],
        "From": number,
        "To": f"whatsapp:{SECRETS['TWILIO_WHATSAPP_NUMBER']}",
        "MessageSid": f"SM{uuid.uuid4().hex}",
        "NumMedia": "0",
    }
    if body is not None:
        fields["Body"] = body
    return fields


def sign(fields: Dict[str, str], token: str = SECRETS["TWILIO_AUTH_TOKEN"], path: str = PATH) -> str:
    return RequestValidator(token).compute_signature(SECRETS["PUBLIC_BASE_URL"] + path, fields)


def post(
    bot: WhatsAppBot | RunningBot, fields: Dict[str, str], signature: Optional[str]
) -> requests.Response:
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    return requests.post(f"{bot.rasa_url}{PATH}", data=fields, headers=headers, timeout=30)


def send(whatsapp_bot: WhatsAppBot, number: str, body: str) -> None:
    fields = params(number, body)
    response = post(whatsapp_bot, fields, sign(fields))
    assert response.status_code == 200, response.text


def has_options(deliveries: List[Delivery]) -> bool:
    hint = messages.text("whatsapp_reply_with_number", "en")
    return any(hint in delivery.text for delivery in deliveries)


def answered(topic: Topic, deliveries: List[Delivery]) -> bool:
    texts = "\n\n".join(delivery.text for delivery in deliveries)
    return all(section.text in texts for section in topic.sections) and has_options(deliveries)


def test_topic_question_gets_the_verbatim_quote_and_numbered_options(whatsapp_bot: WhatsAppBot) -> None:
    number = new_number()
    topic = get_knowledge().topics["reversibility"]
    send(whatsapp_bot, number, QUESTIONS["reversibility"])
    received = whatsapp_bot.provider.wait_for(number, lambda got: answered(topic, got))
    text = "\n\n".join(delivery.text for delivery in received)
    for section in topic.sections:
        assert text.index(section.heading) < text.index(section.text)
    for position, related in enumerate(topic.related, 1):
        assert f"{position}. {get_knowledge().topics[related].title('en')}" in text
    credentials = f"{SECRETS['TWILIO_ACCOUNT_SID']}:{SECRETS['TWILIO_AUTH_TOKEN']}".encode()
    for delivery in received:
        assert delivery.path == f"/2010-04-01/Accounts/{SECRETS['TWILIO_ACCOUNT_SID']}/Messages.json"
        assert delivery.headers["Authorization"] == "Basic " + base64.b64encode(credentials).decode()
        assert delivery.form["From"] == f"whatsapp:{SECRETS['TWILIO_WHATSAPP_NUMBER']}"
        assert len(delivery.text) <= 1600


def test_a_number_or_a_title_chooses_among_the_options(whatsapp_bot: WhatsAppBot) -> None:
    knowledge = get_knowledge()
    number = new_number()
    send(whatsapp_bot, number, QUESTIONS["reversibility"])
    first = whatsapp_bot.provider.wait_for(number, has_options)

    chosen = knowledge.topics[knowledge.topics["reversibility"].related[0]]
    send(whatsapp_bot, number, "1")
    second = whatsapp_bot.provider.wait_for(number, lambda got: answered(chosen, got[len(first) :]))

    by_title = knowledge.topics[chosen.related[1]]
    send(whatsapp_bot, number, by_title.title("en").lower())
    whatsapp_bot.provider.wait_for(number, lambda got: answered(by_title, got[len(second) :]))


def test_the_conversation_id_is_a_keyed_hash_and_the_number_is_not_kept(whatsapp_bot: WhatsAppBot) -> None:
    number = new_number()
    send(whatsapp_bot, number, "hello")
    whatsapp_bot.provider.wait_for(number, has_options)
    whatsapp_bot.wait_stored(hashed_sender(number))
    digits = number.removeprefix("whatsapp:+")
    assert digits not in whatsapp_bot.stored_text()
    assert digits not in whatsapp_bot.log_path.read_text(errors="replace")


def test_overlong_text_and_photos_get_a_polite_reply(whatsapp_bot: WhatsAppBot) -> None:
    limit = get_settings().core.max_message_chars
    expected = messages.text("whatsapp_unreadable", "en", limit=str(limit))
    overlong = params(new_number(), "why " * limit)
    # Twilio sends a photo with an empty Body, and signs that empty field too.
    photo = {**params(new_number(), ""), "NumMedia": "1", "MediaUrl0": "https://api.twilio.com/media/1"}
    for fields in (overlong, photo):
        assert post(whatsapp_bot, fields, sign(fields)).status_code == 200
        received = whatsapp_bot.provider.wait_for(fields["From"], lambda got: len(got) >= 1)
        assert received[0].text == expected


def test_a_redelivered_message_is_answered_once(whatsapp_bot: WhatsAppBot) -> None:
    number = new_number()
    topic = get_knowledge().topics["prevention"]
    fields = params(number, QUESTIONS["prevention"])
    assert post(whatsapp_bot, fields, sign(fields)).status_code == 200
    assert post(whatsapp_bot, fields, sign(fields)).status_code == 200
    # Replies go out in arrival order per conversation: once "thank you" is answered,
    # any second answer to the question would have been sent already.
    send(whatsapp_bot, number, "thank you")
    thanks = messages.text("thank", "en")
    received = whatsapp_bot.provider.wait_for(number, lambda got: any(thanks in d.text for d in got))
    assert sum(topic.sections[0].text in delivery.text for delivery in received) == 1


def _altered(fields: Dict[str, str]) -> Dict[str, str]:
    return {**fields, "Body": fields["Body"] + " and tell me everything"}


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda fields: (fields, None), id="missing"),
        pytest.param(lambda fields: (fields, ""), id="empty"),
        pytest.param(lambda fields: (fields, sign(fields, token="not-the-token")), id="wrong-token"),
        pytest.param(lambda fields: (fields, "c2lnbmF0dXJl"), id="garbage"),
        pytest.param(lambda fields: (_altered(fields), sign(fields)), id="replayed-with-altered-body"),
        pytest.param(lambda fields: (fields, sign(fields, path="/webhooks/rest/webhook")), id="other-url"),
    ],
)
def test_unsigned_or_forged_webhooks_get_403_and_never_reach_the_bot(
    whatsapp_bot: WhatsAppBot, forge
) -> None:
    number = new_number()
    fields, signature = forge(params(number, "hello"))
    response = post(whatsapp_bot, fields, signature)
    assert response.status_code == 403
    assert hashed_sender(number) not in whatsapp_bot.stored_senders()
    assert whatsapp_bot.provider.to(number) == []


@pytest.mark.parametrize(
    "body", [None, "", "   ", "\u200b\u200b"], ids=["missing", "empty", "blank", "invisible"]
)
def test_a_missing_or_empty_body_gets_400(whatsapp_bot: WhatsAppBot, body: Optional[str]) -> None:
    number = new_number()
    fields = params(number, body)
    response = post(whatsapp_bot, fields, sign(fields))
    assert response.status_code == 400
    assert "Body" in response.text
    assert hashed_sender(number) not in whatsapp_bot.stored_senders()


def test_unconfigured_twilio_answers_503(bot: RunningBot) -> None:
    fields = params(new_number(), "hello")
    response = post(bot, fields, sign(fields))
    assert response.status_code == 503
    assert "not configured" in response.text
    assert requests.get(f"{bot.rasa_url}/webhooks/twilio/", timeout=10).status_code == 503


def test_a_numbered_rating_is_thanked_and_erasure_on_whatsapp_leaves_nothing(
    whatsapp_bot: WhatsAppBot,
) -> None:
    number = new_number()
    sender = hashed_sender(number)
    topic = get_knowledge().topics["reversibility"]
    send(whatsapp_bot, number, QUESTIONS["reversibility"])
    first = whatsapp_bot.provider.wait_for(number, lambda got: answered(topic, got))
    options = "\n".join(delivery.text for delivery in first)
    helpful = len(topic.related) + 1  # the next topics are numbered first, then the ratings
    assert f"{helpful}. {messages.text('rate_helpful', 'en')}" in options
    send(whatsapp_bot, number, str(helpful))
    thanked = messages.text("rated_helpful", "en")
    rated = whatsapp_bot.provider.wait_for(number, lambda got: any(d.text == thanked for d in got))

    send(whatsapp_bot, number, "please delete my conversation")
    confirm = messages.text("erase_confirm", "en")
    asked = whatsapp_bot.provider.wait_for(
        number, lambda got: any(confirm in d.text for d in got[len(rated) :])
    )
    send(whatsapp_bot, number, "1")  # "Yes, delete it"
    erased = messages.text("erased", "en")
    whatsapp_bot.provider.wait_for(number, lambda got: any(d.text == erased for d in got[len(asked) :]))
    deadline = time.monotonic() + 30
    while sender in whatsapp_bot.stored_senders():
        assert time.monotonic() < deadline, "the conversation is still stored"
        time.sleep(0.2)
    with sqlite3.connect(whatsapp_bot.bot.tracker_db) as connection:
        addresses = connection.execute(
            "SELECT COUNT(*) FROM handoff_reply_addresses WHERE sender_id = ?", (sender,)
        ).fetchone()[0]
    assert addresses == 0
