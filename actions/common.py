"""What every action needs: the conversation's language, buttons and contact text."""

from __future__ import annotations

from typing import Any, Collection, Dict, Iterable, List, Optional, Tuple

from rasa_sdk import Tracker

from core.clinic import get_clinic
from core.knowledge import get_knowledge
from core.language import reply_language
from core.vocabulary import SlotName

# The broad entry points offered when the patient has not chosen a topic yet.
STARTER_TOPICS = (
    "muscle_atrophy_overview",
    "atrophy_causes",
    "atrophy_symptoms",
    "atrophy_treatments",
    "prevention",
    "physiotherapy_role",
)

# The clarifying question and the out-of-scope reply offer at most this many of the message's
# likeliest topics (scripts/real_metrics.py scores the same).
MAX_CANDIDATES = 3

Button = Dict[str, Any]


def conversation_language(tracker: Tracker) -> str:
    """Returns the language to answer the latest message in.

    The rule of every channel (:func:`core.language.reply_language`): the text
    decides when it can; a message that shows no language ("/greet", a button's payload,
    "ok") keeps the conversation's, or, before the conversation has one, takes the page's:
    the web chat sends its page language as the message's metadata (``{"language": "ms"}``).

    Args:
        tracker: The conversation, its latest message the one to answer.

    Returns:
        ``en`` or ``ms``.

    """
    text = tracker.latest_message.get("text") or ""
    # The conversation's language wins over the page's: it comes from what the patient
    # typed (or from the page at the greeting), so on the Malay page a button under an
    # English answer, or "ok" after one, still gets English.
    return reply_language(text, tracker.get_slot(SlotName.LANGUAGE), tracker.latest_message.get("metadata"))


def topic_buttons(topic_ids: Iterable[str], language: str) -> List[Button]:
    """Returns one quick-reply button per topic, its payload the topic's intent."""
    knowledge = get_knowledge()
    buttons = []
    for topic_id in topic_ids:
        topic = knowledge.topic(topic_id)
        if topic is not None:
            buttons.append({"title": topic.title(language), "payload": f"/{topic.id}"})
    return buttons


def ranking_pairs(intent_ranking: Optional[Iterable[Dict[str, Any]]]) -> List[Tuple[str, float]]:
    """Returns a parse's ``intent_ranking`` as (intent, confidence) pairs, in its order."""
    items = intent_ranking or []
    return [(str(item.get("name") or ""), float(item.get("confidence") or 0.0)) for item in items]


def likeliest(
    ranking: Iterable[Tuple[str, float]], topics: Collection[str], limit: int = MAX_CANDIDATES
) -> List[str]:
    """Returns the topics of an intent ranking, most confident first: what the buttons offer.

    ``scripts/real_metrics.py`` scores the buttons with the same function.
    """
    ranked = sorted(ranking, key=lambda pair: pair[1], reverse=True)
    return [name for name, _ in ranked if name in topics][:limit]


def likely_topics(tracker: Tracker, limit: int = MAX_CANDIDATES) -> List[str]:
    """Returns the most likely topic ids of the latest message, best first."""
    ranking = ranking_pairs(tracker.latest_message.get("intent_ranking"))
    return likeliest(ranking, get_knowledge().topics, limit)


def clinic_name() -> str:
    """Returns the clinic's configured name."""
    return get_clinic().name
