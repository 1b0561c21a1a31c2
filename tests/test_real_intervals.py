"""How sure the figures are: intervals over drawn pages, and two models compared on the same items."""

from __future__ import annotations

from typing import List

import pytest

from scripts.nlu_metrics import Ranking
from scripts.real_intervals import intervals, paired_difference
from scripts.real_metrics import RealOutcome, score_real

TOPICS = ["reversibility", "recovery_time", "physical_therapy", "neurogenic_atrophy"]
RIGHT: Ranking = [("reversibility", 0.9)]
WRONG: Ranking = [("recovery_time", 0.9)]


def outcome(labels: tuple, ranking: Ranking, page: str = "", text: str = "x") -> RealOutcome:
    return RealOutcome(text=text, labels=labels, kind="user_post", language="en", ranking=ranking, page=page)


def forty_answers() -> List[RealOutcome]:
    """40 in-scope questions on 40 pages, every fourth answered wrong, and one out of scope."""
    return [
        *(outcome(("reversibility",), WRONG if n % 4 == 0 else RIGHT, f"p{n}", f"q{n}") for n in range(40)),
        outcome(("out_of_scope",), [("out_of_scope", 0.9)], "q", "q40"),
    ]


def test_the_intervals_bracket_each_figure_and_draw_a_pages_questions_together() -> None:
    outcomes = forty_answers()
    found = intervals(outcomes, 0.5, 0.0, TOPICS)

    low, high = found["in_scope_top1"]
    assert low < score_real(outcomes, 0.5, 0.0, TOPICS)["in_scope_top1"] == 0.75 < high
    assert low > 0.5
    assert high < 0.95
    assert found["out_of_scope_handled"] == (1.0, 1.0)
    assert "red_flag_sensitivity" not in found, "no urgent item, no interval"
    assert found == intervals(outcomes, 0.5, 0.0, TOPICS), "the same seed draws the same pages"

    # The same 40 answers told on two pages, the ten wrong ones all on the first: a draw takes
    # a page's questions at once, so it reads 0.5, 0.75 or 1.0 and nothing between.
    two_pages = [outcome(o.labels, o.ranking, "ab"[n % 2], o.text) for n, o in enumerate(outcomes[:40])]
    assert intervals(two_pages, 0.5, 0.0, TOPICS)["in_scope_top1"] == (0.5, 1.0)


def test_a_model_compared_with_itself_differs_by_nothing() -> None:
    outcomes = forty_answers()

    found = paired_difference(outcomes, (0.5, 0.0), outcomes, (0.5, 0.0), TOPICS)

    assert found["in_scope_top1"] == (0.0, 0.0, 0.0)
    assert found["rule_sum"] == (0.0, 0.0, 0.0)


def test_a_paired_difference_is_surer_than_two_intervals_side_by_side() -> None:
    baseline = forty_answers()
    # The candidate answers two of the ten wrong questions right, and nothing else changes.
    candidate = [
        outcome(o.labels, RIGHT, o.page, o.text) if o.text in ("q0", "q4") else o for o in baseline
    ]  # fmt: skip

    found = paired_difference(baseline, (0.5, 0.0), candidate, (0.5, 0.0), TOPICS)

    difference, low, high = found["in_scope_top1"]
    assert difference == 0.05
    assert found["rule_sum"][0] == 0.05
    assert 0.0 <= low < difference < high
    alone = intervals(candidate, 0.5, 0.0, TOPICS)["in_scope_top1"]
    assert high - low < alone[1] - alone[0]


def test_only_the_same_questions_can_be_paired() -> None:
    outcomes = forty_answers()
    with pytest.raises(ValueError, match="same questions"):
        paired_difference(outcomes, (0.5, 0.0), outcomes[::-1], (0.5, 0.0), TOPICS)
