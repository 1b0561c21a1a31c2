"""A fresh SQLite tracker database with the handoff tables, per test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.database import make_engine
from handoff.schema import ensure_schema


@pytest.fixture
def engine(tmp_path: Path) -> Any:
    engine = make_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    ensure_schema(engine)
    return engine
