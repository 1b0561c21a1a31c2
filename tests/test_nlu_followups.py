"""Follow-up questions over REST: entities and the `topic` slot keep the conversation's context."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from core.knowledge import get_knowledge
from tests.test_e2e_rest import texts, topic_slot_values
from tooling.running_bot import RunningBot

pytestmark = pytest.mark.servers


def assert_answers(bot: RunningBot, sender: str, replies: List[Dict[str, Any]], topic_id: str) -> None:
    answer = texts(replies)
    for section in get_knowledge().topics[topic_id].sections:
        assert section.text in answer, f"expected {topic_id}, got {answer[:200]!r}"
    assert topic_slot_values(bot, sender)[-1] == topic_id


@pytest.mark.parametrize(
    ("first", "first_topic", "follow_up", "topic_id"),
    [
        ("what causes muscle wasting?", "atrophy_causes", "can cancer cause it?", "chronic_diseases"),
        ("how is muscle atrophy treated?", "atrophy_treatments", "what about surgery?", "surgery"),
        ("which exercises rebuild wasted muscle?", "physical_therapy", "how long does that take?",
         "recovery_time"),
        ("my legs got thin after weeks in bed", "disuse_atrophy", "how can physio help with that?",
         "physiotherapy_role"),
    ],
)  # fmt: skip
def test_follow_up_answers_the_specific_topic(
    bot: RunningBot, first: str, first_topic: str, follow_up: str, topic_id: str
) -> None:
    sender = f"follow-up-{topic_id}"
    assert_answers(bot, sender, bot.send(sender, first), first_topic)
    assert_answers(bot, sender, bot.send(sender, follow_up), topic_id)


def test_tell_me_more_re_offers_the_last_topics_neighbours(bot: RunningBot) -> None:
    sender = "follow-up-tell-me-more"
    assert_answers(bot, sender, bot.send(sender, "what are the signs of muscle atrophy?"), "atrophy_symptoms")
    replies = bot.send(sender, "tell me more")
    payloads = [button["payload"] for reply in replies for button in reply.get("buttons", [])]
    assert payloads == [f"/{topic}" for topic in get_knowledge().topics["atrophy_symptoms"].related]


def test_malay_question_gets_the_english_quote_with_malay_around_it(bot: RunningBot) -> None:
    sender = "follow-up-malay"
    replies = bot.send(sender, "otot kaki ayah saya makin susut, boleh pulih balik tak?")
    assert_answers(bot, sender, replies, "reversibility")
    english = bot.send("follow-up-english", "can wasted leg muscles come back?")
    # Same quote, different wording around it.
    assert texts(replies) != texts(english)
    assert replies[-1]["buttons"][0]["title"] == get_knowledge().topics["recovery_time"].title("ms")
