"""A regression floor for the trained model on the blind set and the real development split.

The targets (0.95 / 0.95 / 0.90 / 0.85) are benchmarks reported by `make eval`; this
test only catches a model that got clearly worse, so it asserts floors well below them.
"""

from __future__ import annotations

from typing import Any, Dict

import pytest

from core.knowledge import KnowledgeBase, get_knowledge
from core.settings import PROJECT_ROOT, get_settings
from scripts.evaluate import REAL_SETS, fallback_thresholds, run_model, run_real
from scripts.nlu_metrics import score
from scripts.real_metrics import score_real

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def metrics(knowledge: KnowledgeBase) -> Dict[str, Any]:
    outcomes, _ = run_model(get_settings().rasa.model_path)
    threshold, ambiguity_threshold = fallback_thresholds(PROJECT_ROOT / "config.yml")
    return score(outcomes, threshold, ambiguity_threshold, knowledge.topics)


def test_in_scope_accuracy_floor(metrics: Dict[str, Any]) -> None:
    assert metrics["in_scope_accuracy"] >= 0.80


def test_macro_f1_floor(metrics: Dict[str, Any]) -> None:
    assert metrics["macro_f1"] >= 0.80


def test_out_of_scope_recall_floor(metrics: Dict[str, Any]) -> None:
    assert metrics["out_of_scope_recall"] >= 0.75


def test_malay_in_scope_accuracy_floor(metrics: Dict[str, Any]) -> None:
    assert metrics["malay_in_scope_accuracy"] >= 0.70


@pytest.fixture(scope="module")
def real_dev() -> Dict[str, Any]:
    outcomes, _ = run_real(get_settings().rasa.model_path, REAL_SETS["real-dev"])
    threshold, ambiguity_threshold = fallback_thresholds(PROJECT_ROOT / "config.yml")
    return score_real(outcomes, threshold, ambiguity_threshold, get_knowledge().topics)


def test_real_questions_floor(real_dev: Dict[str, Any]) -> None:
    # Measured 0.570 / 0.805 / 0.744 / 0.88 at 0.45 / 0.05 (session 11, docs/nlu.md); the targets
    # are benchmarks. Out of scope moves by several items with unrelated training changes (0.796
    # -> 0.694 in session 6), so the floors sit well below one run's level.
    assert real_dev["in_scope_top1"] >= 0.50
    assert real_dev["in_scope_answered_or_offered"] >= 0.65
    assert real_dev["out_of_scope_handled"] >= 0.65
    assert real_dev["red_flag_sensitivity"] >= 0.65
