"""Bilingual wording around the quotes, read from ``messages.yml``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Dict

import yaml

from core.clinic import Clinic, get_clinic
from core.language import LANGUAGES

MESSAGES_FILE = Path(__file__).with_name("messages.yml")


@lru_cache(maxsize=1)
def _catalogue() -> Dict[str, Dict[str, str]]:
    catalogue = yaml.safe_load(MESSAGES_FILE.read_text(encoding="utf-8"))
    for key, variants in catalogue.items():
        if set(variants) != set(LANGUAGES):
            raise ValueError(f"Message {key} must have exactly {LANGUAGES}")
    return catalogue


def text(key: str, language: str, **values: str) -> str:
    """Returns message ``key`` in ``language`` (English if unknown), filled with values.

    Args:
        key: The message key in ``messages.yml``.
        language: ``en`` or ``ms``.
        **values: Placeholders used by the message.

    Returns:
        The filled message.

    """
    variants = _catalogue()[key]
    return variants.get(language, variants["en"]).format(**values)


def contact_lines(clinic: Clinic, language: str) -> str:
    """Returns the configured ways to reach the clinic, one per line."""
    lines = [text(f"contact_{name}", language, value=value) for name, value in clinic.contact_fields()]
    return "\n".join(lines) if lines else text("contact_none", language, clinic=clinic.name)


def with_contact(key: str, language: str) -> str:
    """Returns message ``key`` followed by the clinic's contact lines.

    The one builder of every reply that sends the patient to the clinic: "I can't answer
    that", "I can't look that up right now", booking, a person, out of scope.
    """
    clinic = get_clinic()
    return f"{text(key, language, clinic=clinic.name)}\n{contact_lines(clinic, language)}"
