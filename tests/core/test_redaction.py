"""Redaction of NRIC, phone, e-mail, passport and card numbers as patients write them; numbers stay."""

from __future__ import annotations

import pytest

from core.redaction import redact
from tests.core.redaction_corpus import IDENTIFYING, ORDINARY, leaked


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("my ic is 850412-14-5567", "my ic is [nric]"),
        ("IC 850412145567 thanks", "IC [nric] thanks"),
        ("nric: 011231 10 1234", "nric: [nric]"),
        ("call me at 012-345 6789", "call me at [phone]"),
        ("call me at 0123456789 pls", "call me at [phone] pls"),
        ("my number +60 12-345 6789", "my number [phone]"),
        ("+60123456789", "[phone]"),
        ("011-2345 6789 is my whatsapp", "[phone] is my whatsapp"),
        ("office 03-2141 2345", "office [phone]"),
        ("uk number +44 20 7946 0958", "uk number [phone]"),
        ("singapore +65 6123 4567", "singapore [phone]"),
        ("0060 12 345 6789", "[phone]"),
        ("(03) 2141 2345", "[phone]"),
        ("email me: ali.bin.abu@gmail.com", "email me: [email]"),
        ("Siti_85@yahoo.com.my or 019-876 5432", "[email] or [phone]"),
        ("ic 900101-01-0001, phone 0198765432, mail a@b.co", "ic [nric], phone [phone], mail [email]"),
    ],
)
def test_identifiers_are_replaced(message: str, expected: str) -> None:
    assert redact(message) == expected


@pytest.mark.parametrize(
    "message",
    [
        "my legs got thin after 3 weeks in hospital",
        "my father is 65 years old",
        "he was in a cast from 12/03/2024 to 24/04/2024",
        "surgery on 2024-05-12",
        "i walk 10000 steps a day",
        "lost 5 kg in 2 months",
        "since 2019",
        "take 2 tablets 3 times a day",
        "room 1203, ward 7",
        "bp 120/80",
        "score 12 out of 100",
        "rm150 per session?",
        "ALS at age 45",
        "1. how can i prevent it",
        "version 3.6.21",
    ],
)
def test_ordinary_numbers_survive(message: str) -> None:
    assert redact(message) == message


def test_nothing_to_redact_is_unchanged() -> None:
    assert redact("") == ""
    assert redact("boleh ke otot pulih balik?") == "boleh ke otot pulih balik?"


def test_every_identifying_form_of_the_corpus_is_redacted() -> None:
    leaking = [message for message, secret in IDENTIFYING if leaked([redact(message)], [(message, secret)])]
    assert leaking == [], f"{len(leaking)} of {len(IDENTIFYING)} forms leak"
    assert len(IDENTIFYING) >= 300


def test_every_ordinary_message_with_numbers_is_unchanged() -> None:
    changed = [(message, redact(message)) for message in ORDINARY if redact(message) != message]
    assert changed == [], f"{len(changed)} of {len(ORDINARY)} ordinary messages changed"
    assert len(ORDINARY) >= 300


@pytest.mark.parametrize(
    "number",
    ["4111 1111 1111 1112", "1234 5678 9012 3456", "4242 4242 4242 4243"],
)
def test_a_long_number_that_fails_the_card_checksum_is_kept(number: str) -> None:
    assert redact(f"reference {number}") == f"reference {number}"


def test_text_is_normalised_before_matching() -> None:
    fullwidth = "".join(chr(0xFF10 + int(digit)) for digit in "0123456789")
    assert redact(f"call {fullwidth[:3]}\u2013{fullwidth[3:6]}\u00a0{fullwidth[6:]}") == "call [phone]"


def test_a_secret_is_read_within_one_stored_text_never_across_two() -> None:
    card = "3400 000000 00009"
    pairs = [(f"my card {card}", "340000000000009")]
    assert leaked([f"note: {card}."], pairs) == [f"my card {card}"]
    # Neighbouring values (a timestamp's end, zero confidences, a count) spell it only when glued.
    assert leaked(["1796085634", "0.0", "0.0000", "000000", "9"], pairs) == []
