"""A safety net in the NLU pipeline: red-flag phrases always get the emergency reply.

The classifier is right about emergencies most of the time, but "most" is not enough for
"I feel like ending my life" or "the bleeding won't stop". ``RedFlagClassifier`` runs
after the FallbackClassifier and, when the message contains a phrase of red_flags.yml or
tells one of its warning signs (say, sudden numbness of one side),
sets the intent to ``emergency`` with confidence 1.0, so the rules answer with the way to
urgent care (999) instead of a quote or "I can't answer that".
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

DEFAULT_PHRASES_FILE = PROJECT_ROOT / "red_flags.yml"


@dataclass(frozen=True)
class Sign:
    """A warning sign told in the patient's own words: every group, close together."""

    name: str
    within: int
    groups: Tuple[re.Pattern[str], ...]

    def found_in(self, text: str) -> bool:
        """Whether one alternative of every group occurs within ``within`` characters."""
        spans = [[match.start() for match in group.finditer(text)] for group in self.groups]
        if not all(spans):
            return False
        # For each place the first group matches, look for every other group nearby.
        return any(
            all(any(abs(start - anchor) <= self.within for start in starts) for starts in spans[1:])
            for anchor in spans[0]
        )


@dataclass(frozen=True)
class RedFlags:
    """The phrases and the signs of red_flags.yml, compiled."""

    phrases: re.Pattern[str]
    signs: Tuple[Sign, ...]

    def first_in(self, text: str) -> Optional[str]:
        """Returns the phrase, or the name of the warning sign, that ``text`` contains.

        Curly apostrophes (U+2019, as phones type them) are folded to straight ones first.
        """
        folded = text.replace("\u2019", "'")
        match = self.phrases.search(folded)
        if match:
            return match.group(0)
        return next((sign.name for sign in self.signs if sign.found_in(folded)), None)


def _alternation(alternatives: Iterable[str]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(f"(?:{item})" for item in alternatives) + r")\b", re.IGNORECASE)


@lru_cache(maxsize=4)
def load_red_flags(path: Path = DEFAULT_PHRASES_FILE) -> RedFlags:
    """Compiles the phrases (lists per language) and the signs of ``path``."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    phrases = [phrase for group in data["phrases"].values() for phrase in group]
    signs = tuple(
        Sign(
            name=sign["name"], within=int(sign["within"]), groups=tuple(_alternation(g) for g in sign["all"])
        )
        for sign in data.get("signs") or []
    )
    return RedFlags(phrases=_alternation(phrases), signs=signs)


def red_flag(text: str, path: Path = DEFAULT_PHRASES_FILE) -> Optional[str]:
    """Returns the red-flag phrase, or the name of the warning sign, that ``text`` contains."""
    return load_red_flags(path).first_in(text)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class RedFlagClassifier(GraphComponent):
    """Overrides the predicted intent with ``emergency`` when a red-flag phrase occurs."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """The phrases file, relative to the project root."""
        return {"phrases": "red_flags.yml"}

    def __init__(self, phrases_file: Path) -> None:
        """Compiles the phrases once, so a broken file fails at model load, not mid-chat."""
        self.flags = load_red_flags(phrases_file)

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RedFlagClassifier:
        """Creates the component from its config."""
        return cls(PROJECT_ROOT / config["phrases"])

    def process(self, messages: List[Message]) -> List[Message]:
        """Sets ``emergency`` first, at confidence 1.0, on every message with a red flag."""
        for message in messages:
            text = message.get(TEXT)
            if not text or not self.flags.first_in(text):
                continue
            certain = {"name": IntentName.EMERGENCY, "confidence": 1.0}
            # The classifier's other intents stay listed (for the logs) at confidence 0: the
            # red flag overrides them, and a second intent at 0.9 would look like ambiguity.
            others = [
                {"name": item.get("name"), "confidence": 0.0}
                for item in message.get(INTENT_RANKING_KEY) or []
                if item.get("name") != IntentName.EMERGENCY
            ]
            message.set(INTENT, certain, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [certain, *others], add_to_output=True)
        return messages
