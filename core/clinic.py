"""The clinic's contact details: ``clinic.yml`` overridden by the environment."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict

import yaml

from core.settings import Clinic, get_settings

__all__ = ["Clinic", "get_clinic", "load_clinic"]


def load_clinic() -> Clinic:
    """Reads ``clinic.yml`` and applies environment overrides.

    Returns:
        The clinic, with empty values treated as unknown.

    """
    settings = get_settings()
    raw: Dict[str, Any] = {}
    if settings.clinic.config.exists():
        raw = yaml.safe_load(settings.clinic.config.read_text(encoding="utf-8")) or {}
    raw.update(settings.clinic.overrides())
    values = {
        key: str(value).strip()
        for key, value in raw.items()
        if key in Clinic.__fields__ and value is not None and str(value).strip()
    }
    return Clinic(**values)


@lru_cache(maxsize=1)
def get_clinic() -> Clinic:
    """Returns the configured clinic, read once per process."""
    return load_clinic()
