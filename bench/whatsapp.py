"""Time from a WhatsApp webhook to the outbound API call, both providers, on loopback.

``python -m bench.whatsapp [--rounds N]``: starts the action server and the Rasa server
with test secrets and a local fake Twilio/Graph API (tooling/fake_whatsapp.py),
sends signed webhooks with one topic question each, and prints, per provider, how long
the webhook took to be acknowledged, until the first outbound call reached the fake, and
until the whole answer (quote and choices) had. A measurement, never a pass/fail test.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Callable, Dict, List

import requests
import yaml
from twilio.request_validator import RequestValidator

from core import messages
from core.cli_args import at_least
from core.settings import PROJECT_ROOT
from tooling.fake_whatsapp import SECRETS, Delivery, FakeProvider
from tooling.running_bot import RunningBot, start_bot

QUESTIONS: Dict[str, str] = yaml.safe_load((PROJECT_ROOT / "tests" / "e2e_questions.yml").read_text())


def twilio_webhook(rasa_url: str, number: str, text: str) -> None:
    """Posts a signed Twilio WhatsApp webhook from ``number``."""
    path = "/webhooks/twilio/webhook"
    fields = {
        "From": f"whatsapp:+{number}",
        "Body": text,
        "MessageSid": f"SM{uuid.uuid4().hex}",
        "NumMedia": "0",
    }
    signature = RequestValidator(SECRETS["TWILIO_AUTH_TOKEN"]).compute_signature(
        SECRETS["PUBLIC_BASE_URL"] + path, fields
    )
    reply = requests.post(rasa_url + path, data=fields, headers={"X-Twilio-Signature": signature}, timeout=30)
    reply.raise_for_status()


def meta_webhook(rasa_url: str, number: str, text: str) -> None:
    """Posts a signed WhatsApp Cloud API notification from ``number``."""
    message = {"from": number, "id": f"wamid.{uuid.uuid4().hex}", "type": "text", "text": {"body": text}}
    value = {"metadata": {"phone_number_id": SECRETS["WHATSAPP_PHONE_NUMBER_ID"]}, "messages": [message]}
    body = json.dumps({"entry": [{"changes": [{"value": value, "field": "messages"}]}]}).encode()
    signature = (
        "sha256=" + hmac.new(SECRETS["WHATSAPP_APP_SECRET"].encode(), body, hashlib.sha256).hexdigest()
    )
    headers = {"X-Hub-Signature-256": signature, "Content-Type": "application/json"}
    requests.post(
        rasa_url + "/webhooks/whatsapp/webhook", data=body, headers=headers, timeout=30
    ).raise_for_status()


def twilio_done(deliveries: List[Delivery]) -> bool:
    """Whether the numbered options, the last part of an answer, have arrived."""
    return any(messages.text("whatsapp_reply_with_number", "en") in delivery.text for delivery in deliveries)


def meta_done(deliveries: List[Delivery]) -> bool:
    """Whether the interactive choices, the last part of an answer, have arrived."""
    return any(delivery.json.get("type") == "interactive" for delivery in deliveries)


def measure(
    bot: RunningBot,
    provider: FakeProvider,
    send: Callable[[str, str, str], None],
    recipient: Callable[[str], str],
    done: Callable[[List[Delivery]], bool],
    rounds: int,
) -> Dict[str, List[float]]:
    """Sends ``rounds`` questions from new numbers; returns milliseconds per stage."""
    stages: Dict[str, List[float]] = {"acknowledged": [], "first outbound call": [], "whole answer sent": []}
    questions = list(QUESTIONS.values())
    for round_number in range(rounds + 2):
        number = f"60199{uuid.uuid4().int % 10**7:07d}"
        started = time.monotonic()
        send(bot.rasa_url, number, questions[round_number % len(questions)])
        acknowledged = time.monotonic()
        received = provider.wait_for(recipient(number), done)
        if round_number < 2:
            continue  # warm-up: first requests load lazily created sessions and caches
        stages["acknowledged"].append((acknowledged - started) * 1000)
        stages["first outbound call"].append((received[0].received_at - started) * 1000)
        stages["whole answer sent"].append((received[-1].received_at - started) * 1000)
    return stages


def table(results: Dict[str, Dict[str, List[float]]]) -> str:
    """Returns a Markdown table of median, 90th percentile and maximum per stage."""
    lines = ["| provider | stage | median ms | p90 ms | max ms |", "|---|---|---|---|---|"]
    for provider, stages in results.items():
        for stage, values in stages.items():
            p90 = statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]
            lines.append(
                f"| {provider} | {stage} | {statistics.median(values):.0f} | {p90:.0f} | {max(values):.0f} |"
            )
    return "\n".join(lines)


def main() -> None:
    """Starts everything, measures both providers, prints the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--rounds", type=at_least(1), default=20, help="questions per provider, after 2 warm-ups"
    )
    args = parser.parse_args()
    provider = FakeProvider().start()
    with tempfile.TemporaryDirectory() as tmp:
        bot = start_bot(
            Path(tmp), TWILIO_API_BASE_URL=provider.url, WHATSAPP_API_BASE_URL=provider.url, **SECRETS
        )
        try:
            results = {
                "Twilio": measure(
                    bot, provider, twilio_webhook, lambda n: f"whatsapp:+{n}", twilio_done, args.rounds
                ),
                "Meta Cloud API": measure(bot, provider, meta_webhook, lambda n: n, meta_done, args.rounds),
            }
        finally:
            bot.group.stop()
            provider.stop()
    print(table(results))


if __name__ == "__main__":
    main()
