"""Offline Malay detection."""

from __future__ import annotations

import pytest
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from core import messages
from core.clinic import get_clinic
from core.language import detect_language, reply_language
from rasa_server.action_server_calls import unavailable_message


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


@pytest.mark.parametrize(
    ("text", "conversation", "metadata", "expected"),
    [
        ("kenapa otot saya mengecut", "en", {"language": "en"}, "ms"),  # the text decides
        ("why are my muscles shrinking", "ms", {"language": "ms"}, "en"),
        ("/greet", "ms", {"language": "en"}, "ms"),  # no words: the conversation's
        ("/greet", None, {"language": "ms"}, "ms"),  # nor a conversation yet: the page's
        ("ok", None, {"language": "fr"}, "en"),  # a language we do not speak is ignored
        ("", None, None, "en"),
    ],
)
def test_one_reply_language_rule(text: str, conversation: str, metadata: object, expected: str) -> None:
    assert reply_language(text, conversation, metadata) == expected


def test_the_action_server_apology_on_the_malay_page_is_in_malay() -> None:
    """It followed the text and the slot only, so the Malay page's first button got English."""
    greeting = UserUttered("/greet", metadata={"language": "ms"})
    tracker = DialogueStateTracker.from_events("page-ms", [greeting])
    intro = messages.text("action_unavailable", "ms", clinic=get_clinic().name)
    assert unavailable_message(tracker).split("\n")[0] == intro
