"""Evaluates the trained NLU model on the sets it was never trained on (`make eval`).

Four sets, all kept out of the training data by tests/test_nlu_data.py:

- ``eval`` (tests/nlu_eval): the blind held-out set the targets apply to. Its authors
  never saw the training data, and its errors are not read to write training data.
- ``dev`` (tests/nlu_dev): the development set, whose errors were read to improve the
  training data and the pipeline, so its figures are optimistic.

- ``real-dev`` and ``real-test`` (tests/nlu_real): real patients' questions, reworded one
  by one from public pages, split by page; the test split is frozen and its errors are
  never read. Scored per kind of text, language and intent (scripts/real_metrics.py).

For the synthetic sets it prints per-intent precision/recall/F1, macro-F1, in-scope accuracy,
out-of-scope recall, Malay in-scope accuracy, the confusion pairs and the fallback-threshold
curve, and writes them to reports/nlu_<set>.json and reports/nlu_<set>.md. `crossval` runs
Rasa's 5-fold cross-validation on the training data and summarises it (`make crossval`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import resource
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any, Collection, Dict, List, Optional, Sequence, Tuple

import yaml

from actions.common import ranking_pairs
from core.cli_args import at_least
from core.knowledge import get_knowledge
from core.message_rules import clean_message
from core.settings import PROJECT_ROOT, child_environment
from scripts import real_report
from scripts.nlu_metrics import FALLBACK, Outcome, best_point, curve, score
from scripts.real_corpus import load_split
from scripts.real_intervals import intervals
from scripts.real_metrics import HEADLINE, RealOutcome, red_flag_set
from tooling.launcher import BIN_DIR
from tooling.nlu_files import EVALUATION_SETS, SPLIT_FILES, nlu_examples

EVAL_FILES = EVALUATION_SETS["eval"]
REAL_SETS = {"real-dev": SPLIT_FILES["dev"], "real-test": SPLIT_FILES["test"]}
SET_TITLES = {
    "eval": "tests/nlu_eval: blind held-out set, never trained on",
    "dev": "tests/nlu_dev: development set, never trained on, errors read while writing data",
    "real-dev": "tests/nlu_real/dev.yml: real questions, development split, errors read",
    "real-test": "tests/nlu_real/test.yml: real questions, frozen test split, errors never read",
}
REPORTS = PROJECT_ROOT / "reports"
TARGETS = {
    "in_scope_accuracy": 0.95,
    "macro_f1": 0.95,
    "out_of_scope_recall": 0.90,
    "malay_in_scope_accuracy": 0.85,
}


def fallback_thresholds(config_path: Path) -> Tuple[float, float]:
    """Returns the FallbackClassifier's threshold and ambiguity threshold in a config."""
    pipeline = yaml.safe_load(config_path.read_text())["pipeline"]
    fallback = next(item for item in pipeline if str(item["name"]).endswith("FallbackClassifier"))
    return float(fallback.get("threshold", 0.3)), float(fallback.get("ambiguity_threshold", 0.1))


async def _parse(model: Path, texts: Sequence[str]) -> Tuple[List[Dict[str, Any]], List[float], int]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    await agent.parse_message("warm up")
    results, seconds = [], []
    for text in texts:
        started = time.perf_counter()
        results.append(await agent.parse_message(clean_message(text)))
        seconds.append(time.perf_counter() - started)
    peak_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return results, seconds, peak_rss_kib


def run_model(model: Path, files: Dict[str, Path] = EVAL_FILES) -> Tuple[List[Outcome], Dict[str, float]]:
    """Parses every example of ``files`` (language -> path) with ``model``.

    Returns the outcomes and the resources used.
    """
    examples = [
        (text, intent, language) for language, path in files.items() for text, intent in nlu_examples(path)
    ]
    results, seconds, peak_rss_kib = asyncio.run(_parse(model, [text for text, _, _ in examples]))
    outcomes = [
        Outcome(text=text, gold=intent, language=language, ranking=_ranking(result))
        for (text, intent, language), result in zip(examples, results, strict=True)
    ]
    return outcomes, _resources(seconds, peak_rss_kib)


