"""Offline Malay detection."""

from __future__ import annotations

import pytest

from assistant.language import detect_language


@pytest.mark.parametrize(
    "message",
    [
        "boleh ke otot pulih balik?",
        "terima kasih",
        "saya nak buat temujanji",
        "otot kaki mak saya makin kurus, macam mana nak cegah",
        "berapa lama nak pulih",
        "hai",
    ],
)
def test_malay_messages(message: str) -> None:
    assert detect_language(message) == "ms"


@pytest.mark.parametrize(
    "message",
    [
        "what is muscle atrophy",
        "my legs so thin lah can recover or not",
        "how long does recovery take after a cast?",
        "ALS cause muscle wasting?",
        "ok",
    ],
)
def test_english_and_english_heavy_manglish(message: str) -> None:
    assert detect_language(message) == "en"


@pytest.mark.parametrize("message", ["/prevention", "", "👍", "123"])
def test_messages_without_words_keep_the_conversations_language(message: str) -> None:
    assert detect_language(message, previous="ms") == "ms"
    assert detect_language(message) == "en"
