"""The shared record of WhatsApp message ids and handling before the webhook is answered."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from pathlib import Path
from typing import List

import pytest
import sqlalchemy as sa

from channels import whatsapp_common
from channels.whatsapp_common import Deliveries
from channels.whatsapp_duplicates import KEEP_S, PRUNE_EVERY_S, STALE_CLAIM_S, TABLE, SeenMessages


def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tracker.db'}"


def test_two_processes_sharing_the_database_claim_an_id_once(tmp_path: Path) -> None:
    first, second = SeenMessages("twilio", database(tmp_path)), SeenMessages("twilio", database(tmp_path))
    assert first.claim("msg-a")
    assert not second.claim("msg-a")
    first.finish("msg-a")
    assert not second.claim("msg-a")
    # Another provider's ids are its own.
    assert SeenMessages("whatsapp", database(tmp_path)).claim("msg-a")


def test_a_released_claim_is_handled_again_and_a_stale_one_taken_over(tmp_path: Path) -> None:
    seen = SeenMessages("twilio", database(tmp_path))
    assert seen.claim("msg-a", now=1000.0)
    seen.release("msg-a")
    assert seen.claim("msg-a", now=1001.0)
    # Its replica died mid-message: the claim is taken over once stale, never before.
    assert not seen.claim("msg-a", now=1001.0 + STALE_CLAIM_S - 1)
    assert seen.claim("msg-a", now=1002.0 + STALE_CLAIM_S)
    seen.finish("msg-a")
    assert not seen.claim("msg-a", now=2000.0 + STALE_CLAIM_S)


def test_only_the_keyed_hash_is_stored_and_old_rows_are_pruned(tmp_path: Path) -> None:
    seen = SeenMessages("whatsapp", database(tmp_path))
    assert seen.claim("msg-old", now=1000.0)
    seen.finish("msg-old")
    assert seen.claim("msg-new", now=1000.0 + KEEP_S + PRUNE_EVERY_S + 1)
    with sqlite3.connect(tmp_path / "tracker.db") as connection:
        rows = connection.execute(f"SELECT provider, message_hash FROM {TABLE}").fetchall()
    assert rows == [("whatsapp", "msg-new")]


def test_a_database_failure_is_raised_not_taken_for_a_first_delivery(tmp_path: Path) -> None:
    seen = SeenMessages("twilio", f"sqlite:///{tmp_path / 'missing' / 'tracker.db'}")
    with pytest.raises(sa.exc.SQLAlchemyError):
        seen.claim("msg-a")


async def apologise_into(apologies: List[str]) -> None:
    apologies.append("sorry")


def test_a_failed_message_answers_false_apologises_once_and_is_handled_on_retry(tmp_path: Path) -> None:
    deliveries = Deliveries("twilio", database(tmp_path))
    handled: List[str] = []
    apologies: List[str] = []

    async def failing() -> None:
        raise sa.exc.OperationalError("INSERT", {}, Exception("database is down"))

    async def working() -> None:
        handled.append("msg-a")

    async def scenario() -> List[bool]:
        sorry = functools.partial(apologise_into, apologies)
        results = [
            await deliveries.handle("msg-a", "wa-1", failing, sorry),
            await deliveries.handle("msg-a", "wa-1", failing, sorry),
            await deliveries.handle("msg-a", "wa-1", working, sorry),
            await deliveries.handle("msg-a", "wa-1", working, sorry),
        ]
        await deliveries.close()
        return results

    assert asyncio.run(scenario()) == [False, False, True, True]
    assert handled == ["msg-a"]
    assert apologies == ["sorry"]


def test_a_slow_message_is_acknowledged_in_time_and_finished_before_shutdown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(whatsapp_common, "HANDLE_WAIT_S", 0.1)
    deliveries = Deliveries("whatsapp", database(tmp_path))
    handled: List[str] = []

    async def slow() -> None:
        await asyncio.sleep(0.5)
        handled.append("msg-slow")

    async def nothing() -> None:
        return None

    async def scenario() -> bool:
        answered = await deliveries.handle("msg-slow", "wa-1", slow, nothing)
        assert handled == []
        await deliveries.close()
        return answered

    assert asyncio.run(scenario())
    assert handled == ["msg-slow"]
    assert not SeenMessages("whatsapp", database(tmp_path)).claim("msg-slow")
