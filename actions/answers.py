"""Actions that answer with verbatim quotes of the clinic's article."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import STARTER_TOPICS, conversation_language, topic_buttons
from core import messages
from core.clinic import get_clinic
from core.knowledge import Topic, get_knowledge, render_quote
from core.vocabulary import ActionName, EntityName, IntentName, SlotName


def resolve_topic(tracker: Tracker) -> Optional[Topic]:
    """Returns the topic the latest message asks about.

    The intent names the topic. When it names an overview (say, the causes) but the
    message mentions a term of one of its sub-topics ("can cancer cause it?"), the
    more specific sub-topic answers the question better.
    """
    knowledge = get_knowledge()
    intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
    topic = knowledge.topic(intent)
    if topic is None or not topic.is_overview:
        return topic
    for entity in tracker.latest_message.get("entities") or []:
        mentioned = knowledge.topic_for_term(str(entity.get("value", "")))
        if mentioned is not None and mentioned.id in topic.subtopics:
            return mentioned
    return topic


def rating_buttons(topic_id: str, language: str) -> List[Dict[str, Any]]:
    """The "Helpful" / "Not helpful" quick replies, their payloads naming the topic they rate."""
    entity = json.dumps({EntityName.RATED_TOPIC: topic_id})
    return [
        {"title": messages.text("rate_helpful", language), "payload": f"/{IntentName.RATE_HELPFUL}{entity}"},
        {
            "title": messages.text("rate_not_helpful", language),
            "payload": f"/{IntentName.RATE_NOT_HELPFUL}{entity}",
        },
    ]


def quote_messages(topic: Topic, language: str) -> List[Dict[str, Any]]:
    """Returns the messages that answer ``topic``: the quote, then the footer with buttons.

    The footer offers the next topics and "was this helpful?" (Meta's WhatsApp channel
    sends the rating as a message of its own: channels/whatsapp_cloud_format.py).
    """
    clinic = get_clinic()
    intro = messages.text("quote_intro", language, clinic=clinic.name)
    quote = render_quote(topic, messages.text("heading_added", language))
    footer_key = "overview_footer" if topic.is_overview else "answer_footer"
    footer = messages.text(footer_key, language)
    if clinic.article_url:
        footer = f"{messages.text('article_link', language, value=clinic.article_url)}\n{footer}"
    next_topics = topic_buttons(topic.subtopics or topic.related, language)
    return [
        {"text": f"{intro}\n\n{quote}"},
        {"text": footer, "buttons": next_topics + rating_buttons(topic.id, language)},
    ]


class ActionAnswerTopic(Action):
    """Quotes the article section(s) of the topic the patient asked about."""

    def name(self) -> str:
        """Returns the action's name."""
        return ActionName.ANSWER_TOPIC

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """Sends the quote and sets the ``topic`` slot to the topic answered."""
        language = conversation_language(tracker)
        topic = resolve_topic(tracker)
        if topic is None:
            dispatcher.utter_message(text=messages.with_contact("cannot_answer", language))
            return [SlotSet(SlotName.LANGUAGE, language)]
        for message in quote_messages(topic, language):
            dispatcher.utter_message(**message)
        return [SlotSet(SlotName.TOPIC, topic.id), SlotSet(SlotName.LANGUAGE, language)]


class ActionTellMeMore(Action):
    """Answers "tell me more" by re-offering the topics next to the last one answered."""

    def name(self) -> str:
        """Returns the action's name."""
        return ActionName.TELL_ME_MORE

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """Offers the last topic's sub-topics or related topics, else the starters."""
        language = conversation_language(tracker)
        topic = get_knowledge().topic(tracker.get_slot(SlotName.TOPIC) or "")
        if topic is None:
            buttons = topic_buttons(STARTER_TOPICS, language)
            dispatcher.utter_message(text=messages.text("tell_me_more_no_topic", language), buttons=buttons)
        else:
            buttons = topic_buttons(topic.subtopics or topic.related, language)
            dispatcher.utter_message(text=messages.text("tell_me_more", language), buttons=buttons)
        return [SlotSet(SlotName.LANGUAGE, language)]
