"""``make loadtest``: concurrent conversations over REST and socket.io, then a count in the store.

For each tracker store (SQLite, PostgreSQL) it starts the action server and the Rasa
server, runs 200 concurrent conversations of 20 topic questions over REST, over socket.io,
and over socket.io again beside one socket that floods the server, and checks in the
database that every message and every reply is stored, in order. Writes
reports/loadtest.{json,md}; exits non-zero on any error or gap, or when the flood lets
the flooding socket through or slows the patients' p95 past 1.5 times.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Mapping, Optional, Tuple

import sqlalchemy as sa

from bench.socketio_traffic import Flood, socketio_users
from bench.traffic import Run, conversation_script, topic_questions, virtual_users
from channels.web_sessions import stored_sender
from core import messages
from core.cli_args import at_least
from core.settings import PROJECT_ROOT, get_settings
from tooling.launcher import ServiceGroup, action_server, free_port, rasa_server

# "socketio-flood": the socket.io patients again, beside one socket sending as fast as it can.
CHANNELS = ("rest", "socketio", "socketio-flood")
# The patients' p95 beside the flood may be at most this many times their p95 without it.
FLOOD_P95_LIMIT = 1.5
# A healthy action server never leads to the "can't look that up" apology.
APOLOGIES = tuple(messages.text("action_unavailable", language) for language in messages.LANGUAGES)


@dataclass
class LoadResult:
    """One channel's load against one tracker store, and what the store holds afterwards."""

    store: str
    channel: str
    conversations: int
    messages: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    throughput: float
    stored_user_messages: int
    stored_bot_messages: int
    replies_received: int
    problems: List[str] = field(default_factory=list)
    flood: Optional[Flood] = None

    @property
    def ok(self) -> bool:
        """No error, every message and reply stored, in order."""
        return self.errors == 0 and not self.problems

    @property
    def flood_held_back(self) -> bool:
        """Whether the flooding socket (if any) got answers for at most one message in twenty.

        Each reply message of an answer counts; its refused messages get one "slow down"
        per notice period and are otherwise dropped, so refusals are not counted.
        """
        return self.flood is None or self.flood.answered * 20 < self.flood.sent


def flood_slowdown(results: List[LoadResult]) -> Dict[str, float]:
    """The socket.io patients' p95 beside the flood over their p95 without it, per store."""
    by_run = {(result.store, result.channel): result for result in results}
    return {
        store: by_run[store, "socketio-flood"].p95_ms / by_run[store, "socketio"].p95_ms
        for store, channel in by_run
        if channel == "socketio-flood" and (store, "socketio") in by_run and by_run[store, "socketio"].p95_ms
    }


StoredEvents = Dict[str, List[Tuple[str, str, bool]]]


def _read_events(db_url: str, query: sa.TextClause, parameters: Mapping[str, object]) -> StoredEvents:
    engine = sa.create_engine(db_url)
    events: StoredEvents = defaultdict(list)
    try:
        with engine.connect() as connection:
            for sender, type_name, data in connection.execute(query, parameters):
                event = json.loads(data)
                buttons = bool((event.get("data") or {}).get("buttons"))
                events[sender].append((type_name, event.get("text") or "", buttons))
    finally:
        engine.dispose()
    return events


def stored_events(db_url: str, prefix: str) -> StoredEvents:
    """Returns (type, text, has buttons) of the user and bot events of senders starting with ``prefix``."""
    query = sa.text(
        "SELECT sender_id, type_name, data FROM events "
        "WHERE sender_id LIKE :prefix AND type_name IN ('user', 'bot') ORDER BY id"
    )
    return _read_events(db_url, query, {"prefix": f"{prefix}%"})


