"""Meta's WhatsApp Cloud API against the running servers and a fake Graph API on loopback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
import uuid
from typing import Any, Dict, List, Optional

import pytest
import requests
import yaml

from actions.conversation import greeting
from core import messages
from core.knowledge import Topic, get_knowledge
from core.settings import PROJECT_ROOT, get_settings
from tests.channels.conftest import WhatsAppBot, hashed_sender
from tooling.fake_whatsapp import SECRETS, Delivery
from tooling.running_bot import RunningBot

pytestmark = pytest.mark.servers

PATH = "/webhooks/whatsapp/webhook"
QUESTIONS: Dict[str, str] = yaml.safe_load((PROJECT_ROOT / "tests" / "e2e_questions.yml").read_text())
_numbers = itertools.count(1)


def new_number() -> str:
    """A fresh patient number as Meta sends it (digits only, not a real subscriber)."""
    return f"6013{next(_numbers):08d}"


def notification(number: str, message: Dict[str, Any], message_id: Optional[str] = None) -> bytes:
    """A webhook notification as Meta posts it, with non-ASCII escaped the way Meta does."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": "60300000000",
            "phone_number_id": SECRETS["WHATSAPP_PHONE_NUMBER_ID"],
        },
        "contacts": [{"profile": {"name": "Test Patient"}, "wa_id": number}],
        "messages": [
            {
                "from": number,
                "id": message_id or f"wamid.{uuid.uuid4().hex}",
                "timestamp": "1732500000",
                **message,
            }
        ],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"value": value, "field": "messages"}]}],
    }
    return json.dumps(payload).encode()


def text(body: str) -> Dict[str, Any]:
    return {"type": "text", "text": {"body": body}}


def reply(kind: str, payload: str, title: str) -> Dict[str, Any]:
    return {"type": "interactive", "interactive": {"type": kind, kind: {"id": payload, "title": title}}}


def sign(body: bytes, secret: str = SECRETS["WHATSAPP_APP_SECRET"]) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(bot: WhatsAppBot | RunningBot, body: bytes, signature: Optional[str]) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return requests.post(f"{bot.rasa_url}{PATH}", data=body, headers=headers, timeout=30)


def send(
    whatsapp_bot: WhatsAppBot, number: str, message: Dict[str, Any], message_id: Optional[str] = None
) -> None:
    body = notification(number, message, message_id)
    response = post(whatsapp_bot, body, sign(body))
    assert response.status_code == 200, response.text


def interactive(deliveries: List[Delivery]) -> List[Dict[str, Any]]:
    return [d.json["interactive"] for d in deliveries if d.json.get("type") == "interactive"]


def quoted(topic: Topic, deliveries: List[Delivery]) -> bool:
    texts = "\n\n".join(delivery.text for delivery in deliveries)
    # The next topics, then "was this helpful?": two interactive messages end an answer.
    return all(section.text in texts for section in topic.sections) and len(interactive(deliveries)) >= 2


def titles(topic_ids: List[str] | tuple) -> List[str]:
    return [get_knowledge().topics[topic_id].title("en") for topic_id in topic_ids]


def test_subscription_check(whatsapp_bot: WhatsAppBot) -> None:
    url = f"{whatsapp_bot.rasa_url}{PATH}"
    good = {
        "hub.mode": "subscribe",
        "hub.verify_token": SECRETS["WHATSAPP_VERIFY_TOKEN"],
        "hub.challenge": "1158201444",
    }
    response = requests.get(url, params=good, timeout=10)
    assert (response.status_code, response.text) == (200, "1158201444")
    for bad in (
        {**good, "hub.verify_token": "guess"},
        {**good, "hub.mode": "unsubscribe"},
        {"hub.challenge": "1"},
    ):
        assert requests.get(url, params=bad, timeout=10).status_code == 403


