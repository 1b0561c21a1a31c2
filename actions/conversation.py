"""Actions for the conversation around the quotes: greetings, contact, emergencies."""

from __future__ import annotations

from typing import Any, Dict, List, Sequence

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import STARTER_TOPICS, clinic_name, conversation_language, likely_topics, topic_buttons
from core import messages
from core.clinic import get_clinic
from core.settings import get_settings
from core.vocabulary import SlotName


class ReplyAction(Action):
    """Replies with one message of ``messages.yml``, optionally with contact or topics.

    Subclasses set ``action_name`` and ``message_key``; ``add_contact`` appends the
    clinic's contact lines and ``offer_topics`` the topics of :meth:`topics` as buttons.
    """

    action_name = ""
    message_key = ""
    add_contact = False
    offer_topics = False

    def name(self) -> str:
        """Returns the action's name."""
        return self.action_name

    def topics(self, tracker: Tracker) -> Sequence[str]:
        """Returns the topics offered as buttons: the broad starter topics."""
        return STARTER_TOPICS

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """Sends the message in the conversation's language."""
        language = conversation_language(tracker)
        if self.add_contact:
            reply = messages.with_contact(self.message_key, language)
        else:
            reply = messages.text(self.message_key, language, clinic=clinic_name())
        buttons = topic_buttons(self.topics(tracker), language) if self.offer_topics else []
        dispatcher.utter_message(text=reply, buttons=buttons)
        return [SlotSet(SlotName.LANGUAGE, language)]


def privacy_line(language: str) -> str:
    """One line on what is kept, for how long, how to erase it, and the clinic's privacy notice if set."""
    line = messages.text("privacy_line", language, days=str(get_settings().console.retention_days))
    notice = get_clinic().privacy_notice_url
    return f"{line} {messages.text('privacy_notice', language, url=notice)}" if notice else line


def greeting(language: str) -> str:
    """The greeting: who the assistant is, then the privacy line."""
    return f"{messages.text('greet', language, clinic=clinic_name())}\n{privacy_line(language)}"


class ActionGreet(Action):
    """Greets, says what the assistant answers, and gives the disclaimer."""

    def name(self) -> str:
        """Returns the action's name."""
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """Sends the greeting, the disclaimer and the starter topics."""
        language = conversation_language(tracker)
        dispatcher.utter_message(text=greeting(language))
        dispatcher.utter_message(
            text=f"{messages.text('disclaimer', language)} {messages.text('ask_topic', language)}",
            buttons=topic_buttons(STARTER_TOPICS, language),
        )
        return [SlotSet(SlotName.LANGUAGE, language)]


class ActionGoodbye(ReplyAction):
    """Says goodbye."""

    action_name = "action_goodbye"
    message_key = "goodbye"


class ActionThank(ReplyAction):
    """Answers thanks and invites another question."""

    action_name = "action_thank"
    message_key = "thank"


class ActionAffirm(ReplyAction):
    """Answers a bare yes by offering topics."""

    action_name = "action_affirm"
    message_key = "affirm"
    offer_topics = True


class ActionDeny(ReplyAction):
    """Answers a bare no politely."""

    action_name = "action_deny"
    message_key = "deny"


class ActionBotChallenge(ReplyAction):
    """Says it is an automated assistant and how to reach a person."""

    action_name = "action_bot_challenge"
    message_key = "bot_challenge"
    add_contact = True


class ActionOutOfScope(ReplyAction):
    """Says honestly what it cannot answer, what it can, and how to reach the clinic."""

    action_name = "action_out_of_scope"
    message_key = "out_of_scope"
    add_contact = True
    offer_topics = True

    def topics(self, tracker: Tracker) -> Sequence[str]:
        """Returns the message's likeliest topics, or the starter topics when it has none.

        A patient's long story is sometimes judged out of scope although it asks about a
        topic; the closest topics as buttons let them reach the answer in one tap.
        """
        return likely_topics(tracker) or STARTER_TOPICS


class ActionBookAppointment(ReplyAction):
    """Gives the clinic's booking and contact details."""

    action_name = "action_book_appointment"
    message_key = "book_appointment"
    add_contact = True


class ActionEmergency(ReplyAction):
    """Sends the patient to urgent care (999) first and plainly."""

    action_name = "action_emergency"
    message_key = "emergency"
