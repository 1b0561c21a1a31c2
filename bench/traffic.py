"""Simulated patients: virtual users holding conversations of topic questions over REST."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import aiohttp
import numpy as np
import yaml

from core.settings import PROJECT_ROOT

QUESTIONS_FILE = PROJECT_ROOT / "tests" / "e2e_questions.yml"


def topic_questions() -> List[str]:
    """Returns one everyday question per article topic (the end-to-end test's)."""
    questions: Dict[str, str] = yaml.safe_load(QUESTIONS_FILE.read_text(encoding="utf-8"))
    return [questions[topic] for topic in sorted(questions)]


def conversation_script(number: int, length: int, questions: Sequence[str]) -> List[str]:
    """Returns ``length`` questions, starting at a different topic for each conversation."""
    start = (number * 7) % len(questions)
    cycle = itertools.islice(itertools.cycle(questions), start, start + length)
    return list(cycle)


@dataclass
class Sample:
    """One message sent and how it went."""

    sender: str
    index: int
    latency_ms: float
    status: int
    replies: int
    error: str = ""

    @property
    def ok(self) -> bool:
        """Whether the bot answered with at least one message."""
        return self.status == 200 and self.replies > 0 and not self.error


@dataclass
class Run:
    """The samples of one load pattern and its wall-clock duration."""

    samples: List[Sample] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def errors(self) -> int:
        """Messages without a 200 and a reply."""
        return sum(not sample.ok for sample in self.samples)

    def latencies(self, indexes: Optional[Sequence[int]] = None) -> List[float]:
        """Returns the latencies in ms, of the messages at ``indexes`` (0-based) only if given."""
        return [
            sample.latency_ms
            for sample in self.samples
            if sample.ok and (indexes is None or sample.index in indexes)
        ]

    def percentile(self, q: float, indexes: Optional[Sequence[int]] = None) -> float:
        """Returns the ``q``-th latency percentile in ms (NaN without samples)."""
        values = self.latencies(indexes)
        return float(np.percentile(values, q)) if values else float("nan")

    @property
    def throughput(self) -> float:
        """Messages answered per second of wall-clock time."""
        answered = sum(sample.ok for sample in self.samples)
        return answered / self.elapsed_s if self.elapsed_s else 0.0


async def send_rest(
    session: aiohttp.ClientSession, url: str, sender: str, message: str
) -> tuple[int, List[Dict[str, Any]]]:
    """Posts one message to the REST channel; returns the status and the bot's messages."""
    async with session.post(url, json={"sender": sender, "message": message}) as response:
        body = await response.json(content_type=None) if response.status == 200 else []
        return response.status, body if isinstance(body, list) else []


async def converse(
    session: aiohttp.ClientSession, url: str, sender: str, script: Sequence[str], run: Run
) -> None:
    """Sends the script's messages one after the other, recording each reply's latency."""
    for index, message in enumerate(script):
        started = time.perf_counter()
        try:
            status, replies = await send_rest(session, url, sender, message)
            error = ""
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            status, replies, error = 0, [], type(exc).__name__
        latency = (time.perf_counter() - started) * 1000
        run.samples.append(Sample(sender, index, latency, status, len(replies), error))


async def virtual_users(
    rasa_url: str,
    users: int,
    conversations: int,
    length: int,
    prefix: str,
    timeout_s: float = 120.0,
) -> Run:
    """Runs ``users`` concurrent patients, each holding ``conversations`` conversations in turn.

    Every conversation has its own sender id, so no two share a tracker.

    Args:
        rasa_url: The Rasa server's base URL.
        users: Concurrent virtual users.
        conversations: Conversations per user, one after the other.
        length: Messages per conversation.
        prefix: Start of every sender id, unique per run.
        timeout_s: Longest wait for one reply.

    Returns:
        The samples and the run's duration.

    """
    url = f"{rasa_url}/webhooks/rest/webhook"
    questions = topic_questions()
    run = Run()
    limits = aiohttp.TCPConnector(limit=users)
    async with aiohttp.ClientSession(
        connector=limits, timeout=aiohttp.ClientTimeout(total=timeout_s)
    ) as session:

        async def user(number: int) -> None:
            for turn in range(conversations):
                conversation = number * conversations + turn
                script = conversation_script(conversation, length, questions)
                await converse(session, url, f"{prefix}-{number}-{turn}", script, run)

        started = time.perf_counter()
        await asyncio.gather(*(user(number) for number in range(users)))
        run.elapsed_s = time.perf_counter() - started
    return run
