"""How long a staff message takes to reach the patient: web widget and WhatsApp, single Rasa and cluster.

``python -m bench.staff_messages [--rounds N]`` (part of ``make bench``): starts the
assistant (then the PostgreSQL + Redis cluster) with the fake WhatsApp providers, puts a
web patient (socket.io) and a Twilio patient in the queue, takes both, and sends ``N``
staff messages to each, timing from the console's call to the Rasa server until the
message reached the patient's socket or the provider's API. In the cluster the patient is
connected to one replica and the staff call goes to the other. Writes
reports/staff_messages.{md,json}. A measurement, never a pass/fail test.
"""

from __future__ import annotations

import argparse
import functools
import queue as queues
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List

import socketio

from bench.report import write_table
from bench.whatsapp import twilio_webhook
from core.cli_args import at_least
from core.database import make_engine
from core.settings import PROJECT_ROOT
from handoff import queue
from handoff.schema import ensure_schema
from handoff.staff_link import StaffLink
from tooling.cluster import Cluster
from tooling.fake_whatsapp import SECRETS, Delivery, FakeProvider
from tooling.launcher import free_port
from tooling.running_bot import LOG_DIR, start_bot

API_KEY = "bench-staff-link-key-0123456789abcdefghij"
WAIT_S = 60.0


class WebPatient:
    """A socket.io patient in the queue, collecting what reaches it."""

    def __init__(self, rasa_url: str) -> None:
        """Connects, joins a new session and greets, like the widget."""
        self.received: queues.Queue[Dict[str, Any]] = queues.Queue()
        self.arrivals: queues.Queue[float] = queues.Queue()
        confirmed: queues.Queue[str] = queues.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("bot_uttered", self._received)
        self.client.on("session_confirm", confirmed.put)
        self.client.connect(rasa_url, transports=["polling"], wait_timeout=WAIT_S)
        self.client.emit("session_request", {"session_id": None})
        self.token = confirmed.get(timeout=WAIT_S)

    def _received(self, message: Dict[str, Any]) -> None:
        self.received.put(message)
        if "staff" in message and "handoff" not in message:
            self.arrivals.put(time.monotonic())

    def say(self, text: str, done: Callable[[Dict[str, Any]], bool]) -> None:
        """Sends ``text`` and waits for the reply that is ``done``."""
        self.client.emit("user_uttered", {"session_id": self.token, "message": text})
        while not done(self.received.get(timeout=WAIT_S)):
            pass

    def close(self) -> None:
        """Leaves without waiting for the pending long poll."""
        self.client.eio.disconnect(abort=True)


def stored_sender_of(engine: Any, channel: str) -> str:
    """The newest waiting request's conversation on ``channel`` (the one just made)."""
    waiting = [request for request in queue.queue(engine) if request.channel == channel]
    return waiting[-1].sender_id


def carries(text: str, deliveries: List[Delivery]) -> bool:
    """Whether one of ``deliveries`` carries ``text``."""
    return any(text in delivery.text for delivery in deliveries)


def take(engine: Any, link: StaffLink, sender: str) -> None:
    """Takes ``sender``'s request as the console does: the queue first, then the Rasa server."""
    request = queue.open_request(engine, sender)
    assert request is not None, "the patient is not in the queue"
    queue.take(engine, request.id, "bench", "Bench", time.time())
    link.take(sender, "bench", "Bench")


