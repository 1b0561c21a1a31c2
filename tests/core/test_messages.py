"""The bilingual message catalogue."""

from __future__ import annotations

import string

from core import messages


def test_every_message_has_both_languages_with_the_same_placeholders() -> None:
    for key, variants in messages._catalogue().items():
        fields = {
            language: {name for _, name, _, _ in string.Formatter().parse(text) if name}
            for language, text in variants.items()
        }
        assert fields["en"] == fields["ms"], key
        assert all(text.strip() for text in variants.values()), key


def test_unknown_language_falls_back_to_english() -> None:
    assert messages.text("deny", "fr") == messages.text("deny", "en")


def test_emergency_says_999_first() -> None:
    for language in messages.LANGUAGES:
        first_sentence = messages.text("emergency", language).split(".")[0]
        assert "999" in first_sentence
