"""The names the code shares about a conversation: intents, actions, slots and staff flags.

Each is spelled once here. Rasa reads them from ``domain.yml``. The actions, the NLU
components and the staff console all act on them, so a rename in the domain must reach
all three; ``tests/core/test_vocabulary.py`` checks every name here
against ``domain.yml`` and the console's tables.
"""

from __future__ import annotations

from typing import Dict, FrozenSet, Tuple


class IntentName:
    """Intents the code acts on by name (the topic intents are the knowledge's topic ids)."""

    GREET = "greet"
    GOODBYE = "goodbye"
    THANK = "thank"
    AFFIRM = "affirm"
    DENY = "deny"
    BOT_CHALLENGE = "bot_challenge"
    OUT_OF_SCOPE = "out_of_scope"
    EMERGENCY = "emergency"
    BOOK_APPOINTMENT = "book_appointment"
    CONTACT_HUMAN = "contact_human"
    TELL_ME_MORE = "tell_me_more"
    RATE_HELPFUL = "rate_helpful"
    RATE_NOT_HELPFUL = "rate_not_helpful"
    ERASE_CONVERSATION = "erase_conversation"
    ERASE_CONFIRMED = "erase_confirmed"
    # Set by Rasa's FallbackClassifier; not in the domain.
    NLU_FALLBACK = "nlu_fallback"


class ActionName:
    """Actions the code names (Rasa's own session start included)."""

    LISTEN = "action_listen"
    SESSION_START = "action_session_start"
    ANSWER_TOPIC = "action_answer_topic"
    TELL_ME_MORE = "action_tell_me_more"
    CLARIFY = "action_clarify"
    CANNOT_ANSWER = "action_cannot_answer"
    OUT_OF_SCOPE = "action_out_of_scope"
    EMERGENCY = "action_emergency"
    CONTACT_HUMAN = "action_contact_human"
    RATE_ANSWER = "action_rate_answer"
    CONFIRM_ERASURE = "action_confirm_erasure"
    ERASE_CONVERSATION = "action_erase_conversation"


class EntityName:
    """Entities the code reads by name."""

    RATED_TOPIC = "rated_topic"


class SlotName:
    """Slots of the domain."""

    TOPIC = "topic"
    LANGUAGE = "language"


# Small talk: a poor preview of what a conversation was about.
SMALL_TALK: FrozenSet[str] = frozenset(
    {
        IntentName.GREET,
        IntentName.GOODBYE,
        IntentName.THANK,
        IntentName.AFFIRM,
        IntentName.DENY,
        IntentName.BOT_CHALLENGE,
    }
)
# What staff filter conversations by; each is a column of the console's conversation table.
FLAGS: Tuple[str, ...] = ("fallback", "low_confidence", "out_of_scope", "emergency", "booking", "human")
# Intents that raise the flag of the same meaning.
FLAG_OF_INTENT: Dict[str, str] = {
    IntentName.OUT_OF_SCOPE: "out_of_scope",
    IntentName.EMERGENCY: "emergency",
    IntentName.BOOK_APPOINTMENT: "booking",
    IntentName.CONTACT_HUMAN: "human",
}
# Actions by which the assistant says it did not understand.
FALLBACK_ACTIONS: FrozenSet[str] = frozenset({ActionName.CLARIFY, ActionName.CANNOT_ANSWER})


def names(kind: type) -> FrozenSet[str]:
    """Returns every name a vocabulary class (``IntentName``, ``ActionName``, ``SlotName``) spells."""
    return frozenset(value for key, value in vars(kind).items() if key.isupper())
