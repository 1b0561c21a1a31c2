"""The model comparison's command line: a missing model is named, with no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from core.settings import PROJECT_ROOT


def test_a_missing_model_is_named_without_a_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "old.tar.gz"

    run = subprocess.run(
        [sys.executable, "-m", "scripts.compare_models", str(missing)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip

    assert run.returncode == 2
    assert f"no model at {missing}" in run.stderr
    assert "Traceback" not in run.stderr
