"""Fills a tracker store with realistic conversations, for the console's benchmark and demos.

    python -m scripts.generate_conversations --db-url sqlite:///var/bench/tracker.db --conversations 10000

The conversations come from ``scripts/conversation_generator`` (patients played against the
real actions); each event is stored exactly as Rasa's SQLTrackerStore stores it (the table is
created by that store). Conversations are spread over the last ``--days`` days, in clinic
hours (Kuala Lumpur time), and some patients come back for a new session.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from typing import Any, Dict, List, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore

from core.cli_args import at_least
from scripts.conversation_generator import Generator, Session, weighted

CHANNELS = [("socketio", 0.62), ("twilio", 0.2), ("whatsapp", 0.12), ("rest", 0.06)]
# How busy each hour of the day is, in clinic time: evenings after work are busiest.
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 1, 2, 4, 7, 9, 10, 10, 9, 9, 9, 9, 8, 8, 9, 10, 10, 9, 6, 3]


def start_times(rng: random.Random, count: int, days: int, now: float) -> List[float]:
    """Returns ``count`` start times over the last ``days`` days, growing towards today."""
    times = []
    for _ in range(count):
        age_days = days * (1 - rng.random() ** 0.8)
        day_start = now - age_days * 86400
        # Clinic hours in Kuala Lumpur (UTC+8): mostly 08:00-23:00 local.
        local_hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
        utc_seconds = ((local_hour - 8) % 24) * 3600 + rng.uniform(0, 3600)
        times.append(min(now - 60, day_start - (day_start % 86400) + utc_seconds))
    return sorted(times)


def rows_for(session: Session) -> List[Dict[str, Any]]:
    """Serialises a session's events as Rasa's SQLTrackerStore.save does."""
    rows = []
    for event in session.events:
        data = event.as_dict()
        rows.append(
            {
                "sender_id": session.sender_id,
                "type_name": event.type_name,
                "timestamp": data.get("timestamp"),
                "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
                "action_name": data.get("name"),
                "data": json.dumps(data),
            }
        )
    return rows


def main() -> None:
    """Parses the command line and writes the conversations."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-url", required=True, help="SQLAlchemy URL of the tracker store to fill")
    parser.add_argument("--conversations", type=at_least(1), default=10000)
    parser.add_argument(
        "--days", type=at_least(1), default=240, help="spread over this many days back from now"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--append", action="store_true", help="add to a tracker store that has events")
    args = parser.parse_args()

    table = SQLTrackerStore.SQLEvent.__table__
    try:
        store = SQLTrackerStore(domain=None, host=args.db_url)
        with store.engine.connect() as connection:
            existing = connection.execute(sa.select(sa.func.count()).select_from(table)).scalar()
    except sa.exc.SQLAlchemyError as error:
        # The URL may carry a password: say what failed, not the URL.
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        sys.exit(f"Cannot open the tracker store given by --db-url: {reason}")
    if existing and not args.append:
        sys.exit(f"The tracker store has {existing} events already; pass --append to add to it.")
    generator = Generator(args.seed)
    rng = random.Random(args.seed + 1)  # noqa: S311
    started = time.monotonic()
    senders: List[Tuple[str, str]] = []
    plans: List[Tuple[float, str, str]] = []
    for start in start_times(rng, args.conversations, args.days, time.time()):
        if senders and rng.random() < 0.08:
            sender, channel = rng.choice(senders)  # a returning patient: a new session
        else:
            channel = weighted(rng, CHANNELS)
            sender = ("wa-" if channel in ("twilio", "whatsapp") else "") + uuid.UUID(
                int=rng.getrandbits(128)
            ).hex
            senders.append((sender, channel))
        plans.append((start, sender, channel))
    buffer: List[Dict[str, Any]] = []
    written = 0
    for start, sender, channel in plans:
        buffer += rows_for(generator.session(sender, channel, start))
        if len(buffer) >= 5000:
            with store.engine.begin() as connection:
                connection.execute(table.insert(), buffer)
            written += len(buffer)
            buffer = []
    if buffer:
        with store.engine.begin() as connection:
            connection.execute(table.insert(), buffer)
        written += len(buffer)
    elapsed = time.monotonic() - started
    print(f"Wrote {len(plans)} conversations ({written} events) to {args.db_url} in {elapsed:.0f} s")


if __name__ == "__main__":
    main()
