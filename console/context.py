"""What every console view needs (settings, database, indexer, sign-in limit, link to Rasa)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy.engine import Engine

from console.indexer import Indexer
from console.throttle import LoginThrottle
from core.settings import Settings
from handoff.staff_link import StaffLink


@dataclass
class ConsoleContext:
    """What every view needs: settings, the database, its indexer, the sign-in limit, the link to Rasa."""

    settings: Settings
    engine: Engine
    indexer: Indexer
    login_throttle: LoginThrottle
    # Where staff messages go (HANDOFF_RASA_URL): the Rasa server pauses, delivers, resumes.
    staff_link: StaffLink


def context() -> ConsoleContext:
    """Returns the running app's console context."""
    return current_app.extensions["console"]  # type: ignore[no-any-return]
