"""Compares two trained models on the real development split, question by question.

``make compare BASELINE=models/old.tar.gz`` (the candidate defaults to models/current.tar.gz).
Each model is read at its own best threshold point, by the rule that configures the product
(``best_real_point`` among the points where the written development set keeps its target),
and the candidate's figures minus the baseline's are printed with their 95 % intervals over
draws of the split's source pages, the same pages for both (scripts/real_intervals.py). A
change is a gain when the interval of the rule's sum lies above zero; otherwise it is noise.
The frozen test split is never read here: it is scored by ``make eval``, once per change.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import List, Tuple

from core.knowledge import get_knowledge
from core.settings import PROJECT_ROOT
from scripts.evaluate import REAL_SETS, keeps_written_targets, quiet_logs, run_model, run_real
from scripts.nlu_metrics import curve
from scripts.real_intervals import LEVEL, paired_difference
from scripts.real_metrics import RealOutcome, best_real_point, real_curve
from tooling.nlu_files import EVALUATION_SETS


def read_at_best_point(model: Path) -> Tuple[List[RealOutcome], Tuple[float, float]]:
    """Parses the real development split with ``model``; returns its outcomes and the rule's point."""
    topics = list(get_knowledge().topics)
    written, _ = run_model(model, EVALUATION_SETS["dev"])
    outcomes, _ = run_real(model, REAL_SETS["real-dev"])
    best = best_real_point(real_curve(outcomes, topics), keeps_written_targets(curve(written, topics)))
    return outcomes, (best["threshold"], best["ambiguity_threshold"])


def main() -> None:
    """Parses the command line, reads both models and prints the paired differences."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("baseline", type=Path, help="the model to compare against (a .tar.gz)")
    parser.add_argument("--model", type=Path, default=PROJECT_ROOT / "models" / "current.tar.gz")
    args = parser.parse_args()
    for path in (args.baseline, args.model):
        if not path.is_file():
            parser.error(f"no model at {path}")
    quiet_logs()
    baseline, baseline_point = read_at_best_point(args.baseline)
    candidate, candidate_point = read_at_best_point(args.model)
    found = paired_difference(baseline, baseline_point, candidate, candidate_point, get_knowledge().topics)
    print(f"real development split, {len(candidate)} questions; {args.model} minus {args.baseline}")
    print(f"thresholds by the rule: baseline {baseline_point}, candidate {candidate_point}")
    print(f"{'figure':30} {'difference':>10}   {LEVEL:.0%} interval")
    for figure, (difference, low, high) in found.items():
        print(f"{figure:30} {difference:+10.4f}   {low:+.4f} to {high:+.4f}")


if __name__ == "__main__":
    main()