def _ranking(result: Dict[str, Any]) -> List[Tuple[str, float]]:
    # The FallbackClassifier only prepends nlu_fallback; the classifier's ranking stays.
    return [pair for pair in ranking_pairs(result.get("intent_ranking")) if pair[0] != FALLBACK]


def _resources(seconds: Sequence[float], peak_rss_kib: int) -> Dict[str, float]:
    milliseconds = sorted(1000 * value for value in seconds)
    return {
        "latency_ms_median": round(statistics.median(milliseconds), 1),
        "latency_ms_p95": round(milliseconds[int(0.95 * (len(milliseconds) - 1))], 1),
        "peak_rss_mib": round(peak_rss_kib / 1024),
    }


def run_real(model: Path, path: Path) -> Tuple[List[RealOutcome], Dict[str, float]]:
    """Parses every real question of the split file ``path`` with ``model``."""
    items = load_split(path)
    results, seconds, peak_rss_kib = asyncio.run(_parse(model, [item.text for item in items]))
    outcomes = [
        RealOutcome(
            text=item.text,
            labels=item.labels,
            kind=item.kind,
            language=item.lang,
            ranking=_ranking(result),
            page=item.url,
        )
        for item, result in zip(items, results, strict=True)
    ]
    return outcomes, _resources(seconds, peak_rss_kib)


def evaluate_real(
    model: Path, config: Path, out: Path, name: str, allowed: Optional[Collection[Tuple[float, float]]] = None
) -> Tuple[Dict[str, Any], List[RealOutcome]]:
    """Scores ``model`` on a real-question split; writes reports/nlu_<name>.{json,md} to ``out``.

    Its best point is chosen among the ``allowed`` threshold pairs when given. Returns the
    report and the split's outcomes (the red-flag set gathers the held-out splits' outcomes).
    """
    outcomes, resources = run_real(model, REAL_SETS[name])
    report = real_report.build(
        name,
        SET_TITLES[name],
        outcomes,
        fallback_thresholds(config),
        get_knowledge().topics,
        resources,
        allowed,
    )
    report["model"] = str(model)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"nlu_{name}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    (out / f"nlu_{name}.md").write_text(real_report.markdown(report))
    return report, outcomes


def keeps_written_targets(points: Sequence[Dict[str, float]]) -> List[Tuple[float, float]]:
    """The threshold pairs at which a written set's curve ``points`` keep its in-scope target.

    The real questions' thresholds are chosen among these (from the written development
    set, never the blind one), so that questions written like the article's own stay answered.
    """
    return [
        (point["threshold"], point["ambiguity_threshold"])
        for point in points
        if point["in_scope_accuracy"] >= TARGETS["in_scope_accuracy"]
    ]


def print_real_summary(report: Dict[str, Any]) -> None:
    """Prints a real-question split's headline figures, per kind and per language."""
    metrics = report["metrics"]
    print(f"== {report['set']}: {metrics['items']} items")
    for key in HEADLINE:
        target = report["targets"].get(key)
        low, high = report["intervals"].get(key, (metrics[key], metrics[key]))
        print(
            f"{key:30} {metrics[key]:.4f}  [{low:.3f}, {high:.3f}]"
            + (f"  (target {target})" if target is not None else "")
        )
    for group in ("per_kind", "per_language"):
        print(
            f"{group:30} " + ", ".join(f"{k} {v['top1']:.3f} (n={v['n']})" for k, v in metrics[group].items())
        )
    for key, value in report["resources"].items():
        print(f"{key:30} {value}")
    print(f"best curve point: {report['best_point']}")


