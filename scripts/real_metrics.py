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
    # The source page: the unit the intervals resample (items of one page stand or fall together).
    page: str = ""

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


# The figures ``judge`` decides item by item: those of in-scope items, then the others.
IN_SCOPE_FIGURES = (
    "in_scope_top1",
    "in_scope_answered_or_offered",
    "in_scope_reached",
    "in_scope_fallback_rate",
    "user_post_in_scope_top1",
)
JUDGED_FIGURES = (
    *IN_SCOPE_FIGURES,
    "out_of_scope_handled",
    "red_flag_sensitivity",
    "red_flag_false_alarm_rate",
)


def judge(outcome: RealOutcome, intent: str, known: Collection[str]) -> Dict[str, Optional[bool]]:
    """Whether one item counts right in each headline figure (None where it is not counted).

    ``intent`` is the final intent after the fallback. Every share-type figure of the report
    is read off these judgements, so a figure is defined once for the score and its interval.
    """
    right = intent in outcome.labels
    if outcome.in_scope:
        on_offer = any(label in likeliest(outcome.ranking, known) for label in outcome.labels)
        in_scope: Dict[str, Optional[bool]] = {
            "in_scope_top1": right,
            "in_scope_answered_or_offered": right or (intent == FALLBACK and on_offer),
            # The out-of-scope reply offers the same likeliest topics as buttons
            # (actions/conversation.py), so a story wrongly judged out of scope is one tap from
            # its answer; the figure above counts the clarifying question's buttons only,
            # and stays as it was defined.
            "in_scope_reached": right or (intent in (FALLBACK, OUT_OF_SCOPE) and on_offer),
            "in_scope_fallback_rate": intent == FALLBACK,
            "user_post_in_scope_top1": right if outcome.kind == "user_post" else None,
        }
    else:
        in_scope = dict.fromkeys(IN_SCOPE_FIGURES)
    return {
        **in_scope,
        "out_of_scope_handled": intent in (OUT_OF_SCOPE, FALLBACK) if outcome.gold == OUT_OF_SCOPE else None,
        "red_flag_sensitivity": intent == EMERGENCY if outcome.gold == EMERGENCY else None,
        "red_flag_false_alarm_rate": intent == EMERGENCY if outcome.gold != EMERGENCY else None,
    }


def _counted(judgements: Sequence[Dict[str, Optional[bool]]], figure: str) -> List[bool]:
    return [verdict for verdict in (judged[figure] for judged in judgements) if verdict is not None]


def score_real(
    outcomes: Sequence[RealOutcome], threshold: float, ambiguity_threshold: float, topics: Iterable[str]
) -> Dict[str, Any]:
    """Returns the real-question figures for one pair of fallback thresholds."""
    known = set(topics)
    predicted = [decide(outcome.ranking, threshold, ambiguity_threshold) for outcome in outcomes]
    pairs = list(zip(outcomes, predicted, strict=True))
    judgements = [judge(outcome, intent, known) for outcome, intent in pairs]
    shares = {figure: _share(_counted(judgements, figure)) for figure in JUDGED_FIGURES}
    urgent = _counted(judgements, "red_flag_sensitivity")
    false_alarms = _counted(judgements, "red_flag_false_alarm_rate")
    per_intent: Dict[str, List[bool]] = defaultdict(list)
    for outcome, intent in pairs:
        per_intent[outcome.gold].append(
            intent in (OUT_OF_SCOPE, FALLBACK) if outcome.gold == OUT_OF_SCOPE else intent in outcome.labels
        )
    return {
        "threshold": threshold,
        "ambiguity_threshold": ambiguity_threshold,
        "items": len(outcomes),
        "in_scope_items": sum(outcome.in_scope for outcome in outcomes),
        **{figure: shares[figure] for figure in (*IN_SCOPE_FIGURES, "out_of_scope_handled")},
        "out_of_scope_items": sum(outcome.gold == OUT_OF_SCOPE for outcome in outcomes),
        "red_flag_sensitivity": shares["red_flag_sensitivity"],
        "red_flag_items": len(urgent),
        "red_flag_caught": sum(urgent),
        "calm_items": len(false_alarms),
        "red_flag_false_alarm_rate": shares["red_flag_false_alarm_rate"],
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
