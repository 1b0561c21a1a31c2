"""Scores the model on real patients' questions: the figures issue #11 sets targets for.

Pure functions over (labels, ranking) pairs, like scripts/nlu_metrics.py, so the fallback
thresholds can be replayed without retraining. An item is right when the final intent is
its label or one of its ``alt_labels``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Collection, Dict, Iterable, List, Optional, Sequence, Tuple

from actions.common import likeliest
from scripts.nlu_metrics import EMERGENCY, FALLBACK, OUT_OF_SCOPE, Ranking, decide, sweep

TARGETS = {
    "in_scope_top1": 0.85,
    "in_scope_answered_or_offered": 0.95,
    "user_post_in_scope_top1": 0.80,
    "out_of_scope_handled": 0.90,
    "red_flag_sensitivity": 0.95,
    "red_flag_false_alarm_rate": 0.02,
}


@dataclass(frozen=True)
class RealOutcome:
    """One real question, its labels and provenance, and the model's ranking."""

    text: str
    labels: Tuple[str, ...]
    kind: str
    language: str
    ranking: Ranking

    @property
    def gold(self) -> str:
        """The primary label."""
        return self.labels[0]

    @property
    def in_scope(self) -> bool:
        """Whether the article answers it (neither out of scope nor an emergency)."""
        return self.gold not in (OUT_OF_SCOPE, EMERGENCY)


def _share(flags: Sequence[bool]) -> float:
    return round(sum(flags) / len(flags), 4) if flags else 0.0


def _group_top1(
    outcomes: Sequence[RealOutcome], predicted: Sequence[str], key: Callable[[RealOutcome], str]
) -> Dict[str, Dict[str, float]]:
    groups: Dict[str, List[bool]] = defaultdict(list)
    for outcome, intent in zip(outcomes, predicted, strict=True):
        if outcome.in_scope:
            groups[key(outcome)].append(intent in outcome.labels)
    return {name: {"n": len(flags), "top1": _share(flags)} for name, flags in sorted(groups.items())}


def score_real(
    outcomes: Sequence[RealOutcome], threshold: float, ambiguity_threshold: float, topics: Iterable[str]
) -> Dict[str, Any]:
    """Returns the real-question figures for one pair of fallback thresholds."""
    known = set(topics)
    predicted = [decide(outcome.ranking, threshold, ambiguity_threshold) for outcome in outcomes]
    pairs = list(zip(outcomes, predicted, strict=True))
    in_scope = [(outcome, intent) for outcome, intent in pairs if outcome.in_scope]
    top1 = [intent in outcome.labels for outcome, intent in in_scope]
    right_offered = [
        any(label in likeliest(outcome.ranking, known) for label in outcome.labels) for outcome, _ in in_scope
    ]
    answered_or_offered = [
        intent in outcome.labels or (intent == FALLBACK and on_offer)
        for (outcome, intent), on_offer in zip(in_scope, right_offered, strict=True)
    ]
    # The out-of-scope reply offers the same likeliest topics as buttons (actions/conversation.py),
    # so a story wrongly judged out of scope is one tap from its answer; the figure above
    # counts the clarifying question's buttons only, and stays as it was defined.
    reached = [
        intent in outcome.labels or (intent in (FALLBACK, OUT_OF_SCOPE) and on_offer)
        for (outcome, intent), on_offer in zip(in_scope, right_offered, strict=True)
    ]
    urgent = [intent == EMERGENCY for outcome, intent in pairs if outcome.gold == EMERGENCY]
    false_alarms = [intent == EMERGENCY for outcome, intent in pairs if outcome.gold != EMERGENCY]
    per_intent: Dict[str, List[bool]] = defaultdict(list)
    for outcome, intent in pairs:
        per_intent[outcome.gold].append(
            intent in (OUT_OF_SCOPE, FALLBACK) if outcome.gold == OUT_OF_SCOPE else intent in outcome.labels
        )
    return {
        "threshold": threshold,
        "ambiguity_threshold": ambiguity_threshold,
        "items": len(outcomes),
        "in_scope_items": len(in_scope),
        "in_scope_top1": _share(top1),
        "in_scope_answered_or_offered": _share(answered_or_offered),
        "in_scope_reached": _share(reached),
        "in_scope_fallback_rate": _share([intent == FALLBACK for _, intent in in_scope]),
        "user_post_in_scope_top1": _share(
            [intent in outcome.labels for outcome, intent in in_scope if outcome.kind == "user_post"]
        ),
        "out_of_scope_handled": _share(
            [intent in (OUT_OF_SCOPE, FALLBACK) for outcome, intent in pairs if outcome.gold == OUT_OF_SCOPE]
        ),
        "out_of_scope_items": sum(outcome.gold == OUT_OF_SCOPE for outcome in outcomes),
        "red_flag_sensitivity": _share(urgent),
        "red_flag_items": len(urgent),
        "red_flag_caught": sum(urgent),
        "calm_items": len(false_alarms),
        "red_flag_false_alarm_rate": _share(false_alarms),
        "red_flag_false_alarms": sum(false_alarms),
        "per_kind": _group_top1(outcomes, predicted, lambda outcome: outcome.kind),
        "per_language": _group_top1(outcomes, predicted, lambda outcome: outcome.language),
        "per_intent": {
            intent: {"n": len(flags), "recall": _share(flags)} for intent, flags in sorted(per_intent.items())
        },
        "errors": [
            {"text": outcome.text, "labels": list(outcome.labels), "predicted": intent}
            for outcome, intent in pairs
            if not (
                intent in outcome.labels
                or (outcome.gold == OUT_OF_SCOPE and intent in (OUT_OF_SCOPE, FALLBACK))
            )
        ],
    }