def test_topic_question_gets_the_verbatim_quote_and_reply_buttons(whatsapp_bot: WhatsAppBot) -> None:
    number = new_number()
    topic = get_knowledge().topics["reversibility"]
    send(whatsapp_bot, number, text(QUESTIONS["reversibility"]))
    received = whatsapp_bot.provider.wait_for(number, lambda got: quoted(topic, got))
    quote = "\n\n".join(delivery.text for delivery in received)
    for section in topic.sections:
        assert quote.index(section.heading) < quote.index(section.text)
    buttons, rating = interactive(received)
    assert buttons["type"] == "button" and rating["type"] == "button"
    offered = [button["reply"] for button in buttons["action"]["buttons"]]
    assert [choice["title"] for choice in offered] == titles(topic.related)
    assert [choice["id"] for choice in offered] == [f"/{topic_id}" for topic_id in topic.related]
    assert rating["body"]["text"] == messages.text("rate_question", "en")
    assert [button["reply"]["id"] for button in rating["action"]["buttons"]] == [
        '/rate_helpful{"rated_topic": "reversibility"}',
        '/rate_not_helpful{"rated_topic": "reversibility"}',
    ]
    for delivery in received:
        assert delivery.path == f"/{SECRETS['WHATSAPP_PHONE_NUMBER_ID']}/messages"
        assert delivery.headers["Authorization"] == f"Bearer {SECRETS['WHATSAPP_ACCESS_TOKEN']}"
        assert delivery.json["messaging_product"] == "whatsapp"
        assert len(delivery.text) <= 4096


def test_a_malay_answer_asks_for_its_rating_in_malay(whatsapp_bot: WhatsAppBot) -> None:
    number = new_number()
    topic = get_knowledge().topics["reversibility"]
    send(whatsapp_bot, number, text("otot yang dah mengecut tu boleh pulih semula ke?"))
    received = whatsapp_bot.provider.wait_for(number, lambda got: quoted(topic, got))
    buttons, rating = interactive(received)
    assert [button["reply"]["title"] for button in buttons["action"]["buttons"]] == [
        get_knowledge().topics[topic_id].title("ms") for topic_id in topic.related
    ]
    assert rating["body"]["text"] == messages.text("rate_question", "ms")
    assert [button["reply"]["title"] for button in rating["action"]["buttons"]] == [
        messages.text("rate_helpful", "ms"),
        messages.text("rate_not_helpful", "ms"),
    ]


def test_an_overview_offers_its_subtopics_as_a_list(whatsapp_bot: WhatsAppBot) -> None:
    number = new_number()
    topic = get_knowledge().topics["atrophy_treatments"]
    send(whatsapp_bot, number, text(QUESTIONS["atrophy_treatments"]))
    received = whatsapp_bot.provider.wait_for(number, lambda got: quoted(topic, got))
    choices, _ = interactive(received)
    assert choices["type"] == "list"
    rows = choices["action"]["sections"][0]["rows"]
    assert [row["id"] for row in rows] == [f"/{topic_id}" for topic_id in topic.subtopics]
    assert all(len(row["title"]) <= 24 for row in rows) and len(rows) <= 10


def test_button_and_list_replies_choose_their_topic(whatsapp_bot: WhatsAppBot) -> None:
    knowledge = get_knowledge()
    number = new_number()
    send(whatsapp_bot, number, text(QUESTIONS["reversibility"]))
    first = whatsapp_bot.provider.wait_for(number, lambda got: quoted(knowledge.topics["reversibility"], got))

    chosen = knowledge.topics[knowledge.topics["reversibility"].related[0]]
    send(whatsapp_bot, number, reply("button_reply", f"/{chosen.id}", chosen.title("en")))
    second = whatsapp_bot.provider.wait_for(number, lambda got: quoted(chosen, got[len(first) :]))

    from_list = knowledge.topics[chosen.related[-1]]
    send(whatsapp_bot, number, reply("list_reply", f"/{from_list.id}", from_list.title("en")))
    whatsapp_bot.provider.wait_for(number, lambda got: quoted(from_list, got[len(second) :]))


