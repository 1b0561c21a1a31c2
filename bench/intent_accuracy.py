"""Intent accuracy of a trained model on the held-out evaluation set (tests/nlu_eval/).

Run as ``python -m bench.intent_accuracy MODEL`` in its own process, so that the benchmark's own
process never loads TensorFlow; prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
from pathlib import Path
from typing import Dict, List, Tuple

from core.settings import PROJECT_ROOT, child_environment
from scripts.evaluate import EVAL_FILES
from tooling.launcher import BIN_DIR
from tooling.nlu_files import nlu_examples


def examples() -> List[Tuple[str, str]]:
    """Returns (text, intent) for every example of the blind evaluation set."""
    return [pair for path in EVAL_FILES.values() for pair in nlu_examples(path)]


async def score(model: Path) -> Dict[str, float]:
    """Parses every evaluation example with ``model``; returns the two accuracies.

    ``eval_accuracy`` is what ``rasa test nlu`` reports: the classifier's intent, with the
    FallbackClassifier's ``nlu_fallback`` undone. ``answered_accuracy`` counts a fallback
    as wrong, as a patient would see it.
    """
    from rasa.core.agent import Agent
    from rasa.nlu.classifiers.fallback_classifier import (
        is_fallback_classifier_prediction,
        undo_fallback_prediction,
    )

    agent = Agent.load(str(model))
    pairs = examples()
    correct = answered = 0
    for text, intent in pairs:
        result = await agent.parse_message(text)
        answered += result["intent"]["name"] == intent
        if is_fallback_classifier_prediction(result):
            result = undo_fallback_prediction(result)
        correct += result["intent"]["name"] == intent
    return {
        "eval_accuracy": correct / len(pairs),
        "answered_accuracy": answered / len(pairs),
        "eval_examples": float(len(pairs)),
    }


def evaluate(model: Path, timeout: float = 900.0) -> Dict[str, float]:
    """Scores ``model`` in a child process and returns its accuracies."""
    result = subprocess.run(
        [str(BIN_DIR / "python"), "-m", "bench.intent_accuracy", str(model)],
        cwd=PROJECT_ROOT,
        env=child_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    """Prints the accuracies of the model given on the command line as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", type=Path)
    print(json.dumps(asyncio.run(score(parser.parse_args().model))))


if __name__ == "__main__":
    main()