HEADLINE = (
    "in_scope_top1",
    "in_scope_answered_or_offered",
    "user_post_in_scope_top1",
    "out_of_scope_handled",
    "red_flag_sensitivity",
    "red_flag_false_alarm_rate",
    "in_scope_reached",
)


def real_curve(outcomes: Sequence[RealOutcome], topics: Iterable[str]) -> List[Dict[str, float]]:
    """The headline figures at every point of the fallback-threshold grid."""
    topic_list = list(topics)
    return sweep(
        lambda threshold, ambiguity: score_real(outcomes, threshold, ambiguity, topic_list), HEADLINE
    )


def best_real_point(
    points: Sequence[Dict[str, float]], allowed: Optional[Collection[Tuple[float, float]]] = None
) -> Dict[str, float]:
    """Returns the curve point to configure, read off the real development split.

    Only points where both triggers of the clarifying question are on (a threshold of 0
    would answer every unsure or ambiguous message with a guess), and, when ``allowed`` is
    given, only its (threshold, ambiguity threshold) pairs. Urgent posts first: no
    point that sends fewer of them to the emergency reply (a classifier's ``emergency``
    that falls back gets the clarifying question instead). Among the rest, the most real
    questions handled right: in-scope answered with the right topic plus out-of-scope
    handled (each as a share, so neither side is drowned by the other's count); ties go to
    more in-scope questions answered or offered, then to the higher thresholds.
    """
    candidates = [
        p
        for p in points
        if p["threshold"] > 0
        and p["ambiguity_threshold"] > 0
        and (allowed is None or (p["threshold"], p["ambiguity_threshold"]) in allowed)
    ]
    return max(
        candidates or points,
        key=lambda p: (
            p.get("red_flag_sensitivity", 0.0),
            round(p["in_scope_top1"] + p["out_of_scope_handled"], 4),
            p["in_scope_answered_or_offered"],
            p["threshold"],
            p["ambiguity_threshold"],
        ),
    )


def red_flag_set(reports: Sequence[Dict[str, Any]]) -> Dict[str, float]:
    """The red-flag figures over several splits' metrics together (the held-out red-flag set)."""
    urgent = sum(int(metrics["red_flag_items"]) for metrics in reports)
    calm = sum(int(metrics["calm_items"]) for metrics in reports)
    caught = sum(int(metrics["red_flag_caught"]) for metrics in reports)
    alarms = sum(int(metrics["red_flag_false_alarms"]) for metrics in reports)
    return {
        "urgent": urgent,
        "sensitivity": round(caught / urgent, 4) if urgent else 0.0,
        "calm": calm,
        "false_alarms": alarms,
        "false_alarm_rate": round(alarms / calm, 4) if calm else 0.0,
    }