def stored_events_of(db_url: str, stored_ids: Mapping[str, str]) -> StoredEvents:
    """Returns the events as :func:`stored_events` does, of the given conversations.

    ``stored_ids`` maps the name the load gave a conversation to the id it is stored
    under; the result is keyed by the names.
    """
    if not stored_ids:
        return defaultdict(list)
    query = sa.text(
        "SELECT sender_id, type_name, data FROM events "
        "WHERE sender_id IN :senders AND type_name IN ('user', 'bot') ORDER BY id"
    ).bindparams(sa.bindparam("senders", expanding=True))
    by_stored_id = _read_events(db_url, query, {"senders": list(stored_ids.values())})
    return defaultdict(list, {name: by_stored_id.get(stored, []) for name, stored in stored_ids.items()})


def delivered_parts(channel: str, text: str, buttons: bool) -> int:
    """How many messages a client receives for one stored bot message.

    Rasa's REST and socket.io outputs send a text's paragraphs as separate messages;
    REST keeps a text with buttons whole.
    """
    if channel == "rest" and buttons:
        return 1
    return len(text.strip().split("\n\n"))


def check_store(
    db_url: str,
    run: Run,
    scripts: Dict[str, List[str]],
    prefix: str,
    channel: str,
    stored_ids: Optional[Mapping[str, str]] = None,
) -> Tuple[int, int, List[str]]:
    """Compares the store with what was sent and received.

    The conversations are found by ``prefix``, or, when given, by ``stored_ids``: name ->
    the id it is stored under (the web chat stores a keyed hash of its session token).

    Returns:
        Stored user messages, stored bot messages, and the problems found.

    """
    stored = stored_events(db_url, prefix) if stored_ids is None else stored_events_of(db_url, stored_ids)
    received: Dict[str, int] = defaultdict(int)
    for sample in run.samples:
        received[sample.sender] += sample.replies
    problems = []
    users = bots = 0
    for sender, script in scripts.items():
        events = stored.get(sender, [])
        user_texts = [text for kind, text, _ in events if kind == "user"]
        bot_events = [(text, buttons) for kind, text, buttons in events if kind == "bot"]
        users, bots = users + len(user_texts), bots + len(bot_events)
        if user_texts != script:
            problems.append(f"{sender}: {len(user_texts)} of {len(script)} messages stored, or out of order")
        apologies = sum(text.startswith(APOLOGIES) for text, _ in bot_events)
        if apologies:
            problems.append(f"{sender}: {apologies} apologies instead of answers (action call failed)")
        parts = sum(delivered_parts(channel, text, buttons) for text, buttons in bot_events)
        if parts != received[sender]:
            problems.append(f"{sender}: replies stored make {parts} messages, {received[sender]} received")
    return users, bots, problems


def scripts_for(channel: str, prefix: str, conversations: int, length: int) -> Dict[str, List[str]]:
    """Returns each conversation's messages, keyed by the sender id its channel uses."""
    questions = topic_questions()
    suffix = "-0" if channel == "rest" else ""
    return {
        f"{prefix}-{number}{suffix}": conversation_script(number, length, questions)
        for number in range(conversations)
    }


def load(rasa_url: str, db_url: str, store: str, channel: str, conversations: int, length: int) -> LoadResult:
    """Runs the conversations over ``channel`` and checks the store afterwards."""
    prefix = f"load-{store}-{channel}-{int(time.time() * 1000)}"
    stored_ids: Optional[Dict[str, str]] = None
    flood: Optional[Flood] = None
    if channel == "rest":
        run = asyncio.run(virtual_users(rasa_url, conversations, 1, length, prefix, timeout_s=300))
    else:
        tokens: Dict[str, str] = {}
        flood = Flood() if channel == "socketio-flood" else None
        patients = socketio_users(rasa_url, conversations, length, prefix, 300, tokens, flood)
        run = asyncio.run(patients)
        stored_ids = {name: stored_sender(token) for name, token in tokens.items()}
    scripts = scripts_for(channel, prefix, conversations, length)
    users, bots, problems = check_store(db_url, run, scripts, prefix, channel, stored_ids)
    return LoadResult(
        store,
        channel,
        conversations,
        len(run.samples),
        run.errors,
        run.percentile(50),
        run.percentile(95),
        run.percentile(99),
        run.throughput,
        users,
        bots,
        sum(sample.replies for sample in run.samples),
        problems,
        flood,
    )


