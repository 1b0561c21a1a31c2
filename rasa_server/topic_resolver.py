"""What is asked, combined with what is named: the topic that answers a patient's question.

The classifier tells what kind of question a message asks (why, what is it, will it come
back, how long ...). Patients name the cause in their own words ("can sciatica do this?",
"after the chemo"), and the article files each cause under a category. ``TopicResolver``
runs after the classifiers: when the question asks about causes or types and the message
names a term of ``knowledge/conditions.yml``, the intent becomes that term's category, so
"can a slipped disc shrink my calf?" is answered with neurogenic atrophy while "will my leg
come back after the cast?" stays a question about reversibility. It also keeps a message
that talks about muscle loss from being ruled out of scope at full confidence: it is sent
to the clarifying question instead, which offers the likely topics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from core.settings import PROJECT_ROOT
from core.vocabulary import IntentName

DEFAULT_VOCABULARY = PROJECT_ROOT / "knowledge" / "conditions.yml"
# Questions about why muscles waste or what kind of wasting it is: a named cause decides
# which category answers. Every other question (reversible, how long, treatments ...) is
# answered as asked, whatever it names.
CAUSE_QUESTIONS = frozenset(
    {
        "muscle_atrophy_overview",
        "atrophy_types",
        "atrophy_causes",
        "disuse_atrophy",
        "neurogenic_atrophy",
        "pathologic_atrophy",
        "inflammatory_conditions",
        "nutritional_deficiency",
        "endocrine_disorders",
        "chronic_diseases",
    }
)


def _term_pattern(terms: Iterable[str]) -> str:
    """One alternation of whole-word terms; a trailing ``*`` allows a longer word."""
    parts = []
    for term in sorted(set(terms), key=len, reverse=True):
        prefix = term.endswith("*")
        body = r"[\s-]+".join(re.escape(word) for word in term.rstrip("*").split())
        parts.append(body + (r"\w*" if prefix else ""))
    return r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)"


@dataclass(frozen=True)
class Vocabulary:
    """The conditions vocabulary, compiled once: each term's topic, and the muscle-loss words."""

    topic_by_term: Dict[str, str]
    topic_by_prefix: Tuple[Tuple[str, str], ...]
    terms_pattern: re.Pattern[str]
    muscle_loss_pattern: re.Pattern[str]

    def named_topics(self, text: str) -> List[str]:
        """Returns the topics of the terms ``text`` names, in order of first mention."""
        topics: List[str] = []
        for match in self.terms_pattern.finditer(_fold(text)):
            topic = self.topic_for(match.group(0))
            if topic and topic not in topics:
                topics.append(topic)
        return topics

    def topic_for(self, words: str) -> Optional[str]:
        """Returns the topic of the term ``words`` matched (exact, or by its prefix)."""
        key = _key(words)
        if key in self.topic_by_term:
            return self.topic_by_term[key]
        return next((topic for prefix, topic in self.topic_by_prefix if key.startswith(prefix)), None)

    def mentions_muscle_loss(self, text: str) -> bool:
        """Whether ``text`` talks about losing muscle or strength, in any of its words."""
        return bool(self.muscle_loss_pattern.search(_fold(text)))


def _fold(text: str) -> str:
    return text.lower().replace("\u2019", "'")


def _key(term: str) -> str:
    return " ".join(str(term).lower().replace("-", " ").split())


