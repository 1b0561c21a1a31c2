"""How the real-question figures grow with the real training data (`make learning-curve`).

For each fraction, a copy of ``data/`` keeps that share of the training split's source pages
(whole pages, drawn with a fixed seed, so a page's items stay together) and the same share
of the paraphrases (drawn line by line: they carry no link to the item they reword). The
shipped recipe (config.yml) is trained on each copy and read on the real development split,
at the configured thresholds and at the rule's own point (``best_real_point``). The frozen
test split is never read. Slow: one whole training per fraction; fraction 1 is the full data.
Writes reports/learning_curve.json and reports/learning_curve.md.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Mapping, Sequence

from core.cli_args import fraction
from core.knowledge import get_knowledge
from core.settings import PROJECT_ROOT, child_environment
from scripts.compare_models import read_at_best_point
from scripts.evaluate import REPORTS, fallback_thresholds, quiet_logs
from scripts.real_corpus import Item, load_split, read_paraphrase_file, write_items, write_paraphrase_file
from scripts.real_metrics import score_real
from tooling.launcher import BIN_DIR
from tooling.nlu_files import DATA_DIR, PARAPHRASE_FILE, SPLIT_FILES

FIGURES = ("in_scope_top1", "in_scope_answered_or_offered", "user_post_in_scope_top1", "out_of_scope_handled")


def page_fraction(items: Sequence[Item], share: float, draw: random.Random) -> List[Item]:
    """Returns the items of ``share`` of the pages, drawn by ``draw``; each page whole."""
    pages = sorted({item.url for item in items})
    draw.shuffle(pages)
    kept = set(pages[: round(share * len(pages))])
    return [item for item in items if item.url in kept]


def paraphrase_fraction(
    texts: Mapping[str, Sequence[str]], share: float, draw: random.Random
) -> Dict[str, List[str]]:
    """Returns about ``share`` of each intent's paraphrases, drawn by ``draw``."""
    kept = {
        intent: [text for text in group if draw.random() < share] for intent, group in sorted(texts.items())
    }
    return {intent: group for intent, group in kept.items() if group}


def write_training_data(directory: Path, share: float, seed: int) -> Dict[str, int]:
    """Writes a copy of ``data/`` with ``share`` of the real items and paraphrases; returns the counts."""
    if directory.exists():
        shutil.rmtree(directory)
    shutil.copytree(DATA_DIR, directory)
    questions = directory / SPLIT_FILES["train"].relative_to(DATA_DIR)
    paraphrases = directory / PARAPHRASE_FILE.relative_to(DATA_DIR)
    draw = random.Random(seed)  # noqa: S311 - a reproducible draw of data, not a secret
    items = page_fraction(load_split(SPLIT_FILES["train"]), share, draw)
    header, texts = read_paraphrase_file(PARAPHRASE_FILE)
    kept = paraphrase_fraction(texts, share, draw)
    # Rasa refuses an NLU file with no examples, so a fraction of nothing has no file.
    questions.unlink()
    paraphrases.unlink()
    if items:
        write_items(questions, "train", items)
    if kept:
        write_paraphrase_file(paraphrases, header, kept)
    return {
        "pages": len({item.url for item in items}),
        "items": len(items),
        "paraphrases": sum(len(group) for group in kept.values()),
    }


def train(data: Path, models: Path, name: str) -> Path:
    """Trains the shipped recipe on ``data``; returns the model's path."""
    subprocess.run(
        [str(BIN_DIR / "rasa"), "train", "--data", str(data), "--config", "config.yml",
         "--domain", "domain.yml", "--out", str(models), "--fixed-model-name", name],
        cwd=PROJECT_ROOT, env=child_environment(TF_CPP_MIN_LOG_LEVEL="3"), check=True,
    )  # fmt: skip
    return models / f"{name}.tar.gz"


def read_model(model: Path) -> Dict[str, Any]:
    """The real development split's figures at the configured thresholds and at the rule's point."""
    topics = list(get_knowledge().topics)
    outcomes, point = read_at_best_point(model)
    configured = score_real(outcomes, *fallback_thresholds(PROJECT_ROOT / "config.yml"), topics)
    own = score_real(outcomes, *point, topics)
    return {
        "configured": {figure: configured[figure] for figure in FIGURES},
        "own_point": {"thresholds": list(point), **{figure: own[figure] for figure in FIGURES}},
    }


def markdown(rows: Sequence[Dict[str, Any]]) -> str:
    """The curve as a table: one row per fraction."""
    lines = [
        "# Learning curve: the real development split against the share of real training data",
        "",
        "| share | pages | items | paraphrases | top-1 | answered or offered | user posts | out of scope "
        "| own point | sum at own point |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        configured, own = row["configured"], row["own_point"]
        own_sum = own["in_scope_top1"] + own["out_of_scope_handled"]
        lines.append(
            f"| {row['share']:g} | {row['pages']} | {row['items']} | {row['paraphrases']} | "
            + " | ".join(f"{configured[figure]:.3f}" for figure in FIGURES)
            + f" | {own['thresholds'][0]:g} / {own['thresholds'][1]:g} | {own_sum:.3f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    """Parses the command line, trains one model per fraction and writes the curve."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("fractions", nargs="*", type=fraction, default=[0.0, 0.25, 0.5, 0.75, 1.0])
    parser.add_argument("--seed", type=int, default=29)
    parser.add_argument("--work", type=Path, default=PROJECT_ROOT / "build" / "learning_curve")
    parser.add_argument("--out", type=Path, default=REPORTS)
    args = parser.parse_args()
    quiet_logs()
    rows = []
    for share in sorted(set(args.fractions)):
        # No dot in the name: Rasa would read "share_0.5" as "share_0" with a suffix.
        name = f"share_{round(share * 100):03d}"
        counts = write_training_data(args.work / name, share, args.seed)
        model = train(args.work / name, args.work / "models", name)
        rows.append({"share": share, **counts, **read_model(model)})
        print(markdown(rows).splitlines()[-1], flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "learning_curve.json").write_text(json.dumps(rows, indent=2))
    (args.out / "learning_curve.md").write_text(markdown(rows))
    print(f"written: {args.out / 'learning_curve.json'}, {args.out / 'learning_curve.md'}")


if __name__ == "__main__":
    main()
