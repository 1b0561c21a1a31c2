"""How long a patient waits for the answer: short questions against long stories, over REST.

``python -m bench.story_latency [--count N]`` (part of ``make bench``): starts the assistant
(action server and Rasa server, SQLite) and sends, one after the other, ``N`` short
questions (the written evaluation set) and ``N`` stories of 60 words or more (real
patients' posts of the training split and their paraphrases: long stories consult the
sentence vectors, the slow path). Writes reports/story_latency.{md,json}. A measurement,
never a pass/fail test; issue #11 asks for a p95 under 150 ms for the stories.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Sequence

import requests

from bench.report import write_table
from bench.traffic import Run, Sample
from core.settings import PROJECT_ROOT
from tooling.nlu_files import EVALUATION_SETS, PARAPHRASE_FILE, SPLIT_FILES, nlu_examples
from tooling.running_bot import start_bot

SHORT_QUESTIONS = EVALUATION_SETS["eval"]["en"]
STORIES = (SPLIT_FILES["train"], PARAPHRASE_FILE)
STORY_WORDS = 60
WARM_UP = 5
PERCENTILES = ("p50_ms", "p95_ms", "max_ms")


def texts(count: int) -> Dict[str, List[str]]:
    """Returns ``count`` short questions and ``count`` stories of at least 60 words."""
    short = [text for text, _ in nlu_examples(SHORT_QUESTIONS)]
    stories = [text for path in STORIES for text, _ in nlu_examples(path) if len(text.split()) >= STORY_WORDS]
    return {"short questions": short[:count], f"stories of {STORY_WORDS}+ words": stories[:count]}


def send_all(rasa_url: str, tag: str, messages: Sequence[str]) -> Run:
    """Sends each message as a new patient, one after the other; times each answer."""
    run = Run()
    started_all = time.perf_counter()
    for index, message in enumerate(messages):
        started = time.perf_counter()
        response = requests.post(
            f"{rasa_url}/webhooks/rest/webhook",
            json={"sender": f"bench-{tag}-{index}", "message": message},
            timeout=60,
        )
        replies = len(response.json()) if response.ok else 0
        run.samples.append(
            Sample(
                f"bench-{tag}-{index}",
                index,
                1000 * (time.perf_counter() - started),
                response.status_code,
                replies,
            )
        )
    run.elapsed_s = time.perf_counter() - started_all
    return run


def main() -> None:
    """Starts the assistant, sends both kinds of message, writes the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=80, help="messages of each kind")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "reports")
    args = parser.parse_args()
    figures: Dict[str, Dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        bot = start_bot(Path(tmp))
        try:
            kinds = texts(args.count)
            send_all(bot.rasa_url, "warm", kinds["short questions"][:WARM_UP])
            for kind, messages in kinds.items():
                run = send_all(bot.rasa_url, kind.split()[0], messages)
                figures[kind] = {
                    "messages": len(run.samples),
                    "errors": run.errors,
                    "p50_ms": round(run.percentile(50), 1),
                    "p95_ms": round(run.percentile(95), 1),
                    "max_ms": round(max(run.latencies(), default=float("nan")), 1),
                }
        finally:
            bot.group.stop()
    lines = [
        "# Short questions and long stories over REST",
        "",
        "One message at a time, each from a new patient, against the running action server and Rasa",
        "server (SQLite), after a warm-up; from the request until the bot's answer came back.",
        "",
        "| messages | n | errors | p50 ms | p95 ms | max ms |",
        "|---|---|---|---|---|---|",
    ]
    for kind, numbers in figures.items():
        cells = [kind, f"{numbers['messages']:.0f}", f"{numbers['errors']:.0f}"]
        cells += [str(numbers[key]) for key in PERCENTILES]
        lines.append("| " + " | ".join(cells) + " |")
    write_table(args.out, "story_latency", lines, figures)


if __name__ == "__main__":
    main()
