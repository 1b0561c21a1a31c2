"""The patient asks to erase the conversation: asked to confirm, then told it is done.

The erasure itself happens in the Rasa server once this turn is saved
(:mod:`rasa_server.erasure`): the conversation is stored there, not here.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import conversation_language
from actions.fallback import NONE_OF_THESE_PAYLOAD
from core import messages
from core.vocabulary import ActionName, IntentName, SlotName


class ActionConfirmErasure(Action):
    """Asks whether to erase the conversation, with Yes and No buttons."""

    def name(self) -> str:
        """Returns the action's name."""
        return ActionName.CONFIRM_ERASURE

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """Sends the question."""
        language = conversation_language(tracker)
        buttons = [
            {"title": messages.text("erase_yes", language), "payload": f"/{IntentName.ERASE_CONFIRMED}"},
            {"title": messages.text("erase_no", language), "payload": NONE_OF_THESE_PAYLOAD},
        ]
        dispatcher.utter_message(text=messages.text("erase_confirm", language), buttons=buttons)
        return [SlotSet(SlotName.LANGUAGE, language)]


class ActionEraseConversation(Action):
    """Tells the patient the conversation is erased (the Rasa server erases it as the turn ends)."""

    def name(self) -> str:
        """Returns the action's name."""
        return ActionName.ERASE_CONVERSATION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """Sends the confirmation that it is done."""
        dispatcher.utter_message(text=messages.text("erased", conversation_language(tracker)))
        return []