def postgres_group(log_dir: Path) -> Iterator[str]:
    """Starts a PostgreSQL server of its own; yields the tracker database URL."""
    from tooling.postgres import postgres_server

    # A new folder in /tmp: as root, PostgreSQL runs as 'nobody', who must reach it.
    server = postgres_server(
        Path(tempfile.mkdtemp(prefix="loadtest-pg-")), free_port(), log_dir / "postgres.log"
    )
    with ServiceGroup([server]):
        yield server.create_database("tracker")


def run_store(store: str, db_url: str, log_dir: Path, conversations: int, length: int) -> List[LoadResult]:
    """Starts the assistant on ``db_url`` and loads it over every channel."""
    actions_port, rasa_port = free_port(), free_port()
    services = [
        action_server(actions_port, log_path=log_dir / f"actions-{store}.log", TRACKER_DB_URL=db_url),
        rasa_server(
            get_settings(),
            rasa_port,
            actions_port,
            log_path=log_dir / f"rasa-{store}.log",
            TRACKER_DB_URL=db_url,
        ),
    ]
    with ServiceGroup(services):
        return [
            load(f"http://127.0.0.1:{rasa_port}", db_url, store, channel, conversations, length)
            for channel in CHANNELS
        ]


def write_reports(out: Path, results: List[LoadResult]) -> None:
    """Writes reports/loadtest.json and a markdown table."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "loadtest.json").write_text(json.dumps([asdict(result) for result in results], indent=2) + "\n")
    lines = [
        "# Load test",
        "",
        "| Store | Channel | Conversations | Messages | Errors | p50 ms | p95 ms | p99 ms | msg/s "
        "| Stored user msgs | Stored bot msgs | Replies received | Gaps |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.store} | {r.channel} | {r.conversations} | {r.messages} | {r.errors} | {r.p50_ms:.0f} | "
            f"{r.p95_ms:.0f} | {r.p99_ms:.0f} | {r.throughput:.1f} | {r.stored_user_messages} | "
            f"{r.stored_bot_messages} | {r.replies_received} | {len(r.problems)} |"
        )
    for r in results:
        if r.flood is not None:
            lines.append(
                f"\nFlooding socket ({r.store}): {r.flood.sent} messages sent, "
                f"{r.flood.answered} reply messages of answers, {r.flood.refused} slow-down or busy notices, "
                f"dropped by Engine.IO and reconnected {r.flood.dropped} times."
            )
    for store, ratio in flood_slowdown(results).items():
        lines.append(
            f"\nPatients' p95 beside the flood / without it ({store}): {ratio:.2f} (limit {FLOOD_P95_LIMIT})"
        )
    (out / "loadtest.md").write_text("\n".join(lines) + "\n")


def main() -> int:
    """Runs the load test on both stores and writes the reports."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=at_least(1), default=200)
    parser.add_argument("--length", type=at_least(1), default=20)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "reports")
    arguments = parser.parse_args()
    log_dir = PROJECT_ROOT / "var" / "loadtest"
    work = Path(tempfile.mkdtemp(prefix="loadtest-"))
    results = run_store(
        "sqlite", f"sqlite:///{work / 'tracker.db'}", log_dir, arguments.conversations, arguments.length
    )
    for db_url in postgres_group(log_dir):
        results += run_store("postgresql", db_url, log_dir, arguments.conversations, arguments.length)
    write_reports(arguments.out, results)
    print((arguments.out / "loadtest.md").read_text())
    for result in results:
        for problem in result.problems[:20]:
            print(f"{result.store}/{result.channel}: {problem}", file=sys.stderr)
    flood_ok = all(result.flood_held_back for result in results) and all(
        ratio <= FLOOD_P95_LIMIT for ratio in flood_slowdown(results).values()
    )
    return 0 if flood_ok and all(result.ok for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
