"""Meta's reply buttons: the rating goes in a message of its own only when it does not fit."""

from __future__ import annotations

from typing import List

from actions.answers import rating_buttons
from actions.common import topic_buttons
from channels.whatsapp_cloud_format import MAX_REPLY_BUTTONS, interactive_message, separate_rating
from channels.whatsapp_text import Button
from core.knowledge import get_knowledge


def payloads(buttons: List[Button]) -> List[str]:
    return [str(button["payload"]) for button in buttons]


def test_next_topics_and_the_rating_become_two_sets_of_reply_buttons() -> None:
    topic = get_knowledge().topics["reversibility"]
    next_topics = topic_buttons(topic.related, "en")
    rating = rating_buttons(topic.id, "en")
    others, separate = separate_rating(next_topics + rating)
    assert payloads(others) == payloads(next_topics)
    assert payloads(separate) == payloads(rating)
    for buttons in (others, separate):
        message = interactive_message("Read more?", buttons, "en")
        assert message is not None and message["type"] == "button"
        assert len(message["action"]["buttons"]) <= MAX_REPLY_BUTTONS


def test_buttons_that_fit_together_stay_together() -> None:
    one_topic = topic_buttons(["about_clinic"], "en")
    rating = rating_buttons("reversibility", "en")
    assert separate_rating(one_topic + rating) == (one_topic + rating, [])


def test_without_a_rating_nothing_is_separated() -> None:
    many = topic_buttons(list(get_knowledge().topics)[:6], "ms")
    assert separate_rating(many) == (many, [])
    only_rating = rating_buttons("recovery_time", "ms")
    assert separate_rating(only_rating) == (only_rating, [])
