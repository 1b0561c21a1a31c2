"""What every console view needs (settings, the database, its indexer), read from the running app."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy.engine import Engine

from assistant.settings import Settings
from console.indexer import Indexer


@dataclass
class ConsoleContext:
    """What every view needs: settings, the database and its indexer."""

    settings: Settings
    engine: Engine
    indexer: Indexer


def context() -> ConsoleContext:
    """Returns the running app's console context."""
    return current_app.extensions["console"]  # type: ignore[no-any-return]
