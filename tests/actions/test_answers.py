"""Quoting actions, run with real Tracker and CollectingDispatcher objects."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import ActionAnswerTopic, ActionTellMeMore
from core.knowledge import KnowledgeBase, get_knowledge
from tests.actions.conftest import make_tracker

TOPICS = sorted(get_knowledge().topics)


def run(action: Any, tracker: Any) -> tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher.messages, events


def all_text(messages: List[Dict[str, Any]]) -> str:
    return "\n\n".join(message.get("text") or "" for message in messages)


@pytest.mark.parametrize("topic_id", TOPICS)
def test_quotes_every_section_whole_under_its_heading_and_sets_topic(
    topic_id: str, knowledge: KnowledgeBase
) -> None:
    messages, events = run(ActionAnswerTopic(), make_tracker(topic_id, "question"))
    text = all_text(messages)
    for section in knowledge.topics[topic_id].sections:
        heading = section.heading + (" (heading added by the assistant)" if section.heading_added else "")
        assert f"{heading}\n{section.text}" in text
    assert "not a diagnosis" in text
    assert SlotSet("topic", topic_id) in events


@pytest.mark.parametrize("topic_id", ["atrophy_types", "atrophy_causes", "atrophy_treatments"])
def test_overviews_offer_their_subtopics_as_buttons(topic_id: str, knowledge: KnowledgeBase) -> None:
    messages, _ = run(ActionAnswerTopic(), make_tracker(topic_id))
    payloads = [button["payload"] for message in messages for button in message["buttons"]]
    rating = [
        f'/rate_helpful{{"rated_topic": "{topic_id}"}}',
        f'/rate_not_helpful{{"rated_topic": "{topic_id}"}}',
    ]
    assert payloads == [f"/{sub}" for sub in knowledge.topics[topic_id].subtopics] + rating


def test_other_topics_offer_their_related_topics(knowledge: KnowledgeBase) -> None:
    messages, _ = run(ActionAnswerTopic(), make_tracker("atrophy_symptoms"))
    titles = [button["title"] for message in messages for button in message["buttons"]]
    related = [knowledge.topics[t].title("en") for t in knowledge.topics["atrophy_symptoms"].related]
    assert titles == [*related, "👍 Helpful", "👎 Not helpful"]  # then "was this helpful?"
    assert "Treatments" in titles


def test_a_term_of_a_subtopic_narrows_an_overview() -> None:
    entity = {"entity": "condition", "value": "cancer", "start": 4, "end": 10}
    _, events = run(ActionAnswerTopic(), make_tracker("atrophy_causes", "can cancer cause it?", [entity]))
    assert SlotSet("topic", "chronic_diseases") in events


def test_a_term_outside_the_overview_is_ignored() -> None:
    entity = {"entity": "treatment", "value": "surgery"}
    _, events = run(ActionAnswerTopic(), make_tracker("atrophy_causes", "causes and surgery", [entity]))
    assert SlotSet("topic", "atrophy_causes") in events


def test_malay_question_gets_english_quote_with_malay_around_it(knowledge: KnowledgeBase) -> None:
    messages, events = run(ActionAnswerTopic(), make_tracker("reversibility", "boleh ke otot pulih balik?"))
    text = all_text(messages)
    assert knowledge.topics["reversibility"].sections[0].text in text
    titles = [button["title"] for message in messages for button in message.get("buttons", [])]
    assert "bukan diagnosis" in text and "Masa pemulihan" in titles
    assert SlotSet("language", "ms") in events


def test_unknown_intent_is_answered_honestly() -> None:
    messages, events = run(ActionAnswerTopic(), make_tracker("greet", "hello"))
    assert "can't answer" in all_text(messages)
    assert not any(event.get("name") == "topic" for event in events)


def test_tell_me_more_reoffers_the_last_topics_neighbours(knowledge: KnowledgeBase) -> None:
    tracker = make_tracker("tell_me_more", "tell me more", slots={"topic": "surgery"})
    messages, _ = run(ActionTellMeMore(), tracker)
    payloads = [button["payload"] for button in messages[0]["buttons"]]
    assert payloads == [f"/{related}" for related in knowledge.topics["surgery"].related]


def test_tell_me_more_without_a_topic_offers_the_starters() -> None:
    messages, _ = run(ActionTellMeMore(), make_tracker("tell_me_more", "more"))
    assert "/atrophy_symptoms" in [button["payload"] for button in messages[0]["buttons"]]
