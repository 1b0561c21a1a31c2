"""The e5 sentence-vector classifier: trained and loaded through Rasa's storage, and the cascade."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_server.sentence_classifier import (
    SentenceVectorClassifier,
    combine,
    last_words,
    needs_second_opinion,
)

TRAINING = {
    "reversibility": ["will my muscle come back", "can atrophy be reversed", "boleh pulih ke otot saya"],
    "recovery_time": [
        "how long until my leg is strong again",
        "how many weeks to rebuild muscle",
        "berapa lama nak pulih",
    ],
    "greet": ["hello", "hi there", "selamat pagi"],
}


def message(text: str, intent: str = "", confidence: float = 0.0) -> Message:
    data: Dict[str, Any] = {TEXT: text}
    if intent:
        data[INTENT] = {"name": intent, "confidence": confidence}
        data[INTENT_RANKING_KEY] = [{"name": intent, "confidence": confidence}]
    return Message(data=data)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> SentenceVectorClassifier:
    storage = LocalModelStorage(tmp_path_factory.mktemp("storage"))
    resource = Resource("sentence_classifier")
    context = ExecutionContext(GraphSchema({}), "test")
    config = {**SentenceVectorClassifier.get_default_config(), "mode": "replace"}
    component = SentenceVectorClassifier.create(config, storage, resource, context)
    examples = [
        Message(data={TEXT: text, INTENT: intent}) for intent, texts in TRAINING.items() for text in texts
    ]
    component.train(TrainingData(training_examples=examples))
    return SentenceVectorClassifier.load(config, storage, resource, context)


def test_a_loaded_classifier_ranks_paraphrases_it_never_saw(trained: SentenceVectorClassifier) -> None:
    messages: List[Message] = [message("is it possible to get my muscles back"), message("good morning!")]
    trained.process(messages)
    assert [m.get(INTENT)["name"] for m in messages] == ["reversibility", "greet"]
    ranking = messages[0].get(INTENT_RANKING_KEY)
    assert sum(item["confidence"] for item in ranking) == pytest.approx(1.0, abs=1e-3)


def test_a_long_story_is_read_by_its_last_words(trained: SentenceVectorClassifier) -> None:
    story = "hello there, my mum had a fall and spent weeks in hospital. " * 10 + "will my muscle come back"
    trained.config["reads_last_words"] = 5
    try:
        assert trained.probabilities([story]) == trained.probabilities(["will my muscle come back"])
    finally:
        trained.config["reads_last_words"] = 0
    assert trained.probabilities([story]) != trained.probabilities(["will my muscle come back"])


def test_last_words_keeps_a_short_text_whole() -> None:
    assert last_words("one two three", 2) == "two three"
    assert last_words("one two three", 5) == "one two three"
    assert last_words("one  two three", 0) == "one  two three"


def test_the_cascade_asks_only_when_diet_is_unsure_out_of_scope_or_the_message_is_long() -> None:
    assert not needs_second_opinion(message("will it come back", "reversibility", 0.97), 0.9, 20)
    assert needs_second_opinion(message("will it come back", "reversibility", 0.6), 0.9, 20)
    assert needs_second_opinion(message("will it come back", "out_of_scope", 0.99), 0.9, 20)
    assert needs_second_opinion(message(" ".join(["word"] * 20), "reversibility", 0.99), 0.9, 20)


def test_combine_averages_the_two_rankings_best_first() -> None:
    first = [{"name": "out_of_scope", "confidence": 0.9}, {"name": "reversibility", "confidence": 0.1}]
    ranking = combine(first, {"reversibility": 0.95, "out_of_scope": 0.05}, weight=0.5)
    assert ranking[0]["name"] == "reversibility"
    assert ranking[0]["confidence"] == pytest.approx(0.525)


def test_an_unknown_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mode"):
        SentenceVectorClassifier({"mode": "sometimes"}, LocalModelStorage(tmp_path), Resource("x"))
