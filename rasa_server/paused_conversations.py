"""While a person has the conversation, the assistant is silent, except for an emergency.

Rasa stores a paused conversation's messages (after NLU, so they are classified and
redacted like any other) and predicts nothing. A red-flag message must still get the way
to urgent care at once, whoever is chatting: this hook runs the emergency action for it
and raises an alert on the conversation's request, which the console shows.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from rasa.core.policies.policy import PolicyPrediction
from rasa.core.processor import MessageProcessor
from rasa.shared.core.trackers import DialogueStateTracker

from core.settings import get_settings
from core.vocabulary import ActionName, IntentName
from handoff import queue
from handoff.schema import engine_for

logger = logging.getLogger(__name__)
_INSTALLED = "_assistant_paused_emergencies"


def is_paused_emergency(tracker: DialogueStateTracker) -> bool:
    """Whether the latest message is a red flag in a conversation a person has (or waits for)."""
    latest = tracker.latest_message
    return tracker.is_paused() and latest is not None and latest.intent.get("name") == IntentName.EMERGENCY


def install() -> None:
    """Wraps Rasa's prediction loop (once per process)."""
    if getattr(MessageProcessor, _INSTALLED, False):
        return
    predict = MessageProcessor._run_prediction_loop

    async def predict_or_alert(
        self: MessageProcessor, output_channel: Any, tracker: DialogueStateTracker
    ) -> None:
        if not is_paused_emergency(tracker):
            await predict(self, output_channel, tracker)
            return
        action = self._get_action(ActionName.EMERGENCY)
        prediction = PolicyPrediction.for_action_name(self.domain, ActionName.EMERGENCY)
        await self._run_action(action, tracker, output_channel, self.nlg, prediction)
        engine = engine_for(get_settings().core.tracker_db_url)
        if not await asyncio.to_thread(queue.raise_alert, engine, tracker.sender_id, time.time()):
            logger.warning("A paused conversation had a red flag but no open request for a person")

    MessageProcessor._run_prediction_loop = predict_or_alert  # type: ignore[method-assign]
    setattr(MessageProcessor, _INSTALLED, True)
