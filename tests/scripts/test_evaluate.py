"""``make eval`` keeps the held-out texts off the terminal: Rasa's debug parse log is silenced."""

from __future__ import annotations

import subprocess
import sys

from core.settings import PROJECT_ROOT

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
