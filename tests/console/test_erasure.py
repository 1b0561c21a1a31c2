"""A patient erases their conversation from the chat: gone from every table, others untouched (SQLite).

The session's real Rasa server, action server and console (whose indexer derives its
tables from the conversation). PostgreSQL: tests/console/test_postgres.py.
"""

from __future__ import annotations

import time
import uuid

import pytest

from core.database import make_engine
from tests.console.conftest import Console
from tests.console.erasure_support import (
    erase_through_the_chat,
    erasure_audits,
    indexed,
    rows_mentioning,
    say,
    wait_until,
)
from tooling.running_bot import RunningBot

pytestmark = pytest.mark.servers


def test_an_erased_conversation_leaves_no_row_and_the_others_stay(bot: RunningBot, console: Console) -> None:
    engine = make_engine(console.db_url)
    mine, other = f"erase-{uuid.uuid4().hex}", f"keep-{uuid.uuid4().hex}"
    secret, kept = f"zx{uuid.uuid4().hex[:10]}", f"kq{uuid.uuid4().hex[:10]}"
    say(bot, mine, f"my name is {secret} and my calf got thin after the cast")
    say(bot, mine, "what is muscle atrophy?")
    say(bot, other, f"I am {kept}, can muscle atrophy be reversed?")
    wait_until(lambda: indexed(engine, mine) and indexed(engine, other))
    other_rows = len(rows_mentioning(engine, other, kept))
    audits_before = len(erasure_audits(engine))

    erase_through_the_chat(bot, mine, "please delete my conversation", "/erase_confirmed", "en")
    assert rows_mentioning(engine, mine, secret) == []
    time.sleep(3)  # the console's indexer runs every 2 s: it must not bring anything back
    assert rows_mentioning(engine, mine, secret) == []
    assert len(rows_mentioning(engine, other, kept)) == other_rows
    audits = erasure_audits(engine)
    assert len(audits) == audits_before + 1 and audits[-1] == ("patient", "", "rest")
    # Writing again starts a new, empty conversation.
    assert "atrophy" in say(bot, mine, "what is muscle atrophy?").lower()
    engine.dispose()


def test_a_typed_yes_in_malay_confirms_and_a_no_keeps_everything(bot: RunningBot, console: Console) -> None:
    engine = make_engine(console.db_url)
    keep, erase = f"tidak-{uuid.uuid4().hex}", f"ya-{uuid.uuid4().hex}"
    for sender in (keep, erase):
        say(bot, sender, "apa itu atrofi otot?")
    assert "padam" in say(bot, keep, "padam perbualan saya").lower()
    say(bot, keep, "/deny")
    assert rows_mentioning(engine, keep) != []
    erase_through_the_chat(bot, erase, "tolong padam perbualan saya", "ya", "ms")
    assert rows_mentioning(engine, erase) == []
    engine.dispose()
