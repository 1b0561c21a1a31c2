"""Trained models for the benchmark: the project's and stock Rasa's, cached by their inputs.

Stock Rasa is the configuration ``rasa init`` writes, read from the installed Rasa package
at run time (not copied into the repository), trained on the project's data and domain.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List

import rasa

from core.settings import PROJECT_ROOT, child_environment
from tooling.launcher import BIN_DIR

STOCK_TEMPLATE = Path(rasa.__file__).parent / "cli" / "initial_project"
CACHE_DIR = PROJECT_ROOT / "var" / "bench" / "models"


@dataclass(frozen=True)
class TrainedModel:
    """A model file and how long its training took (when it was trained, maybe earlier)."""

    name: str
    path: Path
    train_s: float


def training_inputs(config: Path) -> List[Path]:
    """Returns every file a model trained with ``config`` depends on."""
    data = sorted((PROJECT_ROOT / "data").rglob("*.yml"))
    spacy_meta = PROJECT_ROOT / "build" / "spacy_en" / "meta.json"
    extra = [spacy_meta] if spacy_meta.exists() and "SpacyNLP" in config.read_text() else []
    return [config, PROJECT_ROOT / "domain.yml", *data, *extra]


def fingerprint(paths: Iterable[Path]) -> str:
    """Returns a short hash of the files' names and contents, and Rasa's version."""
    digest = hashlib.sha256(rasa.__version__.encode())
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def stock_config(work_dir: Path) -> Path:
    """Writes the config ``rasa init`` generates into ``work_dir`` and returns its path.

    Rasa fills in its default pipeline and policies at training time, as for a new project.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    target = work_dir / "config.yml"
    target.write_text((STOCK_TEMPLATE / "config.yml").read_text())
    return target


def train(name: str, config: Path, log_path: Path, timeout: float) -> TrainedModel:
    """Returns the model for ``config``, training it only when its inputs changed.

    Args:
        name: ``ours`` or ``stock``: part of the cached file's name.
        config: The Rasa config file.
        log_path: Where the training output goes.
        timeout: Longest training allowed, in seconds.

    Raises:
        subprocess.CalledProcessError: If training fails.
        SystemExit: If training takes longer than ``timeout``, saying so.

    """
    key = f"{name}-{fingerprint(training_inputs(config))}"
    model_path = CACHE_DIR / f"{key}.tar.gz"
    record_path = CACHE_DIR / f"{key}.json"
    if model_path.exists() and record_path.exists():
        return TrainedModel(name, model_path, float(json.loads(record_path.read_text())["train_s"]))
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # The config file is copied because Rasa writes the defaults it filled in back into it;
    # Rasa's training cache is off so that the time measured is a full training.
    scratch = log_path.parent / f"{name}-config.yml"
    scratch.write_text(config.read_text())
    command = [
        str(BIN_DIR / "rasa"),
        "train",
        "--config",
        str(scratch),
        "--domain",
        "domain.yml",
        "--data",
        "data",
        "--out",
        str(CACHE_DIR),
        "--fixed-model-name",
        key,
    ]
    started = time.monotonic()
    with log_path.open("wb") as log:
        try:
            subprocess.run(
                command,
                cwd=PROJECT_ROOT,
                env=child_environment(RASA_MAX_CACHE_SIZE="0"),
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=True,
            )
        except subprocess.TimeoutExpired:
            raise SystemExit(
                f"{name}: training took longer than {timeout / 3600:g} h and was stopped (its log: "
                f"{log_path}); allow more with --train-timeout-hours"
            ) from None
    train_s = time.monotonic() - started
    record_path.write_text(json.dumps({"train_s": round(train_s, 1), "config": config.read_text()}))
    return TrainedModel(name, model_path, train_s)
