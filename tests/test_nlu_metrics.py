"""The evaluation arithmetic of `make eval`, on small hand-made outcomes."""

from __future__ import annotations

import pytest

from scripts.nlu_metrics import FALLBACK, Outcome, best_point, curve, decide, score


def test_decide_replays_the_fallback_classifier() -> None:
    ranking = [("prevention", 0.6), ("reversibility", 0.3)]
    assert decide(ranking, threshold=0.5, ambiguity_threshold=0.1) == "prevention"
    assert decide(ranking, threshold=0.7, ambiguity_threshold=0.1) == FALLBACK
    assert decide(ranking, threshold=0.5, ambiguity_threshold=0.35) == FALLBACK
    assert decide([], threshold=0.0, ambiguity_threshold=0.0) == FALLBACK


OUTCOMES = [
    Outcome("how to avoid wasting", "prevention", "en", [("prevention", 0.9), ("reversibility", 0.05)]),
    Outcome("can it come back", "reversibility", "en", [("prevention", 0.5), ("reversibility", 0.45)]),
    Outcome("boleh pulih ke", "reversibility", "ms", [("reversibility", 0.8), ("prevention", 0.1)]),
    Outcome("price per session", "out_of_scope", "en", [("prevention", 0.4), ("reversibility", 0.3)]),
    Outcome("who won the match", "out_of_scope", "en", [("out_of_scope", 0.9), ("prevention", 0.05)]),
]


def test_score_counts_fallback_as_right_only_for_out_of_scope() -> None:
    metrics = score(OUTCOMES, threshold=0.45, ambiguity_threshold=0.1, topics=["prevention", "reversibility"])
    # "can it come back" is ambiguous (0.05 apart) and falls back: wrong for an in-scope question.
    assert metrics["in_scope_accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    # "price per session" falls back (0.4 < 0.45): right for an out-of-scope one.
    assert metrics["out_of_scope_recall"] == 1.0
    assert metrics["malay_in_scope_accuracy"] == 1.0
    assert metrics["per_intent"]["prevention"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    assert metrics["confusions"] == [
        {"gold": "reversibility", "predicted": FALLBACK, "count": 1, "texts": ["can it come back"]}
    ]


def test_curve_and_best_point_prefer_out_of_scope_recall_then_accuracy() -> None:
    points = curve(OUTCOMES, topics=["prevention", "reversibility"])
    without_fallback = next(p for p in points if p["threshold"] == 0.0 and p["ambiguity_threshold"] == 0.0)
    assert without_fallback["out_of_scope_recall"] == 0.5
    best = best_point(points, min_oos_recall=0.9)
    assert best["out_of_scope_recall"] == 1.0
    assert best["in_scope_accuracy"] == pytest.approx(2 / 3, abs=1e-4)