@lru_cache(maxsize=4)
def load_vocabulary(path: Path = DEFAULT_VOCABULARY) -> Vocabulary:
    """Reads and compiles ``conditions.yml``: type names win over category terms listing the same."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    topic_by_term: Dict[str, str] = {}
    for topic, languages in data["categories"].items():
        for terms in languages.values():
            topic_by_term.update({_key(term): topic for term in terms})
    for topic, terms in data["types"].items():
        topic_by_term.update({_key(term): topic for term in terms})
    about_muscle_loss = [term for terms in data["atrophy"].values() for term in terms]
    about_muscle_loss += [term for terms in data["muscle_talk"].values() for term in terms]
    about_muscle_loss += [term for terms in data["types"].values() for term in terms]
    return Vocabulary(
        topic_by_term=topic_by_term,
        topic_by_prefix=tuple(
            (term[:-1], topic) for term, topic in topic_by_term.items() if term.endswith("*")
        ),
        terms_pattern=re.compile(_term_pattern(topic_by_term)),
        muscle_loss_pattern=re.compile(_term_pattern(_key(term) for term in about_muscle_loss)),
    )


def resolve(
    text: str,
    ranking: List[Dict[str, Any]],
    vocabulary: Vocabulary,
    urgent_runner_up: Optional[float] = None,
) -> Optional[List[Dict[str, Any]]]:
    """Returns the ranking with the answering topic first, or None to keep it as it is.

    A cause or type question that names terms of the vocabulary is answered by the named
    topic the classifier ranks highest (the first named, if it ranks none of them). An
    out-of-scope verdict on a message about muscle loss or weakness keeps its confidence away from the
    top, so the fallback asks which topic was meant; but where ``emergency`` holds at least
    ``urgent_runner_up`` (when given), the story gets the way to urgent care instead.
    """
    if not ranking:
        return None
    top = ranking[0]
    if top.get("name") in CAUSE_QUESTIONS:
        named = vocabulary.named_topics(text)
        if not named:
            return None
        position = {str(item["name"]): index for index, item in enumerate(ranking)}
        chosen = min(named, key=lambda topic: (position.get(topic, len(ranking)), named.index(topic)))
        if chosen == top["name"]:
            return None
        rest = [item for item in ranking if item["name"] != chosen]
        return [{"name": chosen, "confidence": top["confidence"]}, *rest]
    if top.get("name") == IntentName.OUT_OF_SCOPE and vocabulary.mentions_muscle_loss(text):
        # Confidence 0 falls below any threshold, and the order is kept: the clarifying
        # question offers the best of the other intents. Emergency goes last but one: the
        # fallback never takes a best guess of emergency, and this one is no guess at all
        # (the red flags, which run after, still catch a story that is urgent).
        demoted = (IntentName.OUT_OF_SCOPE, IntentName.EMERGENCY)
        others = [item for item in ranking if item["name"] not in demoted]
        emergency = [item for item in ranking if item["name"] == IntentName.EMERGENCY]
        urgent = float(emergency[0].get("confidence") or 0.0) if emergency else 0.0
        if urgent_runner_up is not None and urgent >= urgent_runner_up:
            # A likely emergency is never buried under the clarifying question (docs/nlu.md,
            # session 17); the out-of-scope verdict goes last, so nothing looks ambiguous.
            return [*emergency, *({**item, "confidence": 0.0} for item in [*others, top])]
        return [{"name": item["name"], "confidence": 0.0} for item in [*others, *emergency, top]]
    return None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class TopicResolver(GraphComponent):
    """Turns a cause or type question into the category of the condition it names."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """The vocabulary file (relative to the project root); no bar for an emergency runner-up."""
        return {"vocabulary": "knowledge/conditions.yml", "urgent_runner_up": None}

    def __init__(self, vocabulary: Vocabulary, urgent_runner_up: Optional[float] = None) -> None:
        """Keeps the vocabulary, read once at model load, and the emergency runner-up's bar."""
        self.vocabulary = vocabulary
        self.urgent_runner_up = urgent_runner_up

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TopicResolver:
        """Creates the component from its config."""
        return cls(load_vocabulary(PROJECT_ROOT / config["vocabulary"]), config.get("urgent_runner_up"))

    def process(self, messages: List[Message]) -> List[Message]:
        """Rewrites the intent of each message whose question and named terms call for it."""
        for message in messages:
            ranking = resolve(
                str(message.get(TEXT) or ""),
                list(message.get(INTENT_RANKING_KEY) or []),
                self.vocabulary,
                self.urgent_runner_up,
            )
            if ranking is None:
                continue
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
