"""Clinic details: file values, environment overrides, unknown fields left out."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from core import messages
from core.clinic import load_clinic
from core.settings import get_settings


@pytest.fixture
def clinic_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "clinic.yml"
    path.write_text("name: Test Clinic\nwebsite: https://clinic.example\nphone: ''\naddress:\n")
    monkeypatch.setenv("CLINIC_CONFIG", str(path))
    for field in ("NAME", "PHONE", "WHATSAPP", "WEBSITE", "ADDRESS", "HOURS", "BOOKING_URL", "ARTICLE_URL"):
        monkeypatch.delenv(f"CLINIC_{field}", raising=False)
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def test_empty_fields_are_unknown_and_left_out(clinic_file: Path) -> None:
    clinic = load_clinic()
    assert clinic.name == "Test Clinic"
    assert clinic.phone is None and clinic.address is None
    assert clinic.contact_fields() == [("website", "https://clinic.example")]
    lines = messages.contact_lines(clinic, "en")
    assert lines == "Website: https://clinic.example"
    assert "None" not in lines and "{" not in lines


def test_environment_overrides_the_file(clinic_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLINIC_PHONE", "+60 3-0000 0000")
    monkeypatch.setenv("CLINIC_NAME", "Other Clinic")
    get_settings.cache_clear()
    clinic = load_clinic()
    assert clinic.name == "Other Clinic"
    assert ("phone", "+60 3-0000 0000") in clinic.contact_fields()
    assert "Telefon: +60 3-0000 0000" in messages.contact_lines(clinic, "ms")


def test_no_contact_at_all_still_says_something_true(clinic_file: Path) -> None:
    clinic_file.write_text("name: Bare Clinic\n")
    clinic = load_clinic()
    assert messages.contact_lines(clinic, "en") == "Please contact Bare Clinic directly."
