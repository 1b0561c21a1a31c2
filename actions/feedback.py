"""A patient rates a quoted answer: thanks, or the likely alternatives (and a person, when one is there)."""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import conversation_language, likeliest, ranking_pairs, topic_buttons
from actions.fallback import NONE_OF_THESE_PAYLOAD
from actions.handoff import someone_can_answer, talk_to_person_button
from core import messages
from core.knowledge import get_knowledge
from core.vocabulary import ActionName, EntityName, IntentName, SlotName

MAX_ALTERNATIVES = 3
RATINGS = (IntentName.RATE_HELPFUL, IntentName.RATE_NOT_HELPFUL)


def rated_topic(tracker: Tracker) -> Optional[str]:
    """The topic the rating names in its payload, else the topic last answered."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == EntityName.RATED_TOPIC and get_knowledge().topic(str(entity.get("value"))):
            return str(entity["value"])
    return tracker.get_slot(SlotName.TOPIC)


def question_ranking(tracker: Tracker) -> List[Tuple[str, float]]:
    """The intent ranking of the patient's question before the rating (what else it may have meant)."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        parse = event.get("parse_data") or {}
        if (parse.get("intent") or {}).get("name") not in (
            IntentName.RATE_HELPFUL,
            IntentName.RATE_NOT_HELPFUL,
        ):
            return ranking_pairs(parse.get("intent_ranking"))
    return []


def alternatives(tracker: Tracker, rated: Optional[str]) -> List[str]:
    """Up to three topics the question may have meant instead, else the rated topic's neighbours."""
    knowledge = get_knowledge()
    others = {topic_id for topic_id in knowledge.topics if topic_id != rated}
    topics = likeliest(question_ranking(tracker), others, MAX_ALTERNATIVES)
    if not topics and rated and (topic := knowledge.topic(rated)):
        topics = list(topic.subtopics or topic.related)
    return topics[:MAX_ALTERNATIVES]


class ActionRateAnswer(Action):
    """Thanks for a rating; after "Not helpful", offers what the question may have meant."""

    def name(self) -> str:
        """Returns the action's name."""
        return ActionName.RATE_ANSWER

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """Replies to the rating; the rating itself is the stored user event (intent and rated topic)."""
        language = conversation_language(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == IntentName.RATE_HELPFUL:
            dispatcher.utter_message(text=messages.text("rated_helpful", language))
            return [SlotSet(SlotName.LANGUAGE, language)]
        buttons = topic_buttons(alternatives(tracker, rated_topic(tracker)), language)
        buttons.append({"title": messages.text("none_of_these", language), "payload": NONE_OF_THESE_PAYLOAD})
        if await someone_can_answer(tracker.get_latest_input_channel() or "", time.time()):
            buttons.append(talk_to_person_button(language))
        dispatcher.utter_message(text=messages.text("rated_not_helpful", language), buttons=buttons)
        return [SlotSet(SlotName.LANGUAGE, language)]
