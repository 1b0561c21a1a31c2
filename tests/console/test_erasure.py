"""A patient erases their conversation from the chat: gone from every table, others untouched (SQLite).

The session's real Rasa server, action server and console (whose indexer derives its
tables from the conversation). PostgreSQL: tests/console/test_postgres.py.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from core.database import make_engine
from tests.console.conftest import Console
from tests.console.erasure_support import (
    erase_during_an_index_batch,
    erase_one_of_two,
    erase_through_the_chat,
    rows_mentioning,
    say,
)
from tooling.running_bot import RunningBot

pytestmark = pytest.mark.servers


def test_an_erased_conversation_leaves_no_row_and_the_others_stay(bot: RunningBot, console: Console) -> None:
    engine = make_engine(console.db_url)
    erase_one_of_two(bot, engine, "please delete my conversation")
    engine.dispose()


def test_an_erasure_waits_for_an_index_batch_in_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    erase_during_an_index_batch(f"sqlite:///{tmp_path / 'tracker.db'}", monkeypatch)


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
