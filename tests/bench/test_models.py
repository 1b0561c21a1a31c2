"""The benchmark's training step: a training that runs out of time says so, and caches nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import models
from core.settings import PROJECT_ROOT


def test_a_training_that_runs_out_of_time_stops_with_a_clear_message(tmp_path: Path) -> None:
    # A config of its own, so that no cached model answers for it.
    config = tmp_path / "config.yml"
    config.write_text((PROJECT_ROOT / "config.yml").read_text() + f"\n# {tmp_path.name}\n")
    log = tmp_path / "train.log"
    with pytest.raises(SystemExit) as stopped:
        models.train("timing-out", config, log, timeout=1.0)
    assert f"training took longer than {1 / 3600:g} h and was stopped" in str(stopped.value)
    assert str(log) in str(stopped.value) and "--train-timeout-hours" in str(stopped.value)
    assert not list(models.CACHE_DIR.glob("timing-out-*"))
