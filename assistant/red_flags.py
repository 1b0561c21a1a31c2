"""A safety net in the NLU pipeline: red-flag phrases always get the emergency reply.

The classifier is right about emergencies most of the time, but "most" is not enough for
"I feel like ending my life" or "the bleeding won't stop". ``RedFlagClassifier`` runs
after the FallbackClassifier and, when the message contains a phrase of red_flags.yml,
sets the intent to ``emergency`` with confidence 1.0, so the rules answer with the way to
urgent care (999) instead of a quote or "I can't answer that".
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from assistant.settings import PROJECT_ROOT

EMERGENCY = "emergency"
DEFAULT_PHRASES_FILE = PROJECT_ROOT / "red_flags.yml"


@lru_cache(maxsize=4)
def red_flag_pattern(path: Path = DEFAULT_PHRASES_FILE) -> re.Pattern[str]:
    """Compiles every phrase of ``path`` (lists per language) into one whole-word pattern."""
    phrases = [
        phrase for group in yaml.safe_load(path.read_text(encoding="utf-8")).values() for phrase in group
    ]
    return re.compile(r"\b(?:" + "|".join(f"(?:{phrase})" for phrase in phrases) + r")\b", re.IGNORECASE)


def red_flag(text: str, path: Path = DEFAULT_PHRASES_FILE) -> Optional[str]:
    """Returns the red-flag phrase ``text`` contains, if any.

    Curly apostrophes (U+2019, as phones type them) are folded to straight ones first.
    """
    match = red_flag_pattern(path).search(text.replace("\u2019", "'"))
    return match.group(0) if match else None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class RedFlagClassifier(GraphComponent):
    """Overrides the predicted intent with ``emergency`` when a red-flag phrase occurs."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """The phrases file, relative to the project root."""
        return {"phrases": "red_flags.yml"}

    def __init__(self, phrases_file: Path) -> None:
        """Compiles the phrases once, so a broken file fails at model load, not mid-chat."""
        self.phrases_file = phrases_file
        red_flag_pattern(phrases_file)

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
            if not text or not red_flag(text, self.phrases_file):
                continue
            certain = {"name": EMERGENCY, "confidence": 1.0}
            # The classifier's other intents stay listed (for the logs) at confidence 0: the
            # red flag overrides them, and a second intent at 0.9 would look like ambiguity.
            others = [
                {"name": item.get("name"), "confidence": 0.0}
                for item in message.get(INTENT_RANKING_KEY) or []
                if item.get("name") != EMERGENCY
            ]
            message.set(INTENT, certain, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [certain, *others], add_to_output=True)
        return messages
