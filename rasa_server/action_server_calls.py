"""How the Rasa server calls the action server: bounded in time, apologising on failure.

Rasa's ``RemoteAction`` waits up to 5 minutes for the action server, and when the call
fails (server down, timeout, malformed answer) it logs the error and the patient gets
no reply at all. :func:`install` wraps it so that the call gives up after
``ACTION_TIMEOUT_S`` and the patient gets the ``action_unavailable`` message with the
clinic's contact instead, in every channel (it is an ordinary bot message, stored in
the tracker). It also validates the action server's answer with a validator compiled
once: Rasa's ``jsonschema.validate`` re-checks the whole schema on every call, about a
third of the cost of a message.
"""

from __future__ import annotations

import asyncio
import logging
from functools import lru_cache
from typing import Any, Dict, List

import jsonschema
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.shared.core.events import BotUttered, Event
from rasa.shared.core.trackers import DialogueStateTracker

from core import messages
from core.language import reply_language
from core.settings import get_settings
from core.vocabulary import SlotName

logger = logging.getLogger(__name__)
_INSTALLED = "_assistant_installed"


@lru_cache(maxsize=1)
def _response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate_action_result(_action: RemoteAction, result: Dict[str, Any]) -> bool:
    """Validates an action server answer like Rasa does, with a precompiled validator.

    Raises:
        jsonschema.ValidationError: If the answer does not follow Rasa's format.

    """
    _response_validator().validate(result)
    return True


def unavailable_message(tracker: DialogueStateTracker) -> str:
    """Returns the apology with the clinic's contact, in the conversation's language."""
    latest = tracker.latest_message
    text, metadata = (latest.text or "", latest.metadata) if latest else ("", None)
    language = reply_language(text, tracker.get_slot(SlotName.LANGUAGE), metadata)
    return messages.with_contact("action_unavailable", language)


def install() -> None:
    """Wraps ``RemoteAction`` once per process (the Rasa server's entry point calls it)."""
    if getattr(RemoteAction, _INSTALLED, False):
        return
    original_run = RemoteAction.run
    timeout = get_settings().rasa.action_timeout_s

    async def run_or_apologise(
        self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any
    ) -> List[Event]:
        try:
            return await asyncio.wait_for(original_run(self, output_channel, nlg, tracker, domain), timeout)
        except ActionExecutionRejection:
            raise  # Rasa's own protocol (forms): the policies choose another action.
        except Exception as error:
            # The error's type and the action only: messages may hold personal data.
            logger.error(
                "Action %s failed (%s); sent the apology instead.", self.name(), type(error).__name__
            )
            return [BotUttered(text=unavailable_message(tracker))]

    RemoteAction.run = run_or_apologise  # type: ignore[method-assign]
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    setattr(RemoteAction, _INSTALLED, True)
