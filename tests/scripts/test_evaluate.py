"""``make eval``: held-out texts stay off the terminal; a real split is scored after the written dev set;
a missing model is named, never replaced by another."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from core.settings import PROJECT_ROOT
from scripts.evaluate import scoring_order

PROBE = """
import structlog
from scripts.evaluate import quiet_logs
quiet_logs()
structlog.get_logger().debug("processor.message.parse", parse_data_text="a held-out question")
structlog.get_logger().warning("a warning stays")
"""


def test_debug_parse_logs_are_not_printed() -> None:
    # A child process: structlog's configuration is global and frozen on first use.
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    printed = result.stdout + result.stderr
    assert "a warning stays" in printed
    assert "a held-out question" not in printed


def test_a_real_split_is_scored_after_the_written_development_set() -> None:
    assert scoring_order(["real-dev"]) == ["dev", "real-dev"]
    assert scoring_order(["real-test", "dev", "real-dev"]) == ["dev", "real-test", "real-dev"]
    assert scoring_order(["dev", "eval", "real-dev", "real-test"]) == ["dev", "eval", "real-dev", "real-test"]


def test_written_sets_alone_are_scored_as_asked() -> None:
    assert scoring_order(["eval"]) == ["eval"]
    assert scoring_order(["eval", "eval"]) == ["eval"]


def test_a_missing_model_is_named_not_replaced_by_the_newest_beside_it(tmp_path: Path) -> None:
    # Rasa's loader, given a path that names no file, takes the newest model in its folder.
    (tmp_path / "other.tar.gz").write_bytes(b"not a model")
    missing = tmp_path / "candidate.tar.gz"

    run = subprocess.run(
        [sys.executable, "-m", "scripts.evaluate", "eval", "--model", str(missing), "--set", "eval"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip

    assert run.returncode == 2
    assert f"no model at {missing}" in run.stderr
    assert "Traceback" not in run.stderr
