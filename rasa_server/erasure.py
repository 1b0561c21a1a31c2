"""Erasing a conversation the patient asked to erase, once its last turn is saved.

The action server only confirms (``action_erase_conversation``): the conversation lives
in the Rasa server's tracker store, and Rasa saves the turn after the action ran. This
hook runs after that save, still under the conversation's lock, and deletes the
conversation from every table (:func:`console.erasure.erase_sender`). The console's
indexer cannot leave rows behind: the erasure takes the index lock, so it waits for a
batch that already read the events and deletes what that batch wrote.
"""

from __future__ import annotations

import asyncio
import logging

from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from console.erasure import erase_sender
from core.database import record_audit
from core.settings import get_settings
from core.vocabulary import ActionName
from handoff.schema import engine_for

logger = logging.getLogger(__name__)
_INSTALLED = "_assistant_erasure"


def erasure_confirmed(tracker: DialogueStateTracker) -> bool:
    """Whether the erasure action ran in the conversation's latest turn."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, ActionExecuted) and event.action_name == ActionName.ERASE_CONVERSATION:
            return True
    return False


async def erase(sender_id: str, channel: str) -> None:
    """Erases ``sender_id`` and audits that an erasure happened."""
    engine = engine_for(get_settings().core.tracker_db_url)
    await asyncio.to_thread(erase_sender, engine, sender_id)
    await asyncio.to_thread(record_audit, engine, "patient", "erasure", "", channel)
    logger.info("Erased a conversation at the patient's request")


def install() -> None:
    """Wraps Rasa's ``save_tracker`` (once per process)."""
    if getattr(MessageProcessor, _INSTALLED, False):
        return
    save = MessageProcessor.save_tracker

    async def save_then_erase(self: MessageProcessor, tracker: DialogueStateTracker) -> None:
        await save(self, tracker)
        if erasure_confirmed(tracker):
            await erase(tracker.sender_id, tracker.get_latest_input_channel() or "")

    MessageProcessor.save_tracker = save_then_erase  # type: ignore[method-assign]
    setattr(MessageProcessor, _INSTALLED, True)
