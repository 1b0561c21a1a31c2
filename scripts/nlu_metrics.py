"""Scores intent predictions on the evaluation set: the numbers `make eval` reports.

Pure functions over (gold intent, ranking) pairs, so the fallback thresholds can be
replayed on one set of model outputs instead of retraining for every point of the curve.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Sequence, Tuple

from sklearn.metrics import precision_recall_fscore_support

OUT_OF_SCOPE = "out_of_scope"
FALLBACK = "nlu_fallback"
EMERGENCY = "emergency"
# The curve's grid: confidence thresholds 0.00 .. 0.90 and ambiguity margins 0.00 .. 0.20.
THRESHOLDS = tuple(round(0.05 * step, 2) for step in range(19))
AMBIGUITY_THRESHOLDS = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2)

Ranking = Sequence[Tuple[str, float]]


@dataclass(frozen=True)
class Outcome:
    """One evaluation example and what the classifier made of it (before the fallback)."""

    text: str
    gold: str
    language: str
    ranking: Ranking


def decide(ranking: Ranking, threshold: float, ambiguity_threshold: float) -> str:
    """Returns the intent Rasa's FallbackClassifier would end up with.

    Args:
        ranking: (intent, confidence) pairs of the intent classifier, best first.
        threshold: Below this top confidence the message falls back.
        ambiguity_threshold: When the top two differ by less, the message falls back.

    Returns:
        The top intent, or ``nlu_fallback``; ``emergency`` whenever it is the top intent.

    """
    if ranking and ranking[0][0] == EMERGENCY:
        return EMERGENCY  # never the clarifying question (rasa_server.fallback)
    if not ranking or ranking[0][1] < threshold:
        return FALLBACK
    if len(ranking) >= 2 and ranking[0][1] - ranking[1][1] < ambiguity_threshold:
        return FALLBACK
    return ranking[0][0]


def _is_correct(gold: str, predicted: str) -> bool:
    # For an out-of-scope message, the fallback (clarify, then "can't answer") is right too.
    if gold == OUT_OF_SCOPE:
        return predicted in (OUT_OF_SCOPE, FALLBACK)
    return predicted == gold


def _accuracy(pairs: Iterable[Tuple[str, str]]) -> float:
    results = [_is_correct(gold, predicted) for gold, predicted in pairs]
    return sum(results) / len(results) if results else 0.0


def score(
    outcomes: Sequence[Outcome], threshold: float, ambiguity_threshold: float, topics: Iterable[str]
) -> Dict[str, Any]:
    """Returns every metric of the report for one pair of fallback thresholds.

    Per-intent precision, recall and F1 count ``nlu_fallback`` as ``out_of_scope``; the
    macro-F1 averages over all intents of the evaluation set, ``topic_macro_f1`` over
    the article topics only.
    """
    predicted = [decide(outcome.ranking, threshold, ambiguity_threshold) for outcome in outcomes]
    golds = [outcome.gold for outcome in outcomes]
    folded = [OUT_OF_SCOPE if intent == FALLBACK else intent for intent in predicted]
    labels = sorted(set(golds))
    precision, recall, f1, support = precision_recall_fscore_support(
        golds, folded, labels=labels, zero_division=0
    )
    per_intent = {
        label: {
            "precision": round(float(precision[i]), 4),
            "recall": round(float(recall[i]), 4),
            "f1": round(float(f1[i]), 4),
            "support": int(support[i]),
        }
        for i, label in enumerate(labels)
    }
    topic_set = set(topics)
    topic_f1 = [values["f1"] for label, values in per_intent.items() if label in topic_set]
    pairs = list(zip(golds, predicted, strict=True))
    in_scope = [(gold, pred) for gold, pred in pairs if gold != OUT_OF_SCOPE]
    malay = [
        (outcome.gold, pred)
        for outcome, pred in zip(outcomes, predicted, strict=True)
        if outcome.language == "ms" and outcome.gold != OUT_OF_SCOPE
    ]
    return {
        "threshold": threshold,
        "ambiguity_threshold": ambiguity_threshold,
        "examples": len(outcomes),
        "macro_f1": round(sum(values["f1"] for values in per_intent.values()) / len(per_intent), 4),
        "topic_macro_f1": round(sum(topic_f1) / len(topic_f1), 4) if topic_f1 else 0.0,
        "in_scope_accuracy": round(_accuracy(in_scope), 4),
        "in_scope_fallback_rate": round(sum(pred == FALLBACK for _, pred in in_scope) / len(in_scope), 4),
        "out_of_scope_recall": round(_accuracy((g, p) for g, p in pairs if g == OUT_OF_SCOPE), 4),
        "malay_in_scope_accuracy": round(_accuracy(malay), 4),
        "per_intent": per_intent,
        "confusions": confusions(outcomes, predicted),
    }


def confusions(outcomes: Sequence[Outcome], predicted: Sequence[str]) -> List[Dict[str, Any]]:
    """Returns the wrong (gold, predicted) pairs, most frequent first, with their texts."""
    pairs = zip(outcomes, predicted, strict=True)
    wrong = [(outcome, pred) for outcome, pred in pairs if not _is_correct(outcome.gold, pred)]
    counts = Counter((outcome.gold, pred) for outcome, pred in wrong)
    return [
        {
            "gold": gold,
            "predicted": pred,
            "count": count,
            "texts": [outcome.text for outcome, p in wrong if (outcome.gold, p) == (gold, pred)],
        }
        for (gold, pred), count in counts.most_common()
    ]


def sweep(scorer: Callable[[float, float], Dict[str, Any]], keys: Sequence[str]) -> List[Dict[str, float]]:
    """Returns ``keys`` of ``scorer(threshold, ambiguity_threshold)`` at every grid point."""
    return [
        {key: float(metrics[key]) for key in ("threshold", "ambiguity_threshold", *keys)}
        for metrics in (
            scorer(threshold, ambiguity_threshold)
            for ambiguity_threshold in AMBIGUITY_THRESHOLDS
            for threshold in THRESHOLDS
        )
    ]


def curve(outcomes: Sequence[Outcome], topics: Iterable[str]) -> List[Dict[str, float]]:
    """Returns the headline metrics at every point of the fallback-threshold grid."""
    topic_list = list(topics)
    keys = (
        "in_scope_accuracy",
        "out_of_scope_recall",
        "macro_f1",
        "malay_in_scope_accuracy",
        "in_scope_fallback_rate",
    )
    return sweep(lambda threshold, ambiguity: score(outcomes, threshold, ambiguity, topic_list), keys)


def best_point(
    points: Sequence[Dict[str, float]], min_oos_recall: float = 0.9, tolerance: float = 0.005
) -> Dict[str, float]:
    """Returns the curve point to configure.

    Among the points with out-of-scope recall at least ``min_oos_recall``, those within
    ``tolerance`` of the best in-scope accuracy; of these the one with the best
    out-of-scope recall, then macro-F1, then the higher thresholds (the safer side).
    """
    eligible = [point for point in points if point["out_of_scope_recall"] >= min_oos_recall] or list(points)
    top = max(point["in_scope_accuracy"] for point in eligible)
    near_top = [point for point in eligible if point["in_scope_accuracy"] >= top - tolerance]
    return max(
        near_top,
        key=lambda p: (p["out_of_scope_recall"], p["macro_f1"], p["threshold"], p["ambiguity_threshold"]),
    )
