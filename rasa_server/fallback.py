"""The clarifying question's trigger, which never takes an emergency.

Rasa's ``FallbackClassifier`` replaces an unsure or ambiguous best intent with
``nlu_fallback``, and the rules answer that with the clarifying question. For an emergency
that is the wrong question to ask: ``EmergencyAwareFallbackClassifier`` leaves a best guess
of ``emergency`` in place however unsure it is, so it gets the way to urgent care (999).
``scripts.nlu_metrics.decide`` scores the same rule (docs/nlu.md measures what it costs).
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.nlu.constants import INTENT
from rasa.shared.nlu.training_data.message import Message

from core.vocabulary import IntentName


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class EmergencyAwareFallbackClassifier(FallbackClassifier):
    """Rasa's fallback on low confidence or ambiguity, except for a best guess of ``emergency``."""

    def _should_fallback(self, message: Message) -> bool:
        if (message.get(INTENT) or {}).get("name") == IntentName.EMERGENCY:
            return False
        return super()._should_fallback(message)
