"""The fine-tuned MiniLM encoder: the real forward pass, fine-tuning, persisting, sharing out topics."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest

from rasa_server.tuned_encoder import (
    BATCH_SIZE,
    TunedEncoder,
    learning_rate_scale,
    length_batches,
    read_tuned,
    share_topics,
    sharpen,
    write_tuned,
)

REFERENCE = Path(__file__).with_name("minilm_reference.json")

EXAMPLES: Dict[str, List[str]] = {
    "reversibility": [
        "will my muscle come back",
        "can the wasting be reversed",
        "is the muscle loss permanent or does it return",
        "my leg got thin in the cast, will it go back to normal",
    ],
    "recovery_time": [
        "how long until my leg is strong again",
        "how many weeks to rebuild the muscle",
        "how much time does recovery take",
        "when will my calf be back to its old size",
    ],
    "out_of_scope": [
        "what is the weather in Penang",
        "recommend me a laptop",
        "who won the football match",
        "book me a flight to Tokyo",
    ],
    "emergency": [
        "my face drooped and I cannot speak",
        "sudden weakness on one side of my body",
        "I lost control of my bladder and my back hurts badly",
        "chest pain and I can't breathe",
    ],
}
CLASSES = sorted(EXAMPLES)


@pytest.fixture(scope="module")
def tuned() -> TunedEncoder:
    encoder = TunedEncoder(CLASSES, tuned_layers=1)
    texts = [text for label in CLASSES for text in EXAMPLES[label]]
    labels = [label for label in CLASSES for _ in EXAMPLES[label]]
    encoder.fine_tune(texts, labels, epochs=30, learning_rate=1e-3)
    return encoder


def test_the_pretrained_layers_give_sentence_transformers_vectors() -> None:
    reference = json.loads(REFERENCE.read_text())
    vectors = TunedEncoder(CLASSES, tuned_layers=3).sentence_vectors(reference["texts"])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    assert np.abs(vectors - np.array(reference["vectors"])).max() < 1e-4


def test_fine_tuning_learns_the_examples_it_was_given(tuned: TunedEncoder) -> None:
    for label in CLASSES:
        probabilities = tuned.probabilities(EXAMPLES[label])
        assert [CLASSES[row] for row in probabilities.argmax(axis=1)] == [label] * len(EXAMPLES[label])
    assert tuned.probabilities(["anything at all"]).sum() == pytest.approx(1.0, abs=1e-5)
    assert tuned.probabilities([]).shape == (0, len(CLASSES))


def test_only_the_tuned_layers_and_the_head_are_persisted_and_they_load_back(
    tmp_path: Path, tuned: TunedEncoder
) -> None:
    path = tmp_path / "tuned.npz"
    write_tuned(path, tuned)
    classes, tuned_layers, weights = read_tuned(path)
    assert (classes, tuned_layers) == (CLASSES, 1)
    assert {name.split(".")[2] for name in weights if name.startswith("encoder.")} == {"5"}
    assert {"head.kernel", "head.bias"} <= set(weights)
    loaded = TunedEncoder(classes, tuned_layers, weights)
    texts = ["will my arm come back after the sling", "how long will it take"]
    assert loaded.probabilities(texts) == pytest.approx(tuned.probabilities(texts), abs=1e-6)


def test_a_story_longer_than_the_encoder_reads_is_cut_not_refused(tuned: TunedEncoder) -> None:
    story = "my leg was in a cast for two months and now it is thin. " * 40
    assert len(tuned.token_ids([story])[0]) == 128
    assert tuned.probabilities([story, ""]).shape == (2, len(CLASSES))


def test_a_long_story_keeps_its_question_at_the_end(tuned: TunedEncoder) -> None:
    question = "will my calf come back"
    story = "my leg was in a cast and now it is thin. " * 40 + question
    question_ids, story_ids = tuned.token_ids([question, story])
    assert len(story_ids) == 128
    # [CLS] first, then the story's last tokens: the question and [SEP].
    assert story_ids[0] == question_ids[0]
    assert story_ids[-len(question_ids) + 1 :] == question_ids[1:]


def test_tuning_more_layers_than_the_encoder_has_is_refused() -> None:
    with pytest.raises(ValueError, match="tuned_layers"):
        TunedEncoder(CLASSES, tuned_layers=7)
    with pytest.raises(ValueError, match="tuned_layers"):
        TunedEncoder(CLASSES, tuned_layers=0)


def test_share_topics_keeps_the_urgent_share_and_the_larger_out_of_scope() -> None:
    # Columns: emergency, out_of_scope, reversibility, recovery_time.
    second = np.array([[0.1, 0.2, 0.35, 0.35], [0.0, 0.6, 0.2, 0.2], [0.7, 0.1, 0.1, 0.1]])
    tuned = np.array([[0.0, 0.1, 0.9, 0.0], [0.0, 0.05, 0.05, 0.9], [0.0, 0.9, 0.05, 0.05]])
    shared = share_topics(second, tuned, out_of_scope=1, emergency=0)
    assert shared.sum(axis=1) == pytest.approx([1.0, 1.0, 1.0])
    assert shared[:, 0] == pytest.approx(second[:, 0])
    assert shared[0].tolist() == pytest.approx([0.1, 0.2, 0.7, 0.0])
    assert shared[1, 1] == pytest.approx(0.6) and shared[1, 3] > shared[1, 2]
    # Where e5's step puts the emergency first, its shares stay as they were.
    assert shared[2].tolist() == pytest.approx(second[2].tolist())


def test_sharpening_squares_and_renormalises_each_row_and_keeps_its_order() -> None:
    shares = np.array([[0.6, 0.4, 0.0], [0.2, 0.3, 0.5]], dtype=np.float32)
    sharp = sharpen(shares, 2.0)
    assert sharp.dtype == shares.dtype
    assert sharp.sum(axis=1) == pytest.approx([1.0, 1.0])
    assert sharp[0].tolist() == pytest.approx([0.36 / 0.52, 0.16 / 0.52, 0.0])
    assert sharp[1].argsort().tolist() == shares[1].argsort().tolist()
    assert sharp[1, 2] > shares[1, 2] and sharp[1, 0] < shares[1, 0]
    assert sharpen(shares, 1.0) is shares


@pytest.mark.parametrize("power", [0.0, -1.0])
def test_a_sharpening_power_not_above_zero_is_refused(power: float) -> None:
    with pytest.raises(ValueError, match="above 0"):
        sharpen(np.array([[0.5, 0.5]]), power)


def test_out_of_scope_never_takes_what_the_emergency_holds() -> None:
    second = np.array([[0.45, 0.05, 0.5, 0.0]])
    tuned = np.array([[0.0, 0.9, 0.05, 0.05]])
    assert share_topics(second, tuned, out_of_scope=1, emergency=0)[0].tolist() == pytest.approx(
        [0.45, 0.55, 0.0, 0.0]
    )


def test_the_learning_rate_warms_up_then_decays_to_zero() -> None:
    scales = [learning_rate_scale(step, 100) for step in range(100)]
    assert scales[0] == pytest.approx(0.1)
    assert scales.index(max(scales)) == 9  # the end of the warm-up, the first tenth
    assert scales[9:] == sorted(scales[9:], reverse=True) and scales[-1] == pytest.approx(0.01)


def test_length_batches_cover_every_example_once_with_similar_lengths() -> None:
    draw = random.Random(1)
    lengths = [draw.randint(3, 120) for _ in range(1000)]
    batches = length_batches(lengths, random.Random(0))
    assert sorted(index for batch in batches for index in batch) == list(range(1000))
    assert max(len(batch) for batch in batches) == BATCH_SIZE
    spreads = [max(lengths[i] for i in batch) - min(lengths[i] for i in batch) for batch in batches]
    assert np.mean(spreads) < 10  # against about 110 for batches drawn at random
