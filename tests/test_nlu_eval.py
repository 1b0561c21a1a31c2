"""A regression floor for the trained model on the held-out evaluation set.

The targets (0.95 / 0.95 / 0.90 / 0.85) are benchmarks reported by `make eval`; this
test only catches a model that got clearly worse, so it asserts floors well below them.
"""

from __future__ import annotations

from typing import Any, Dict

import pytest

from assistant.knowledge import KnowledgeBase
from assistant.settings import PROJECT_ROOT, get_settings
from scripts.evaluate import fallback_thresholds, run_model
from scripts.nlu_metrics import score


@pytest.fixture(scope="module")
def metrics(knowledge: KnowledgeBase) -> Dict[str, Any]:
    outcomes, _ = run_model(get_settings().model_path)
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
