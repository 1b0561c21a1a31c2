"""What every console view needs (settings, database, indexer, sign-in limit), from the running app."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy.engine import Engine

from console.indexer import Indexer
from console.throttle import LoginThrottle
from core.settings import Settings


@dataclass
class ConsoleContext:
    """What every view needs: settings, the database, its indexer and the sign-in limit."""

    settings: Settings
    engine: Engine
    indexer: Indexer
    login_throttle: LoginThrottle


def context() -> ConsoleContext:
    """Returns the running app's console context."""
    return current_app.extensions["console"]  # type: ignore[no-any-return]
