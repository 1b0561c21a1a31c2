"""Conversations as Rasa stores them, and reading the pages: the tests of ratings and unanswered questions."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import yaml
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

START = 1_700_000_000.0


class Script:
    """A conversation as Rasa stores it, one turn at a time."""

    def __init__(self, channel: str = "socketio", start: float = START, language: str = "en") -> None:
        self.channel = channel
        self.language = language
        self.clock = start
        self.events: List[Event] = [
            ActionExecuted("action_session_start", timestamp=self.tick()),
            SessionStarted(timestamp=self.tick()),
            ActionExecuted("action_listen", timestamp=self.tick()),
        ]

    def tick(self) -> float:
        self.clock += 1.0
        return self.clock

    def say(
        self,
        text: str,
        intent: str,
        *actions: str,
        topic: Optional[str] = None,
        entities: Optional[List[Dict[str, Any]]] = None,
    ) -> Script:
        self.events.append(
            UserUttered(
                text,
                {"name": intent, "confidence": 0.9},
                entities or [],
                timestamp=self.tick(),
                input_channel=self.channel,
            )
        )
        for action in actions:
            self.events.append(ActionExecuted(action, timestamp=self.tick()))
            if action == "action_answer_topic" and topic:
                self.events.append(SlotSet("topic", topic, timestamp=self.tick()))
            self.events.append(SlotSet("language", self.language, timestamp=self.tick()))
        self.events.append(ActionExecuted("action_listen", timestamp=self.tick()))
        return self

    def rate(self, helpful: bool, topic: Optional[str]) -> Script:
        intent = "rate_helpful" if helpful else "rate_not_helpful"
        payload = f"/{intent}" + (json.dumps({"rated_topic": topic}) if topic else "")
        entities = [{"entity": "rated_topic", "value": topic}] if topic else []
        return self.say(payload, intent, "action_rate_answer", entities=entities)


def store(url: str, trackers: Dict[str, List[Event]]) -> None:
    tracker_store = SQLTrackerStore(domain=Domain.empty(), host=url)
    for sender, events in trackers.items():
        asyncio.run(tracker_store.save(DialogueStateTracker.from_events(sender, events)))
    tracker_store.engine.dispose()


GROUPS_FILE = Path(__file__).with_name("unanswered_groups.yml")
# The groups of unanswered_groups.yml the console tests ask, and how the assistant replied.
ASKED = {
    "session_price": "action_clarify",
    "parking": "action_out_of_scope",
    "opening_hours": "action_clarify",
}


def labelled_questions() -> Tuple[Dict[str, List[str]], List[str]]:
    """The paraphrase groups and the singletons of tests/console/unanswered_groups.yml."""
    document = yaml.safe_load(GROUPS_FILE.read_text(encoding="utf-8"))
    return {name: list(texts) for name, texts in document["groups"].items()}, list(document["singletons"])


def purity(truth: Sequence[str], predicted: Sequence[int]) -> Tuple[float, float]:
    """Purity (each group holds one question) and inverse purity (each question sits in one group)."""

    def best_overlap(outer: Sequence[Any], inner: Sequence[Any]) -> int:
        members: Dict[Any, List[Any]] = {}
        for key, value in zip(outer, inner, strict=True):
            members.setdefault(key, []).append(value)
        return sum(Counter(values).most_common(1)[0][1] for values in members.values())

    return best_overlap(predicted, truth) / len(truth), best_overlap(truth, predicted) / len(truth)


def clinic_week(now: float) -> Dict[str, List[Event]]:
    """Conversations of the last hours: unanswered paraphrases, answers, ratings, a person asked for.

    Per topic: atrophy_causes answered 3 times, rated twice (1 helpful); recovery_time
    answered once on WhatsApp in Malay, rated helpful.
    """
    groups, singletons = labelled_questions()
    trackers: Dict[str, List[Event]] = {}
    start = now - 4 * 3600
    for name, action in ASKED.items():
        intent = "out_of_scope" if action == "action_out_of_scope" else "nlu_fallback"
        for index, text in enumerate(groups[name]):
            start += 60
            trackers[f"{name}-{index}"] = Script(start=start).say(text, intent, action).events
    for index, text in enumerate(singletons[:3]):
        start += 60
        trackers[f"single-{index}"] = Script(start=start).say(text, "nlu_fallback", "action_clarify").events

    def answer(text: str, topic: str, channel: str = "socketio", language: str = "en") -> Script:
        return Script(channel, start=start, language=language).say(
            text, topic, "action_answer_topic", topic=topic
        )

    start += 60
    trackers["helpful"] = (
        answer("what causes muscle wasting", "atrophy_causes").rate(True, "atrophy_causes").events
    )
    start += 60
    trackers["not-helpful"] = (
        answer("why are my legs getting thinner after my stroke", "atrophy_causes")
        .rate(False, "atrophy_causes")
        .events
    )
    start += 60
    trackers["button"] = answer("/atrophy_causes", "atrophy_causes").events
    start += 60
    trackers["malay"] = (
        answer("berapa lama untuk pulih", "recovery_time", "whatsapp", "ms")
        .rate(True, "recovery_time")
        .events
    )
    start += 60
    trackers["person"] = (
        Script(start=start)
        .say("can i talk to a physiotherapist", "contact_human", "action_contact_human")
        .events
    )
    return trackers


class Figures(HTMLParser):
    """Collects the text of every ``data-figure`` element, under the ``data-topic`` row it is in."""

    def __init__(self) -> None:
        super().__init__()
        self.found: Dict[Tuple[Optional[str], str], str] = {}
        self.stack: List[Tuple[str, Optional[str], Optional[str]]] = []
        self.texts: Dict[int, List[str]] = {}

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        values = dict(attrs)
        topic = values.get("data-topic") or (self.stack[-1][1] if self.stack else None)
        if tag in ("input", "meta", "link", "img", "br"):
            return
        self.stack.append((tag, topic, values.get("data-figure")))
        if values.get("data-figure"):
            self.texts[len(self.stack)] = []

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            open_tag, topic, figure = self.stack.pop()
            depth = len(self.stack) + 1
            if figure and depth in self.texts:
                self.found.setdefault((topic, figure), "".join(self.texts.pop(depth)).strip())
            if open_tag == tag:
                return

    def handle_data(self, data: str) -> None:
        for parts in self.texts.values():
            parts.append(data)


def figures(html: str) -> Dict[Tuple[Optional[str], str], int]:
    parser = Figures()
    parser.feed(html)
    return {key: int(value.replace(",", "")) for key, value in parser.found.items()}


def groups_of(html: str) -> Dict[str, Tuple[str, List[str]]]:
    """Group key -> (the article's HTML, its example texts)."""
    found = {}
    for match in re.finditer(
        r'<article class="card group[^"]*"[^>]*data-key="([^"]*)"(.*?)</article>', html, re.S
    ):
        examples = re.findall(r"<li><a [^>]*>([^<]*)</a>", match.group(2))
        found[match.group(1)] = (match.group(2), examples)
    return found