def measure_system(
    patient_url: str, staff_url: str, db_url: str, provider: FakeProvider, rounds: int
) -> Dict:
    """Milliseconds from each staff call until the patient had the message, per channel."""
    engine = make_engine(db_url)
    ensure_schema(engine)
    queue.set_presence(engine, "bench", True, time.time())
    link = StaffLink(staff_url, API_KEY)
    results: Dict[str, List[float]] = {"web widget (socket.io)": [], "WhatsApp (Twilio)": []}

    patient = WebPatient(patient_url)
    try:
        patient.say("/greet", lambda message: bool(message.get("quick_replies")))
        patient.say("/contact_human", lambda message: "queue" in message.get("text", ""))
        web_sender = stored_sender_of(engine, "socketio")
        take(engine, link, web_sender)
        for round_number in range(rounds + 2):
            started = time.monotonic()
            link.reply(web_sender, "bench", "Bench", f"Staff message {round_number}")
            arrived = patient.arrivals.get(timeout=WAIT_S)
            if round_number >= 2:  # two warm-ups
                results["web widget (socket.io)"].append((arrived - started) * 1000)
    finally:
        patient.close()

    number = f"60198{uuid.uuid4().int % 10**7:07d}"
    twilio_webhook(patient_url, number, "/contact_human")
    recipient = f"whatsapp:+{number}"
    provider.wait_for(recipient, lambda got: len(got) >= 1)
    sender = stored_sender_of(engine, "twilio")
    take(engine, link, sender)
    for round_number in range(rounds + 2):
        text = f"Staff message {uuid.uuid4().hex}"
        started = time.monotonic()
        link.reply(sender, "bench", "Bench", text)
        got = provider.wait_for(recipient, functools.partial(carries, text))
        arrived = next(d.received_at for d in got if text in d.text)
        if round_number >= 2:
            results["WhatsApp (Twilio)"].append((arrived - started) * 1000)
    engine.dispose()
    return results


def percentiles(values: List[float]) -> Dict[str, float]:
    """Median, 95th percentile and maximum, in milliseconds."""
    p95 = statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]
    return {
        "p50_ms": round(statistics.median(values), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(max(values), 1),
    }


def main() -> None:
    """Measures a single Rasa server, then the cluster, and writes the reports."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--rounds", type=at_least(1), default=30, help="staff messages per channel, after 2 warm-ups"
    )
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "reports")
    args = parser.parse_args()
    provider = FakeProvider().start()
    environment = {
        "TWILIO_API_BASE_URL": provider.url,
        "WHATSAPP_API_BASE_URL": provider.url,
        "HANDOFF_API_KEY": API_KEY,
        **SECRETS,
    }
    figures: Dict[str, Dict[str, Dict[str, float]]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            bot = start_bot(Path(tmp), **environment)
            try:
                single = measure_system(
                    bot.rasa_url, bot.rasa_url, f"sqlite:///{bot.tracker_db}", provider, args.rounds
                )
            finally:
                bot.group.stop()
        figures["single Rasa (SQLite)"] = {channel: percentiles(values) for channel, values in single.items()}
        data = Path(tempfile.mkdtemp(prefix="bench-staff-pg-"))
        ports = [free_port(), free_port()]
        with Cluster(data, ports, free_port(), LOG_DIR / f"bench-staff-{data.name}", environment) as cluster:
            patient_url, staff_url = cluster.urls()
            both = measure_system(patient_url, staff_url, cluster.database_url, provider, args.rounds)
        figures["cluster (2 replicas, PostgreSQL + Redis)"] = {
            channel: percentiles(values) for channel, values in both.items()
        }
    finally:
        provider.stop()
    lines = [
        "# Staff messages to the patient",
        "",
        f"{args.rounds} staff messages per channel after 2 warm-ups; from the console's call to the Rasa",
        "server until the patient's socket (or the fake WhatsApp API) had the message. In the cluster the",
        "patient is on one replica and the staff call goes to the other.",
        "",
        "| system | channel | p50 ms | p95 ms | max ms |",
        "|---|---|---|---|---|",
    ]
    for system, channels in figures.items():
        for channel, numbers in channels.items():
            lines.append(
                f"| {system} | {channel} | {numbers['p50_ms']} | {numbers['p95_ms']} | {numbers['max_ms']} |"
            )
    write_table(args.out, "staff_messages", lines, figures)


if __name__ == "__main__":
    main()
