"""The NLU training data and the sets never trained on (eval, dev): coverage, and no leaks."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from core.knowledge import KnowledgeBase
from core.language import detect_language
from scripts.real_corpus import normalise
from tooling.nlu_files import EVALUATION_SETS, TRAINING_DIR, nlu_examples, training_files

FAQ_TOPICS = ("prevention", "reversibility", "recovery_time", "permanent_disability", "physiotherapy_role")
CONVERSATION_INTENTS = (
    "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge",
    "book_appointment", "contact_human", "emergency", "tell_me_more",
)  # fmt: skip
MALAY_REQUIRED = (*FAQ_TOPICS, "greet", "thank", "book_appointment", "emergency", "atrophy_symptoms")


def examples(*paths: Path) -> List[Tuple[str, str]]:
    return [pair for path in paths for pair in nlu_examples(path)]


@pytest.fixture(scope="module")
def training() -> List[Tuple[str, str]]:
    return examples(*training_files())


@pytest.fixture(scope="module", params=sorted(EVALUATION_SETS))
def evaluation(request: pytest.FixtureRequest) -> Dict[str, List[Tuple[str, str]]]:
    return {language: examples(path) for language, path in EVALUATION_SETS[request.param].items()}


def test_no_evaluation_text_is_in_the_training_data(
    training: List[Tuple[str, str]], evaluation: Dict[str, List[Tuple[str, str]]]
) -> None:
    trained = {normalise(text) for text, _ in training}
    leaked = [text for pairs in evaluation.values() for text, _ in pairs if normalise(text) in trained]
    assert leaked == []


def test_training_data_covers_every_intent_as_the_issue_asks(
    training: List[Tuple[str, str]], knowledge: KnowledgeBase
) -> None:
    counts = Counter(intent for _, intent in training)
    minimum = {topic: 40 if topic in FAQ_TOPICS else 25 for topic in knowledge.topics}
    minimum.update({intent: 20 for intent in CONVERSATION_INTENTS})
    minimum["out_of_scope"] = 150
    short = {intent: counts[intent] for intent, needed in minimum.items() if counts[intent] < needed}
    assert short == {}


def test_malay_training_examples_for_the_faq_and_key_intents() -> None:
    counts = Counter(intent for _, intent in nlu_examples(TRAINING_DIR / "malay.yml"))
    assert {intent: counts[intent] for intent in MALAY_REQUIRED if counts[intent] < 15} == {}


def test_evaluation_set_has_eight_per_intent_and_sixty_out_of_scope(
    evaluation: Dict[str, List[Tuple[str, str]]], knowledge: KnowledgeBase
) -> None:
    counts = Counter(intent for pairs in evaluation.values() for _, intent in pairs)
    short = {
        intent: counts[intent] for intent in [*knowledge.topics, *CONVERSATION_INTENTS] if counts[intent] < 8
    }
    assert short == {}
    assert counts["out_of_scope"] >= 60


def test_malay_evaluation_questions_are_detected_as_malay(
    evaluation: Dict[str, List[Tuple[str, str]]],
) -> None:
    # The Malay file also holds English-led Manglish ("thank you lah"), rightly answered in English.
    malay = [text for text, _ in evaluation["ms"]]
    detected = [text for text in malay if detect_language(text) == "ms"]
    assert len(detected) / len(malay) >= 0.9


def test_english_evaluation_questions_are_detected_as_english(
    evaluation: Dict[str, List[Tuple[str, str]]],
) -> None:
    english = [text for text, _ in evaluation["en"]]
    wrong = [text for text in english if detect_language(text) != "en"]
    # "salam" and "helo" are Malay greetings filed with the English ones.
    assert len(wrong) <= 3, wrong
