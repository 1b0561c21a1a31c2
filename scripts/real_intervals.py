"""How sure the real-question figures are: intervals, and two models compared item by item.

A split of a few hundred questions reads a figure to within several points, so every figure
gets a 95 % interval, and two models are compared on the same questions (paired), which tells
a difference apart from noise far better than two intervals side by side. Both draw the
split's source pages with replacement (a percentile bootstrap): the questions of one page are
not independent. An item without a page is a page of its own.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from scripts.nlu_metrics import decide
from scripts.real_metrics import HEADLINE, RealOutcome, judge

LEVEL = 0.95
RESAMPLES = 2000
# The threshold rule's score (best_real_point): in-scope top-1 plus out of scope handled.
RULE_SUM = ("in_scope_top1", "out_of_scope_handled")
Judgements = List[Dict[str, Optional[bool]]]


def _judgements(
    outcomes: Sequence[RealOutcome], point: Tuple[float, float], topics: Iterable[str]
) -> Judgements:
    known = set(topics)
    return [judge(outcome, decide(outcome.ranking, *point), known) for outcome in outcomes]


def _page_weights(outcomes: Sequence[RealOutcome], resamples: int, seed: int) -> np.ndarray:
    """How often each item is drawn in each resample of pages: rows are resamples, columns items."""
    page_index: Dict[str, int] = {}
    page_of_item = np.array(
        [
            page_index.setdefault(outcome.page or f"item {n}", len(page_index))
            for n, outcome in enumerate(outcomes)
        ]
    )
    draws = np.random.default_rng(seed).integers(0, len(page_index), size=(resamples, len(page_index)))
    return np.stack([np.bincount(draw, minlength=len(page_index)) for draw in draws])[:, page_of_item]


def _drawn(weights: np.ndarray, judgements: Judgements, figure: str) -> Optional[np.ndarray]:
    """The figure in each resample (NaN where a resample holds none of its items), or None."""
    counted = np.array([judged[figure] is not None for judged in judgements])
    if not counted.any():
        return None
    right = counted & np.array([bool(judged[figure]) for judged in judgements])
    totals = (weights @ counted).astype(float)
    hits = (weights @ right).astype(float)
    return np.divide(hits, totals, out=np.full_like(hits, np.nan), where=totals > 0)


def _bounds(values: np.ndarray, level: float) -> Tuple[float, float]:
    low, high = np.nanquantile(values, [(1 - level) / 2, 1 - (1 - level) / 2])
    return round(float(low), 4), round(float(high), 4)


def intervals(
    outcomes: Sequence[RealOutcome],
    threshold: float,
    ambiguity_threshold: float,
    topics: Iterable[str],
    level: float = LEVEL,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> Dict[str, Tuple[float, float]]:
    """Intervals of the headline figures: how far each would move on another draw of pages."""
    if not outcomes:
        return {}
    judgements = _judgements(outcomes, (threshold, ambiguity_threshold), topics)
    weights = _page_weights(outcomes, resamples, seed)
    found: Dict[str, Tuple[float, float]] = {}
    for figure in HEADLINE:
        values = _drawn(weights, judgements, figure)
        if values is not None:
            found[figure] = _bounds(values, level)
    return found


def paired_difference(
    baseline: Sequence[RealOutcome],
    baseline_point: Tuple[float, float],
    candidate: Sequence[RealOutcome],
    candidate_point: Tuple[float, float],
    topics: Iterable[str],
    level: float = LEVEL,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> Dict[str, Tuple[float, float, float]]:
    """The candidate's figures minus the baseline's on the same questions, each at its own point.

    Returns, per headline figure and for the rule's sum, the difference on the split itself
    and its interval over draws of pages, the same pages for both models.

    Raises:
        ValueError: the two lists are not the same questions in the same order.

    """
    if [outcome.text for outcome in baseline] != [outcome.text for outcome in candidate]:
        raise ValueError("paired_difference needs both models' outcomes of the same questions, in order")
    if not baseline:
        return {}
    topic_list = list(topics)
    judged = (
        _judgements(baseline, baseline_point, topic_list),
        _judgements(candidate, candidate_point, topic_list),
    )
    # The split itself is the draw that takes every page once.
    everything = np.ones((1, len(baseline)), dtype=int)
    weights = np.vstack([everything, _page_weights(baseline, resamples, seed)])
    drawn: Dict[str, np.ndarray] = {}
    for figure in HEADLINE:
        values = [_drawn(weights, judgements, figure) for judgements in judged]
        if values[0] is not None and values[1] is not None:
            drawn[figure] = values[1] - values[0]
    if all(figure in drawn for figure in RULE_SUM):
        drawn["rule_sum"] = np.sum([drawn[figure] for figure in RULE_SUM], axis=0)
    return {
        figure: (round(float(values[0]), 4), *_bounds(values[1:], level)) for figure, values in drawn.items()
    }