def test_status_notifications_get_200_and_no_reply(whatsapp_bot: WhatsAppBot) -> None:
    number = new_number()
    status = {"id": "wamid.sent", "status": "delivered", "timestamp": "1732500000", "recipient_id": number}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"phone_number_id": SECRETS["WHATSAPP_PHONE_NUMBER_ID"]},
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"changes": [{"value": {**value, "statuses": [status]}}]}],
    }
    body = json.dumps(payload).encode()
    assert post(whatsapp_bot, body, sign(body)).status_code == 200
    # Then a real message: its greeting must be the first thing this number receives.
    send(whatsapp_bot, number, text("hello"))
    received = whatsapp_bot.provider.wait_for(number, lambda got: bool(interactive(got)))
    assert received[0].text == greeting("en")
    whatsapp_bot.wait_stored(hashed_sender(number))


def test_a_redelivered_message_id_is_answered_once(whatsapp_bot: WhatsAppBot) -> None:
    number = new_number()
    topic = get_knowledge().topics["prevention"]
    message_id = f"wamid.{uuid.uuid4().hex}"
    send(whatsapp_bot, number, text(QUESTIONS["prevention"]), message_id)
    send(whatsapp_bot, number, text(QUESTIONS["prevention"]), message_id)
    # Replies go out in arrival order per conversation: once "thank you" is answered,
    # a second answer to the question would have been sent already.
    send(whatsapp_bot, number, text("thank you"))
    thanks = messages.text("thank", "en")
    received = whatsapp_bot.provider.wait_for(number, lambda got: any(thanks in d.text for d in got))
    assert sum(topic.sections[0].text in delivery.text for delivery in received) == 1


def test_overlong_text_and_photos_get_a_polite_reply(whatsapp_bot: WhatsAppBot) -> None:
    limit = str(get_settings().core.max_message_chars)
    expected = messages.text("whatsapp_unreadable", "en", limit=limit)
    for message in (
        text("why " * get_settings().core.max_message_chars),
        {"type": "image", "image": {"id": "1"}},
    ):
        number = new_number()
        send(whatsapp_bot, number, message)
        received = whatsapp_bot.provider.wait_for(number, lambda got: len(got) >= 1)
        assert received[0].text == expected


def test_the_number_is_never_stored_or_logged(whatsapp_bot: WhatsAppBot) -> None:
    number = new_number()
    send(whatsapp_bot, number, text("hello"))
    whatsapp_bot.provider.wait_for(number, lambda got: bool(interactive(got)))
    whatsapp_bot.wait_stored(hashed_sender(number))
    assert number not in whatsapp_bot.stored_text()
    assert number not in whatsapp_bot.log_path.read_text(errors="replace")


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda body: (body, None), id="missing"),
        pytest.param(lambda body: (body, "sha256="), id="empty"),
        pytest.param(lambda body: (body, sign(body, secret="not-the-secret")), id="wrong-secret"),
        pytest.param(lambda body: (body, sign(body).replace("sha256=", "sha1=")), id="wrong-scheme"),
        pytest.param(
            lambda body: (body.replace(b"hello", b"hullo"), sign(body)), id="replayed-with-altered-body"
        ),
    ],
)
def test_unsigned_or_forged_notifications_get_403_and_never_reach_the_bot(
    whatsapp_bot: WhatsAppBot, forge
) -> None:
    number = new_number()
    body, signature = forge(notification(number, text("hello")))
    assert post(whatsapp_bot, body, signature).status_code == 403
    assert hashed_sender(number) not in whatsapp_bot.stored_senders()
    assert whatsapp_bot.provider.to(number) == []


def test_signed_garbage_gets_400(whatsapp_bot: WhatsAppBot) -> None:
    for body in (b"{not json", b'["a list"]'):
        assert post(whatsapp_bot, body, sign(body)).status_code == 400


