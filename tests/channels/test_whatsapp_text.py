"""Shaping messages for WhatsApp, reading Meta's notifications, ids and duplicates."""

from __future__ import annotations

import json

import pytest

from channels.whatsapp_cloud_format import (
    BODY_MAX,
    Inbound,
    inbound_messages,
    interactive_message,
)
from channels.whatsapp_common import RecentIds, sender_id
from channels.whatsapp_text import chosen_payload, numbered_options, offered_payload, split_text
from core import messages
from core.redaction import scrub_digit_runs

BUTTONS = [
    {"title": "Recovery time", "payload": "/recovery_time"},
    {"title": "Physical therapy", "payload": "/physical_therapy"},
    {"title": "How physiotherapy helps", "payload": "/physiotherapy_role"},
]


def paragraph(n: int, length: int) -> str:
    words = f"Paragraph {n} says something. " * length
    return words[:length].strip()


def test_short_text_is_one_message() -> None:
    assert split_text("  One paragraph.\n\nAnother.  ", 1600) == ["One paragraph.\n\nAnother."]
    assert split_text("   ", 1600) == []


def test_long_text_is_split_between_paragraphs_which_share_messages_when_they_fit() -> None:
    paragraphs = [paragraph(n, 700) for n in range(5)]
    text = "\n\n".join(paragraphs)
    pieces = split_text(text, 1600)
    assert all(len(piece) <= 1600 for piece in pieces)
    assert pieces == ["\n\n".join(paragraphs[0:2]), "\n\n".join(paragraphs[2:4]), paragraphs[4]]
    assert "\n\n".join(pieces) == text


def test_a_paragraph_longer_than_the_limit_is_cut_after_a_sentence() -> None:
    sentences = [f"Sentence number {n} is here." for n in range(200)]
    text = " ".join(sentences)
    pieces = split_text(text, 1600)
    assert len(pieces) > 1 and all(len(piece) <= 1600 for piece in pieces)
    assert all(piece.endswith(".") for piece in pieces)
    assert " ".join(pieces) == text


def test_a_run_without_spaces_is_cut_at_the_limit() -> None:
    assert split_text("x" * 4100, 4096) == ["x" * 4096, "x" * 4]


def test_numbered_options_list_the_titles_and_say_how_to_choose() -> None:
    text = numbered_options("Related topics:", BUTTONS)
    assert text.splitlines()[:5] == [
        "Related topics:",
        "",
        "1. Recovery time",
        "2. Physical therapy",
        "3. How physiotherapy helps",
    ]
    assert text.endswith(messages.text("whatsapp_reply_with_number", "en"))
    malay = [{"title": "Masa pemulihan", "payload": "/recovery_time"}]
    hint = messages.text("whatsapp_reply_with_number", "ms")
    assert numbered_options("Ini maklumat umum daripada artikel klinik, bukan diagnosis.", malay).endswith(
        hint
    )


@pytest.mark.parametrize(
    ("reply", "payload"),
    [
        ("1", "/recovery_time"),
        (" 2. ", "/physical_therapy"),
        ("3)", "/physiotherapy_role"),
        ("physical THERAPY", "/physical_therapy"),
        ("How physiotherapy helps?", "/physiotherapy_role"),
        ("4", None),
        ("0", None),
        ("tell me about surgery", None),
        ("", None),
    ],
)
def test_a_reply_chooses_by_number_or_title(reply: str, payload: str | None) -> None:
    assert chosen_payload(reply, BUTTONS) == payload


def test_nothing_is_chosen_when_nothing_was_offered() -> None:
    assert chosen_payload("1", []) is None
    assert offered_payload("/surgery", BUTTONS) is None
    assert offered_payload("/recovery_time", BUTTONS) == "/recovery_time"


def test_sender_id_is_a_keyed_hash_of_the_digits() -> None:
    twilio = sender_id("whatsapp:+60 12-345 6789", "key")
    assert twilio == sender_id("60123456789", "key")
    assert twilio != sender_id("60123456789", "other key")
    assert twilio.startswith("wa-") and len(twilio) == 67
    assert "123456789" not in twilio


def test_recent_ids_forget_the_oldest() -> None:
    seen = RecentIds(size=2)
    assert seen.first_time("a") and seen.first_time("b")
    assert not seen.first_time("a")
    assert seen.first_time("c")
    assert seen.first_time("b")


