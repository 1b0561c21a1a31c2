"""The conversation's language: from the text first, then the conversation's, then the page's."""

from __future__ import annotations

import asyncio
from typing import Any, Optional

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import conversation
from actions.common import conversation_language, likeliest
from tests.actions.conftest import make_tracker


def language(text: str, metadata: Any = None, slot: Optional[str] = None) -> str:
    return conversation_language(make_tracker("any", text, slots={"language": slot}, metadata=metadata))


@pytest.mark.parametrize("text", ["/greet", "ok", "hi", "👍", "/prevention"])
def test_the_malay_page_answers_a_message_without_language_in_malay(text: str) -> None:
    assert language(text, {"language": "ms"}) == "ms"
    assert language(text, {"language": "en"}) == "en"


def test_without_metadata_a_message_without_language_gets_english() -> None:
    assert language("/greet") == "en"
    assert language("ok", {}) == "en"


def test_the_text_decides_before_the_page() -> None:
    assert language("how long does it take to recover from muscle atrophy?", {"language": "ms"}) == "en"
    assert language("berapa lama otot boleh pulih?", {"language": "en"}) == "ms"


def test_the_conversations_language_wins_over_the_page() -> None:
    # A button under an English answer on the Malay page stays English.
    assert language("/recovery_time", {"language": "ms"}, slot="en") == "en"
    assert language("ok", {"language": "en"}, slot="ms") == "ms"


@pytest.mark.parametrize(
    "metadata",
    [
        {"language": "<script>"},
        {"language": "MS"},
        {"language": "ms" * 5000},
        {"language": ["ms"]},
        {"language": {"ms": 1}},
        {"language": None},
        {"lang": "ms"},
        ["ms"],
        "ms",
        '{"language": "ms"}',
        42,
    ],
    ids=lambda metadata: repr(metadata)[:30],
)
def test_metadata_naming_no_known_language_is_ignored(metadata: Any) -> None:
    assert language("/greet", metadata) == "en"
    assert language("ok", metadata, slot="ms") == "ms"


def test_the_greeting_on_the_malay_page_is_in_malay() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("greet", "/greet", metadata={"language": "ms"})
    events = asyncio.run(conversation.ActionGreet().run(dispatcher, tracker, {}))
    assert dispatcher.messages[0]["text"] == conversation.greeting("ms")
    assert {"event": "slot", "name": "language", "value": "ms", "timestamp": None} in events


def test_likeliest_lists_topics_only_best_first_and_at_most_the_limit() -> None:
    ranking = [("greet", 0.5), ("recovery_time", 0.2), ("reversibility", 0.3), ("prevention", 0.1)]
    topics = {"recovery_time", "reversibility", "prevention"}
    assert likeliest(ranking, topics) == ["reversibility", "recovery_time", "prevention"]
    assert likeliest(ranking, topics, limit=2) == ["reversibility", "recovery_time"]
