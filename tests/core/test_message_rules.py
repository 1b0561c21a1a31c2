"""Checks on what a client sends: the conversation id it chooses."""

from __future__ import annotations

import random
import uuid

import pytest

from core.message_rules import WHATSAPP_SENDER_PREFIX, RejectedMessage, clean_sender


@pytest.mark.parametrize(
    "sender",
    [
        f"{WHATSAPP_SENDER_PREFIX}3f2a9c",
        "WA-3f2a9c",
        "web-3f2a9c",
        "+60123456789",
        "60123456789",
        "012-345 6789".replace(" ", "-"),
        "tel:+60123456789",
        "whatsapp:+60123456789",
        "850412-14-5567",
        "siti@example.com",
        "siti.aminah@mail.example.my",
    ],
)
def test_ids_that_identify_a_patient_or_pose_as_whatsapp_are_refused(sender: str) -> None:
    with pytest.raises(RejectedMessage):
        clean_sender(sender)


@pytest.mark.parametrize(
    "sender",
    ["rest-pii", "pair-3", "cluster-42", "load-17-3", "s" * 128, "..", "-1", "NaN", "user@host", "wallet-7"],
)
def test_ordinary_ids_are_kept(sender: str) -> None:
    assert clean_sender(sender) == sender


def test_random_ids_are_never_mistaken_for_phone_numbers() -> None:
    draw = random.Random(7)
    ids = [str(uuid.UUID(int=draw.getrandbits(128))) for _ in range(20000)]
    ids += [identifier.replace("-", "") for identifier in ids]
    assert [identifier for identifier in ids if _refused(identifier)] == []


def _refused(sender: str) -> bool:
    try:
        clean_sender(sender)
    except RejectedMessage:
        return True
    return False
