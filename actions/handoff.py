"""A patient asks for a person: the queue when someone is there, else the hours and the contact details."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import Button, conversation_language
from core import messages
from core.clinic import get_clinic
from core.settings import get_settings
from core.vocabulary import ActionName, IntentName, SlotName
from handoff import queue
from handoff.hours import OpeningHours
from handoff.schema import engine_for

logger = logging.getLogger(__name__)

#: Channels a member of staff can write to later; the REST API has no way to push.
LIVE_CHANNELS = ("socketio", "twilio", "whatsapp")
WHATSAPP_CHANNELS = ("twilio", "whatsapp")


def talk_to_person_button(language: str) -> Button:
    """The "Talk to a person" quick reply."""
    return {"title": messages.text("talk_to_person", language), "payload": f"/{IntentName.CONTACT_HUMAN}"}


@lru_cache(maxsize=1)
def opening_hours() -> Optional[OpeningHours]:
    """The clinic's hours when ``hours`` is written per weekday; None (unknown) otherwise.

    Read once per process, like the clinic itself, not on every request for a person.
    """
    try:
        return OpeningHours.parse(get_clinic().hours, get_settings().console.timezone)
    except ValueError as error:
        logger.warning("%s: staff availability alone decides", error)
        return None


def clinic_open(now: float) -> bool:
    """Whether the clinic is open now (always, when its hours are not known per weekday)."""
    hours = opening_hours()
    return hours is None or hours.is_open(datetime.fromtimestamp(now, timezone.utc))


def queue_engine() -> Any:
    """The tracker database, where the queue lives (opened only when a live channel asks)."""
    return engine_for(get_settings().core.tracker_db_url)


async def someone_can_answer(channel: str, now: float) -> bool:
    """Whether a person could reply on ``channel`` now: a live channel, open hours, someone available."""
    if channel not in LIVE_CHANNELS or not clinic_open(now):
        return False
    presence_seconds = get_settings().handoff.presence_seconds
    return await asyncio.to_thread(queue.available_staff, queue_engine(), now, presence_seconds) > 0


class ActionContactHuman(Action):
    """Puts the patient in the queue for a person, or says plainly when and how to reach the clinic."""

    def name(self) -> str:
        """Returns the action's name."""
        return ActionName.CONTACT_HUMAN

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """Queues the request (pausing the assistant when someone will answer) or gives the contact."""
        language = conversation_language(tracker)
        channel = tracker.get_latest_input_channel() or ""
        settings = get_settings()
        now = time.time()
        someone = await someone_can_answer(channel, now)
        events: List[Dict[str, Any]] = [SlotSet(SlotName.LANGUAGE, language)]
        if someone or channel in WHATSAPP_CHANNELS:
            _, place = await asyncio.to_thread(
                queue.enqueue,
                queue_engine(),
                tracker.sender_id,
                channel,
                language,
                tracker.get_slot(SlotName.TOPIC),
                someone,
                now,
                settings.console.timezone,
            )
        if someone:
            text = messages.text("handoff_queued", language, clinic=get_clinic().name, place=str(place))
            dispatcher.utter_message(text=text)
            return [*events, ConversationPaused()]
        key = "handoff_later" if channel in WHATSAPP_CHANNELS else "handoff_unavailable"
        dispatcher.utter_message(text=messages.with_contact(key, language))
        return events