def _row(*cells: object) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def markdown(report: Dict[str, Any]) -> str:
    """Renders the report as Markdown."""
    metrics, chosen = report["metrics"], report["chosen"]
    lines = [
        f"# NLU evaluation ({report['set']})",
        "",
        f"Model `{report['model']}`, {metrics['examples']} examples, FallbackClassifier threshold "
        f"{chosen['threshold']}, ambiguity threshold {chosen['ambiguity_threshold']}.",
        "",
        _row("metric", "value", "target"),
        _row("---", "---", "---"),
    ]
    for key in ("in_scope_accuracy", "macro_f1", "topic_macro_f1", "out_of_scope_recall"):
        lines.append(_row(key, metrics[key], TARGETS.get(key, "")))
    lines += [
        _row(
            "malay_in_scope_accuracy", metrics["malay_in_scope_accuracy"], TARGETS["malay_in_scope_accuracy"]
        ),
        _row("in_scope_fallback_rate", metrics["in_scope_fallback_rate"], ""),
    ]
    lines += [_row(key, value, "") for key, value in report["resources"].items()]
    lines += ["", "## Per intent", "", _row("intent", "precision", "recall", "F1", "support")]
    lines.append(_row("---", "---", "---", "---", "---"))
    for intent, values in sorted(metrics["per_intent"].items(), key=lambda item: item[1]["f1"]):
        lines.append(_row(intent, values["precision"], values["recall"], values["f1"], values["support"]))
    lines += ["", "## Confusion pairs (gold → predicted)", ""]
    for pair in metrics["confusions"]:
        examples = "; ".join(f"“{text}”" for text in pair["texts"][:3])
        lines.append(f"- {pair['gold']} → {pair['predicted']} x{pair['count']}: {examples}")
    lines += ["", "## Fallback threshold curve", "", f"Best point: {report['best_point']}", ""]
    lines.append(_row("ambiguity", "threshold", "in-scope acc", "OOS recall", "macro-F1", "Malay acc"))
    lines.append(_row("---", "---", "---", "---", "---", "---"))
    for point in report["curve"]:
        lines.append(
            _row(
                point["ambiguity_threshold"],
                point["threshold"],
                point["in_scope_accuracy"],
                point["out_of_scope_recall"],
                point["macro_f1"],
                point["malay_in_scope_accuracy"],
            )
        )
    return "\n".join(lines) + "\n"


def evaluate(model: Path, config: Path, out: Path, name: str = "eval") -> Dict[str, Any]:
    """Evaluates ``model`` on the set ``name``; writes reports/nlu_<name>.{json,md} to ``out``."""
    topics = list(get_knowledge().topics)
    outcomes, resources = run_model(model, EVALUATION_SETS[name])
    threshold, ambiguity_threshold = fallback_thresholds(config)
    metrics = score(outcomes, threshold, ambiguity_threshold, topics)
    points = curve(outcomes, topics)
    report = {
        "set": SET_TITLES[name],
        "model": str(model),
        "chosen": {"threshold": threshold, "ambiguity_threshold": ambiguity_threshold},
        "metrics": metrics,
        "resources": resources,
        "targets": TARGETS,
        "best_point": best_point(points),
        "curve": points,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / f"nlu_{name}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    (out / f"nlu_{name}.md").write_text(markdown(report))
    return report


def print_summary(report: Dict[str, Any]) -> None:
    """Prints the per-intent table, the headline metrics and the confusion pairs."""
    metrics = report["metrics"]
    print(f"== {report['set']}")
    print(f"{'intent':26} {'prec':>6} {'recall':>6} {'F1':>6} {'n':>4}")
    for intent, values in sorted(metrics["per_intent"].items()):
        print(
            f"{intent:26} {values['precision']:6.3f} {values['recall']:6.3f} "
            f"{values['f1']:6.3f} {values['support']:4d}"
        )
    print("\nconfusion pairs (gold -> predicted):")
    for pair in metrics["confusions"]:
        print(f"  {pair['gold']} -> {pair['predicted']} x{pair['count']}: {pair['texts'][0]!r}")
    print()
    for key in ("in_scope_accuracy", "macro_f1", "topic_macro_f1", "out_of_scope_recall"):
        target = TARGETS.get(key)
        print(f"{key:26} {metrics[key]:.4f}" + (f"  (target {target})" if target else ""))
    print(f"{'malay_in_scope_accuracy':26} {metrics['malay_in_scope_accuracy']:.4f}  (target 0.85)")
    print(f"{'in_scope_fallback_rate':26} {metrics['in_scope_fallback_rate']:.4f}")
    for key, value in report["resources"].items():
        print(f"{key:26} {value}")
    print(f"best curve point: {report['best_point']}")


def crossval(config: Path, out: Path, folds: int) -> Dict[str, Any]:
    """Runs Rasa's k-fold cross-validation on data/nlu and returns the intent averages."""
    target = out / "crossval"
    subprocess.run(
        [str(BIN_DIR / "rasa"), "test", "nlu", "--nlu", "data/nlu", "--config", str(config),
         "--cross-validation", "--folds", str(folds), "--out", str(target)],
        cwd=PROJECT_ROOT, env=child_environment(TF_CPP_MIN_LOG_LEVEL="3"), check=True,
    )  # fmt: skip
    intent_report = json.loads((target / "intent_report.json").read_text())
    summary = {
        "folds": folds,
        "accuracy": intent_report["accuracy"],
        "macro_f1": intent_report["macro avg"]["f1-score"],
        "weighted_f1": intent_report["weighted avg"]["f1-score"],
    }
    (out / "nlu_crossval.json").write_text(json.dumps(summary, indent=2))
    return summary


def quiet_logs() -> None:
    """Logs warnings only: Rasa's debug parse log would print every held-out text and its intent."""
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)


