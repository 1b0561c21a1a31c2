"""The red-flag safety net: which phrases fire, that they cost no other answer, and that they win."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List, Tuple

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from assistant.red_flags import DEFAULT_PHRASES_FILE, RedFlagClassifier, red_flag
from assistant.settings import PROJECT_ROOT
from scripts.evaluate import EVALUATION_SETS, load_examples
from tests.conftest import RunningBot


@pytest.mark.parametrize(
    "text",
    [
        "i feel like ending my life",
        "I want to kill myself",
        "so much blood from the cut and it won't stop",
        "I can\u2019t breathe",  # a phone's curly apostrophe
        "my dad collapsed in the kitchen",
        "she is having a seizure",
        "saya rasa nak bunuh diri",
        "mak pengsan tak sedarkan diri",
        "suami saya tiba-tiba sesak nafas",
    ],
)
def test_red_flags_fire_in_english_and_malay(text: str) -> None:
    assert red_flag(text)


@pytest.mark.parametrize(
    "text",
    [
        "is muscle atrophy reversible",
        "my legs are weak after bed rest",
        "otot saya mengecil",
        "I'm dying to know more",
    ],
)
def test_ordinary_questions_raise_no_red_flag(text: str) -> None:
    assert red_flag(text) is None


def _examples(paths: List[Path]) -> List[Tuple[str, str]]:
    return [pair for path in paths for pair in load_examples(path)]


def test_no_red_flag_fires_on_any_other_intent_of_the_training_and_held_out_sets() -> None:
    # Every phrase pre-empts the answer to any question containing it; keep that cost at zero here.
    paths = sorted((PROJECT_ROOT / "data" / "nlu").glob("*.yml"))
    paths += [path for files in EVALUATION_SETS.values() for path in files.values()]
    fired = [(text, intent) for text, intent in _examples(paths) if intent != "emergency" and red_flag(text)]
    assert fired == []


def test_the_classifier_puts_emergency_first_and_keeps_the_rest_of_the_ranking() -> None:
    component = RedFlagClassifier(DEFAULT_PHRASES_FILE)
    ranking = [{"name": "nlu_fallback", "confidence": 0.55}, {"name": "out_of_scope", "confidence": 0.4}]
    flagged = Message(
        data={TEXT: "i feel like ending my life", INTENT: ranking[0], INTENT_RANKING_KEY: ranking}
    )
    ordinary = Message(
        data={TEXT: "what is atrophy", INTENT: {"name": "muscle_atrophy_overview", "confidence": 0.9}}
    )

    component.process([flagged, ordinary])

    assert flagged.get(INTENT) == {"name": "emergency", "confidence": 1.0}
    assert [item["name"] for item in flagged.get(INTENT_RANKING_KEY)] == [
        "emergency",
        "nlu_fallback",
        "out_of_scope",
    ]
    assert ordinary.get(INTENT)["name"] == "muscle_atrophy_overview"


def test_a_broken_phrases_file_fails_when_the_model_loads(tmp_path: Path) -> None:
    broken = tmp_path / "red_flags.yml"
    broken.write_text("english:\n  - (unclosed\n")
    with pytest.raises(re.error):
        RedFlagClassifier(broken)


@pytest.mark.parametrize(
    "text", ["i feel like ending my life", "the bleeding won't stop", "ayah saya pengsan"]
)
def test_a_red_flag_gets_the_emergency_reply_over_rest(bot: RunningBot, text: str) -> None:
    replies = bot.send(f"red-flag-{abs(hash(text))}", text)
    assert "999" in replies[0]["text"]
