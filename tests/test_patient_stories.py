"""Patients' own stories over REST: the named cause picks the category, red flags come first."""

from __future__ import annotations

import pytest

from actions.common import likeliest, ranking_pairs
from core.knowledge import get_knowledge
from tests.test_e2e_rest import texts
from tests.test_nlu_followups import assert_answers
from tooling.running_bot import RunningBot

pytestmark = pytest.mark.servers


@pytest.mark.parametrize(
    ("story", "topic_id"),
    [
        ("I've had a slipped disc for two years and now my right calf is visibly smaller than the left. "
         "Can a disc problem cause muscle to waste like that?", "neurogenic_atrophy"),
        ("My father has been on prednisolone for his lungs since March and his thighs have become so thin. "
         "Could the steroids be the cause?", "chronic_diseases"),
    ],
)  # fmt: skip
def test_a_cause_question_naming_a_condition_is_answered_by_its_category(
    bot: RunningBot, story: str, topic_id: str
) -> None:
    sender = f"story-{topic_id}"
    assert_answers(bot, sender, bot.send(sender, story), topic_id)


@pytest.mark.parametrize(
    "story",
    [
        "My mum is 70 and has had weak legs for a while, we were going to ask about physio. "
        "But this evening her face suddenly looks droopy on the left and her words come out slurred. "
        "Can exercise help her legs?",
        "Sciatica on and off for years. Since yesterday I can't feel anything around my groin and I can't "
        "control my bladder properly. Will physiotherapy build my leg muscles back?",
    ],
)
def test_a_red_flag_told_inside_a_story_gets_the_999_reply_first(bot: RunningBot, story: str) -> None:
    replies = bot.send(f"story-red-flag-{abs(hash(story))}", story)
    assert "999" in replies[0]["text"]


def test_a_long_story_about_muscle_loss_is_not_ruled_out_of_scope(bot: RunningBot) -> None:
    story = (
        "Three months ago I fell off my motorbike and broke my wrist. The cast came off last week and my "
        "forearm looks like a stick compared to the other one, the muscle wasting is really obvious. "
        "I work as a mechanic and need my grip back. Any advice?"
    )
    answer = texts(bot.send("story-not-out-of-scope", story))
    assert "can't answer" not in answer.lower() and "tidak dapat" not in answer.lower()


def test_the_out_of_scope_reply_offers_the_messages_likeliest_topics(bot: RunningBot) -> None:
    sender = "story-out-of-scope-topics"
    replies = bot.send(sender, "Does my insurance cover physio after knee surgery, and how do I claim?")
    parse = bot.stored_parses(sender)[-1]
    assert parse["intent"]["name"] == "out_of_scope"
    offered = likeliest(ranking_pairs(parse["intent_ranking"]), get_knowledge().topics)
    (reply,) = [reply for reply in replies if reply.get("buttons")]
    assert "can't answer" in reply["text"]
    assert [button["payload"] for button in reply["buttons"]] == [f"/{topic}" for topic in offered]