def scoring_order(requested: Sequence[str]) -> List[str]:
    """The sets to score, in order: the written development set first whenever a real split is scored.

    A real split's best threshold point must keep the written development set's target
    (``keeps_written_targets``), so that set is scored before it, even when not asked for.
    """
    chosen = list(dict.fromkeys(requested))
    if not any(name in REAL_SETS for name in chosen):
        return chosen
    return ["dev", *(name for name in chosen if name != "dev")]


def main() -> None:
    """Parses the command line and runs the evaluation or the cross-validation."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", nargs="?", choices=["eval", "crossval"], default="eval")
    parser.add_argument("--model", type=Path, default=PROJECT_ROOT / "models" / "current.tar.gz")
    parser.add_argument("--config", type=Path, default=PROJECT_ROOT / "config.yml")
    parser.add_argument("--out", type=Path, default=REPORTS)
    parser.add_argument("--folds", type=at_least(2), default=5)
    parser.add_argument(
        "--set", dest="sets", action="append", choices=[*sorted(EVALUATION_SETS), *REAL_SETS],
        help="evaluation set to score (repeatable; default: dev, eval, real-dev, real-test; a real "
        "split brings dev first, whose target bounds the real split's best point)",
    )  # fmt: skip
    args = parser.parse_args()
    # Rasa would quietly load the newest model beside a path that names no file.
    if args.command == "eval" and not args.model.is_file():
        parser.error(f"no model at {args.model}")
    quiet_logs()
    if args.command == "crossval":
        print(json.dumps(crossval(args.config, args.out, args.folds), indent=2))
        return
    real_reports, real_outcomes = [], []
    allowed: Optional[List[Tuple[float, float]]] = None
    for name in scoring_order(args.sets or ["dev", "eval", *REAL_SETS]):
        if name in REAL_SETS:
            report, outcomes = evaluate_real(args.model, args.config, args.out, name, allowed)
            real_reports.append(report)
            real_outcomes += outcomes
            print_real_summary(report)
        else:
            report = evaluate(args.model, args.config, args.out, name)
            print_summary(report)
            if name == "dev":
                allowed = keeps_written_targets(report["curve"])
        print(f"\nwritten: {args.out / f'nlu_{name}.json'}, {args.out / f'nlu_{name}.md'}\n")
    if len(real_reports) > 1:
        flags = red_flag_set([report["metrics"] for report in real_reports])
        print(f"== red-flag set (real posts of the held-out splits): {flags}")
        found = intervals(real_outcomes, *fallback_thresholds(args.config), get_knowledge().topics)
        print(
            "   95 % intervals: sensitivity {}, false-alarm rate {}".format(
                *(found.get(key) for key in ("red_flag_sensitivity", "red_flag_false_alarm_rate"))
            )
        )
        print("   targets: sensitivity >= 0.95, false-alarm rate <= 0.02")


if __name__ == "__main__":
    main()