def test_unconfigured_whatsapp_answers_503(bot: RunningBot) -> None:
    body = notification(new_number(), text("hello"))
    response = post(bot, body, sign(body))
    assert response.status_code == 503
    assert "not configured" in response.text
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": SECRETS["WHATSAPP_VERIFY_TOKEN"],
        "hub.challenge": "1",
    }
    assert requests.get(f"{bot.rasa_url}{PATH}", params=query, timeout=10).status_code == 503


def test_unconfigured_channels_say_so_once_at_start(bot: RunningBot) -> None:
    log_path = bot.group.services[-1].log_path
    assert log_path is not None
    log = log_path.read_text(errors="replace")
    # The log file is appended to; a port may have served an earlier run too.
    starts = log.count("Rasa server is up and running")
    assert starts >= 1
    assert log.count("WhatsApp Cloud API is not configured") == starts
    assert log.count("WhatsApp through Twilio is not configured") == starts


def test_the_message_id_that_encodes_the_number_is_never_stored(whatsapp_bot: WhatsAppBot) -> None:
    # Meta's ids are base64 of a small record holding the sender's wa_id.
    number = new_number()
    record = b"\x1c\x18\x0b" + number.encode() + b"\x15\x02\x00\x12\x18\x14" + uuid.uuid4().hex[:20].encode()
    message_id = "wamid." + base64.b64encode(record).decode()
    send(whatsapp_bot, number, text("hello"), message_id)
    whatsapp_bot.provider.wait_for(number, lambda got: bool(interactive(got)))
    whatsapp_bot.wait_stored(hashed_sender(number))
    stored = whatsapp_bot.stored_text()
    assert message_id not in stored and message_id[6:30] not in stored
    assert number not in stored


def rate_an_answer(whatsapp_bot: WhatsAppBot, which: int) -> tuple[str, List[Delivery]]:
    """Asks a topic question from a new number and clicks rating button ``which``; returns the number."""
    number = new_number()
    topic = get_knowledge().topics["reversibility"]
    send(whatsapp_bot, number, text(QUESTIONS["reversibility"]))
    answer = whatsapp_bot.provider.wait_for(number, lambda got: quoted(topic, got))
    _, rating = interactive(answer)
    button = rating["action"]["buttons"][which]["reply"]
    send(whatsapp_bot, number, reply("button_reply", button["id"], button["title"]))
    return number, answer


def test_a_rating_button_is_stored_with_the_topic_it_rates_and_not_helpful_offers_alternatives(
    whatsapp_bot: WhatsAppBot,
) -> None:
    pleased, _ = rate_an_answer(whatsapp_bot, 0)
    thanked = messages.text("rated_helpful", "en")
    whatsapp_bot.provider.wait_for(pleased, lambda got: any(d.text == thanked for d in got))
    displeased, answer = rate_an_answer(whatsapp_bot, 1)
    sorry = messages.text("rated_not_helpful", "en")
    alternatives = whatsapp_bot.provider.wait_for(
        displeased, lambda got: any(sorry in str(d.json) for d in got[len(answer) :])
    )
    offered = interactive(alternatives)[-1]
    assert offered["body"]["text"] == sorry
    for number, expected in ((pleased, "rate_helpful"), (displeased, "rate_not_helpful")):
        deadline = time.monotonic() + 30  # the turn is saved just after its reply went out
        while (ratings := stored_ratings(whatsapp_bot, hashed_sender(number))) != [
            (expected, ["reversibility"])
        ]:
            assert time.monotonic() < deadline, ratings
            time.sleep(0.2)


def stored_ratings(whatsapp_bot: WhatsAppBot, sender: str) -> List[Any]:
    return [
        (parse["intent"]["name"], [entity["value"] for entity in parse["entities"]])
        for parse in whatsapp_bot.bot.stored_parses(sender)
        if parse["intent"]["name"].startswith("rate_")
    ]
