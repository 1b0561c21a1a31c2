"""The low-confidence path: a clarifying question, then an honest "I can't answer"."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import conversation_language, likely_topics, topic_buttons
from actions.handoff import talk_to_person_button
from core import messages
from core.vocabulary import ActionName, SlotName

# The "None of these" button sends a plain "no", which the rules turn into the honest fallback.
NONE_OF_THESE_PAYLOAD = "/deny"


def clarified_before(tracker: Tracker) -> bool:
    """Whether the clarifying question was already asked in this session."""
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            return False
        if event.get("event") == "action" and event.get("name") == ActionName.CLARIFY:
            return True
    return False


class ActionClarify(Action):
    """Asks which of the two or three most likely topics the patient meant."""

    def name(self) -> str:
        """Returns the action's name."""
        return ActionName.CLARIFY

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """Offers the candidates and a "None of these" button, or gives up at once."""
        language = conversation_language(tracker)
        candidates = likely_topics(tracker)
        if not candidates:
            dispatcher.utter_message(
                text=messages.with_contact("cannot_answer", language),
                buttons=[talk_to_person_button(language)],
            )
            return [SlotSet(SlotName.LANGUAGE, language)]
        buttons = topic_buttons(candidates, language)
        buttons.append({"title": messages.text("none_of_these", language), "payload": NONE_OF_THESE_PAYLOAD})
        if clarified_before(tracker):
            # The second clarifying question in a row of misses: a person may help where the article can't.
            buttons.append(talk_to_person_button(language))
        dispatcher.utter_message(text=messages.text("clarify", language), buttons=buttons)
        return [SlotSet(SlotName.LANGUAGE, language)]


class ActionCannotAnswer(Action):
    """Says honestly that the article does not answer this, with the clinic's contact."""

    def name(self) -> str:
        """Returns the action's name."""
        return ActionName.CANNOT_ANSWER

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """Sends the honest fallback."""
        language = conversation_language(tracker)
        dispatcher.utter_message(
            text=messages.with_contact("cannot_answer", language), buttons=[talk_to_person_button(language)]
        )
        return [SlotSet(SlotName.LANGUAGE, language)]