def test_scrub_removes_numbers_from_log_text() -> None:
    assert "6012" not in scrub_digit_runs("POST failed for whatsapp:+60123456789 and 60 12-345 6789")


def _notification(*messages_: object, statuses: tuple = ()) -> dict:
    value = {"metadata": {"phone_number_id": "42"}, "messages": list(messages_), "statuses": list(statuses)}
    return json.loads(json.dumps({"entry": [{"changes": [{"value": value}]}]}))


def test_inbound_messages_reads_text_replies_and_unreadable_types() -> None:
    found = inbound_messages(
        _notification(
            {"from": "601", "id": "w1", "type": "text", "text": {"body": "hi"}},
            {
                "from": "601",
                "id": "w2",
                "type": "interactive",
                "interactive": {
                    "type": "button_reply",
                    "button_reply": {"id": "/surgery", "title": "Surgery"},
                },
            },
            {
                "from": "601",
                "id": "w3",
                "type": "interactive",
                "interactive": {
                    "type": "list_reply",
                    "list_reply": {"id": "/prevention", "title": "Prevention"},
                },
            },
            {"from": "601", "id": "w4", "type": "image", "image": {"id": "1"}},
            {"from": "601", "id": "w5", "type": "reaction", "reaction": {"emoji": "x"}},
            {"from": "601", "type": "text", "text": {"body": "no id"}},
            "not a message",
        )
    )
    assert found == [
        Inbound("w1", "601", "text", "hi", phone_number_id="42"),
        Inbound("w2", "601", "choice", "Surgery", "/surgery", phone_number_id="42"),
        Inbound("w3", "601", "choice", "Prevention", "/prevention", phone_number_id="42"),
        Inbound("w4", "601", "unreadable", phone_number_id="42"),
    ]
    assert "601" not in repr(found[0])


def test_statuses_and_malformed_notifications_have_no_messages() -> None:
    assert inbound_messages(_notification(statuses=({"id": "w1", "status": "read"},))) == []
    for malformed in (
        {},
        {"entry": "x"},
        {"entry": [{"changes": [None]}]},
        {"entry": [{"changes": [{"value": 1}]}]},
    ):
        assert inbound_messages(malformed) == []


def test_up_to_three_short_titles_become_reply_buttons() -> None:
    short = BUTTONS[:2]
    message = interactive_message("Related topics:", short, "en")
    assert message is not None and message["type"] == "button"
    assert message["action"]["buttons"][1] == {
        "type": "reply",
        "reply": {"id": "/physical_therapy", "title": "Physical therapy"},
    }


def test_longer_titles_or_more_options_become_a_list() -> None:
    message = interactive_message("Related topics:", BUTTONS, "en")
    assert message is not None and message["type"] == "list"
    assert message["action"]["button"] == messages.text("whatsapp_list_button", "en")
    rows = message["action"]["sections"][0]["rows"]
    assert [row["id"] for row in rows] == [button["payload"] for button in BUTTONS]
    long_title = "Chronic diseases and medications"
    single = interactive_message("Pick", [{"title": long_title, "payload": "/chronic_diseases"}], "en")
    assert single is not None
    [row] = single["action"]["sections"][0]["rows"]
    assert len(row["title"]) <= 24 and row["description"] == long_title


@pytest.mark.parametrize(
    ("body", "buttons"),
    [
        ("Pick", [{"title": f"Topic {n}", "payload": f"/t{n}"} for n in range(11)]),
        ("Pick", [{"title": "A", "payload": "/same"}, {"title": "B", "payload": "/same"}]),
        ("Pick", [{"title": "A", "payload": "/" + "x" * 300}, {"title": "B", "payload": "/b"}] * 1),
        ("Pick", [{"title": "", "payload": "/a"}]),
        ("", BUTTONS),
        ("x" * (BODY_MAX + 1), BUTTONS),
        ("Pick", []),
    ],
    ids=["eleven", "repeated-id", "long-id", "no-title", "no-body", "long-body", "none"],
)
def test_what_cannot_be_interactive_is_refused(body: str, buttons: list) -> None:
    assert interactive_message(body, buttons, "en") is None
