"""The report of a real-question split: figures per kind, language and intent, the curve.

The test split's report lists no wrong items: its errors are never read while writing data
(docs/nlu.md), so only its figures are written down.
"""

from __future__ import annotations

from typing import Any, Collection, Dict, Iterable, List, Optional, Sequence, Tuple

from scripts.real_intervals import LEVEL, intervals
from scripts.real_metrics import HEADLINE, TARGETS, RealOutcome, best_real_point, real_curve, score_real

SHOWS_ERRORS = {"real-dev": True, "real-test": False}


def build(
    name: str,
    title: str,
    outcomes: Sequence[RealOutcome],
    thresholds: Sequence[float],
    topics: Iterable[str],
    resources: Dict[str, Any],
    allowed: Optional[Collection[Tuple[float, float]]] = None,
) -> Dict[str, Any]:
    """Scores ``outcomes`` at the configured thresholds and over the whole curve.

    The best point is chosen among ``allowed`` threshold pairs when given (best_real_point).
    """
    topic_list = list(topics)
    metrics = score_real(outcomes, thresholds[0], thresholds[1], topic_list)
    if not SHOWS_ERRORS.get(name, False):
        metrics["errors"] = f"{len(metrics['errors'])} (not listed: frozen test split)"
    points = real_curve(outcomes, topic_list)
    return {
        "set": title,
        "metrics": metrics,
        "intervals": intervals(outcomes, thresholds[0], thresholds[1], topic_list),
        "targets": TARGETS,
        "resources": resources,
        "best_point": best_real_point(points, allowed),
        "curve": points,
    }


def _row(*cells: object) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def _interval(report: Dict[str, Any], key: str) -> str:
    if key not in report["intervals"]:
        return ""
    low, high = report["intervals"][key]
    return f"{low} to {high}"


def markdown(report: Dict[str, Any]) -> str:
    """Renders a real-question report as Markdown."""
    metrics = report["metrics"]
    lines: List[str] = [
        f"# Real patients' questions ({report['set']})",
        "",
        f"{metrics['items']} items ({metrics['in_scope_items']} in scope, "
        f"{metrics['out_of_scope_items']} out of scope, {metrics['red_flag_items']} urgent); "
        f"FallbackClassifier threshold {metrics['threshold']}, "
        f"ambiguity threshold {metrics['ambiguity_threshold']}.",
        "",
        f"Intervals: {LEVEL:.0%}, from resampling the split's source pages (scripts/real_intervals.py).",
        "",
        _row("figure", "value", f"{LEVEL:.0%} interval", "target"),
        _row("---", "---", "---", "---"),
    ]
    lines += [_row(key, metrics[key], _interval(report, key), TARGETS.get(key, "")) for key in HEADLINE]
    lines += [
        _row("in_scope_fallback_rate", metrics["in_scope_fallback_rate"], "", ""),
        _row("red_flag_false_alarms", metrics["red_flag_false_alarms"], "", ""),
    ]
    lines += [_row(key, value, "", "") for key, value in report["resources"].items()]
    for title, key in (
        ("Per kind (in-scope top-1)", "per_kind"),
        ("Per language (in-scope top-1)", "per_language"),
    ):
        lines += ["", f"## {title}", "", _row("group", "n", "top-1"), _row("---", "---", "---")]
        lines += [_row(group, values["n"], values["top1"]) for group, values in metrics[key].items()]
    lines += ["", "## Per intent (recall of the primary label)", "", _row("intent", "n", "recall")]
    lines.append(_row("---", "---", "---"))
    lines += [_row(intent, values["n"], values["recall"]) for intent, values in metrics["per_intent"].items()]
    if isinstance(metrics["errors"], list):
        lines += ["", "## Wrong items (labels → predicted)", ""]
        lines += [
            f"- {'/'.join(error['labels'])} → {error['predicted']}: “{error['text']}”"
            for error in metrics["errors"]
        ]
    else:
        lines += ["", f"Wrong items: {metrics['errors']}."]
    lines += [
        "",
        "## Fallback threshold curve (ambiguity 0.0 and 0.2)",
        "",
        f"Best point: {report['best_point']}",
        "",
    ]
    lines.append(_row("ambiguity", "threshold", *HEADLINE[:4]))
    lines.append(_row(*["---"] * 6))
    lines += [
        _row(point["ambiguity_threshold"], point["threshold"], *(point[key] for key in HEADLINE[:4]))
        for point in report["curve"]
        if point["ambiguity_threshold"] in (0.0, 0.2)
    ]
    return "\n".join(lines) + "\n"
