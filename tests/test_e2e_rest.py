"""End to end over REST: the real Rasa server and action server answer every topic."""

from __future__ import annotations

import sqlite3
from typing import Any, Dict, List

import pytest
import yaml

from core.knowledge import get_knowledge
from core.settings import PROJECT_ROOT
from tooling.running_bot import RunningBot

QUESTIONS: Dict[str, str] = yaml.safe_load((PROJECT_ROOT / "tests" / "e2e_questions.yml").read_text())
pytestmark = pytest.mark.servers


def texts(replies: List[Dict[str, Any]]) -> str:
    return "\n\n".join(reply.get("text", "") for reply in replies)


def topic_slot_values(bot: RunningBot, sender: str) -> List[str]:
    with sqlite3.connect(bot.tracker_db) as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'slot'", (sender,)
        ).fetchall()
    values = [yaml.safe_load(data)["value"] for (data,) in rows]
    return [value for value in values if isinstance(value, str) and value not in ("en", "ms")]


def test_questions_cover_every_topic() -> None:
    assert set(QUESTIONS) == set(get_knowledge().topics)


@pytest.mark.parametrize("topic_id", sorted(QUESTIONS))
def test_every_topic_is_answered_verbatim_under_its_heading(bot: RunningBot, topic_id: str) -> None:
    sender = f"e2e-{topic_id}"
    replies = bot.send(sender, QUESTIONS[topic_id])
    answer = texts(replies)
    for section in get_knowledge().topics[topic_id].sections:
        assert section.text in answer, f"{topic_id}: missing {section.id} in {answer[:300]!r}"
        heading_at = answer.index(section.heading)
        assert heading_at < answer.index(section.text)
    assert "not a diagnosis" in answer
    assert topic_slot_values(bot, sender)[-1] == topic_id


def test_greeting_and_emergency_over_rest(bot: RunningBot) -> None:
    assert "not a diagnosis" in texts(bot.send("e2e-greet", "hello there"))
    emergency = bot.send(
        "e2e-emergency", "my mother suddenly can't move her right side and her face is drooping"
    )
    assert emergency[0]["text"].startswith("If this is an emergency, call 999")


def test_button_payload_answers_its_topic(bot: RunningBot) -> None:
    replies = bot.send("e2e-button", "/surgery")
    assert get_knowledge().topics["surgery"].sections[0].text in texts(replies)
