"""Rasa NLU files: where each set lives, and the one loader that evaluation, benchmarks and tests share.

Training reads every file in ``data/nlu``. Two kinds of set are never trained on: the written
sets (``tests/nlu_eval``, the blind one; ``tests/nlu_dev``, whose errors are read) and the
held-out splits of the real-question corpus (``tests/nlu_real``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple

from core.settings import PROJECT_ROOT

DATA_DIR = PROJECT_ROOT / "data"
TRAINING_DIR = DATA_DIR / "nlu"
PARAPHRASE_FILE = TRAINING_DIR / "real_paraphrases.yml"
SPLIT_FILES: Dict[str, Path] = {
    "train": TRAINING_DIR / "real_questions.yml",
    "dev": PROJECT_ROOT / "tests" / "nlu_real" / "dev.yml",
    "test": PROJECT_ROOT / "tests" / "nlu_real" / "test.yml",
}
HELD_OUT_SPLITS = ("dev", "test")
LANGUAGE_FILES = (("en", "english"), ("ms", "malay"))
EVALUATION_SETS: Dict[str, Dict[str, Path]] = {
    name: {language: PROJECT_ROOT / "tests" / folder / f"{stem}.yml" for language, stem in LANGUAGE_FILES}
    for name, folder in (("eval", "nlu_eval"), ("dev", "nlu_dev"))
}


def training_files() -> List[Path]:
    """The files Rasa trains on."""
    return sorted(TRAINING_DIR.glob("*.yml"))


def held_out_files() -> List[Path]:
    """Every file of a set never trained on: the written sets and the real corpus's held-out splits."""
    written = [path for files in EVALUATION_SETS.values() for path in files.values()]
    return [*written, *(SPLIT_FILES[split] for split in HELD_OUT_SPLITS)]


def nlu_examples(path: Path) -> List[Tuple[str, str]]:
    """Returns the (text, intent) pairs of a Rasa NLU YAML file, entity markup removed, as Rasa reads them."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(message.get("text"), message.get("intent")) for message in data.intent_examples]
