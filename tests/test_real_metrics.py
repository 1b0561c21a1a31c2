"""The arithmetic of the real-question figures: labels, alternatives, offered topics, red flags."""

from __future__ import annotations

from typing import Dict

from scripts.nlu_metrics import Ranking
from scripts.real_metrics import RealOutcome, best_real_point, red_flag_set, score_real

TOPICS = ["reversibility", "recovery_time", "physical_therapy", "neurogenic_atrophy"]


def outcome(
    labels: tuple, ranking: Ranking, kind: str = "user_post", language: str = "en", page: str = ""
) -> RealOutcome:
    return RealOutcome(text="x", labels=labels, kind=kind, language=language, ranking=ranking, page=page)


def test_top1_counts_alternative_labels_and_offered_counts_the_clarifying_buttons() -> None:
    outcomes = [
        outcome(("reversibility",), [("reversibility", 0.9)]),
        outcome(("physical_therapy", "recovery_time"), [("recovery_time", 0.8)], kind="title"),
        # Below the threshold: the clarifying question offers the right topic third.
        outcome(
            ("neurogenic_atrophy",),
            [("reversibility", 0.3), ("greet", 0.2), ("recovery_time", 0.2), ("neurogenic_atrophy", 0.1)],
        ),  # fmt: skip
        outcome(("recovery_time",), [("out_of_scope", 0.99), ("recovery_time", 0.01)], language="ms"),
    ]
    metrics = score_real(outcomes, 0.5, 0.0, TOPICS)
    assert metrics["in_scope_top1"] == 0.5
    assert metrics["in_scope_answered_or_offered"] == 0.75
    # The out-of-scope reply offers the likeliest topics too: the Malay story is one tap away.
    assert metrics["in_scope_reached"] == 1.0
    assert metrics["user_post_in_scope_top1"] == round(1 / 3, 4)
    assert metrics["per_kind"] == {
        "title": {"n": 1, "top1": 1.0},
        "user_post": {"n": 3, "top1": round(1 / 3, 4)},
    }
    assert metrics["per_language"]["ms"] == {"n": 1, "top1": 0.0}


def test_out_of_scope_is_handled_by_the_fallback_too_and_red_flags_are_counted_apart() -> None:
    outcomes = [
        outcome(("out_of_scope",), [("out_of_scope", 0.9)]),
        outcome(("out_of_scope",), [("reversibility", 0.2)]),
        outcome(("out_of_scope",), [("reversibility", 0.9)]),
        outcome(("emergency",), [("emergency", 1.0)]),
        outcome(("emergency",), [("neurogenic_atrophy", 0.9)]),
        outcome(("reversibility",), [("emergency", 1.0)]),
    ]
    metrics = score_real(outcomes, 0.5, 0.0, TOPICS)
    assert metrics["out_of_scope_handled"] == round(2 / 3, 4)
    assert metrics["red_flag_sensitivity"] == 0.5
    assert metrics["red_flag_false_alarms"] == 1
    assert metrics["red_flag_false_alarm_rate"] == 0.25
    assert metrics["in_scope_items"] == 1


def point(
    threshold: float, ambiguity: float, top1: float, out_of_scope: float, offered: float, urgent: float = 0.0
) -> Dict[str, float]:
    """One point of a real split's curve."""
    return {
        "threshold": threshold,
        "ambiguity_threshold": ambiguity,
        "in_scope_top1": top1,
        "out_of_scope_handled": out_of_scope,
        "in_scope_answered_or_offered": offered,
        "red_flag_sensitivity": urgent,
    }


def test_the_best_point_handles_the_most_real_questions_right() -> None:
    points = [point(0.2, 0.0, 0.7, 0.5, 0.7), point(0.5, 0.0, 0.6, 0.8, 0.8), point(0.6, 0.0, 0.5, 0.9, 0.9)]
    assert best_real_point(points)["threshold"] == 0.6


def test_the_best_point_gives_up_no_urgent_post() -> None:
    points = [
        point(0.5, 0.2, 0.56, 0.82, 0.85, urgent=0.88),
        point(0.6, 0.2, 0.50, 0.89, 0.87, urgent=0.80),
        # No clarifying question at all: more urgent posts reach the emergency reply, but
        # every unsure message gets a guess. Not a configuration the clinic runs.
        point(0.0, 0.0, 0.69, 0.44, 0.69, urgent=0.92),
    ]
    assert best_real_point(points)["threshold"] == 0.5


def test_the_best_point_stays_where_the_written_questions_keep_their_target() -> None:
    points = [point(0.5, 0.2, 0.56, 0.80, 0.85, urgent=0.92), point(0.6, 0.2, 0.50, 0.86, 0.87, urgent=0.92)]
    assert best_real_point(points)["threshold"] == 0.6
    assert best_real_point(points, allowed=[(0.25, 0.05), (0.5, 0.2)])["threshold"] == 0.5


def test_the_red_flag_set_adds_the_splits_counts_up() -> None:
    dev = {"red_flag_items": 4, "red_flag_caught": 3, "calm_items": 100, "red_flag_false_alarms": 1}
    test = {"red_flag_items": 6, "red_flag_caught": 6, "calm_items": 50, "red_flag_false_alarms": 2}
    assert red_flag_set([dev, test]) == {
        "urgent": 10,
        "sensitivity": 0.9,
        "calm": 150,
        "false_alarms": 3,
        "false_alarm_rate": 0.02,
    }
