"""The clinic's contact details: ``clinic.yml`` overridden by the environment."""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any, Dict, List, Optional, Tuple

import yaml

from core.settings import get_settings


@dataclass(frozen=True)
class Clinic:
    """Contact details; a field that is None is unknown and never shown."""

    name: str = "the clinic"
    website: Optional[str] = None
    phone: Optional[str] = None
    whatsapp: Optional[str] = None
    address: Optional[str] = None
    hours: Optional[str] = None
    booking_url: Optional[str] = None
    article_url: Optional[str] = None

    def contact_fields(self) -> List[Tuple[str, str]]:
        """Returns the (field, value) pairs a patient can use to reach the clinic."""
        order = ("phone", "whatsapp", "booking_url", "website", "address", "hours")
        return [(name, value) for name in order if (value := getattr(self, name))]


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
    known = {item.name for item in fields(Clinic)}
    values = {
        key: str(value).strip()
        for key, value in raw.items()
        if key in known and value is not None and str(value).strip()
    }
    return Clinic(**values)


@lru_cache(maxsize=1)
def get_clinic() -> Clinic:
    """Returns the configured clinic, read once per process."""
    return load_clinic()
