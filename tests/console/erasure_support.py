"""Erasing a conversation through the chat, and looking for what is left of it in every table."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any, List, Tuple

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from console.erasure import erase_sender
from console.index_batch import Batch
from console.indexer import Indexer
from core import messages
from core.database import make_engine
from tests.console.learning_support import Script, store
from tooling.running_bot import RunningBot

WAIT_S = 60.0


def say(bot: RunningBot, sender: str, text: str) -> str:
    """Sends ``text`` over REST and returns the replies' texts, joined."""
    return "\n".join(reply.get("text", "") for reply in bot.send(sender, text))


def erase_through_the_chat(bot: RunningBot, sender: str, ask: str, confirm: str, language: str) -> None:
    """Asks to erase, checks the confirmation question, confirms, checks the answer."""
    assert messages.text("erase_confirm", language) in say(bot, sender, ask)
    assert messages.text("erased", language) in say(bot, sender, confirm)


def rows_mentioning(engine: Engine, *needles: str) -> List[Tuple[str, Any]]:
    """Every row of every table in the database that contains one of ``needles``."""
    found = []
    metadata = sa.MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(sa.select(table)):
                text = " ".join(str(value) for value in row)
                if any(needle in text for needle in needles):
                    found.append((table.name, row))
    return found


def wait_until(check: Any, timeout: float = WAIT_S) -> None:
    """Waits until ``check()`` is true (the console indexes every 2 s)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def indexed(engine: Engine, sender: str) -> bool:
    """Whether the console's index has the sender's conversation."""
    with engine.connect() as connection:
        return bool(
            connection.execute(
                sa.text("SELECT 1 FROM console_conversations WHERE sender_id = :sender"), {"sender": sender}
            ).first()
        )


def erasure_audits(engine: Engine) -> List[Tuple[str, str, str]]:
    """The audit log's erasure entries: (username, target, detail)."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT username, target, detail FROM console_audit_log WHERE action = 'erasure'")
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def erase_one_of_two(bot: RunningBot, engine: Engine, ask: str) -> None:
    """Two patients; one erases through the chat: no row of any table keeps the sender or their
    words, the other keeps every row, and the audit log says an erasure happened (not whose)."""
    mine, other = f"erase-{uuid.uuid4().hex}", f"keep-{uuid.uuid4().hex}"
    secret, kept = f"zx{uuid.uuid4().hex[:10]}", f"kq{uuid.uuid4().hex[:10]}"
    say(bot, mine, f"my name is {secret} and my calf got thin after the cast")
    say(bot, mine, "what is muscle atrophy?")
    say(bot, other, f"I am {kept}, can muscle atrophy be reversed?")
    wait_until(lambda: indexed(engine, mine) and indexed(engine, other))
    other_rows = len(rows_mentioning(engine, other, kept))
    audits_before = len(erasure_audits(engine))

    erase_through_the_chat(bot, mine, ask, "/erase_confirmed", "en")
    assert rows_mentioning(engine, mine, secret) == []
    time.sleep(3)  # the console's indexer runs every 2 s: it must not bring anything back
    assert rows_mentioning(engine, mine, secret) == []
    assert len(rows_mentioning(engine, other, kept)) == other_rows
    audits = erasure_audits(engine)
    assert len(audits) == audits_before + 1 and audits[-1] == ("patient", "", "rest")
    # Writing again starts a new, empty conversation.
    assert "atrophy" in say(bot, mine, "what is muscle atrophy?").lower()


def erase_during_an_index_batch(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The console's indexer has read a conversation's events and is writing its rows when the
    patient's erasure comes: the erasure waits for the batch, and no row of it is left after."""
    mine, other = f"erase-{uuid.uuid4().hex}", f"keep-{uuid.uuid4().hex}"
    secret, kept = f"zx{uuid.uuid4().hex[:10]}", f"kq{uuid.uuid4().hex[:10]}"
    answered = ("disuse_atrophy", "action_answer_topic")
    store(
        url,
        {
            mine: Script()
            .say(f"my calf got thin after the cast, {secret}", *answered, topic=answered[0])
            .events,
            other: Script().say(f"my arm got thin in the sling, {kept}", *answered, topic=answered[0]).events,
        },
    )
    engine = make_engine(url)
    writing, release = threading.Event(), threading.Event()
    flush = Batch.flush

    def flush_then_pause(batch: Batch) -> None:
        flush(batch)  # the rows are written, the batch's transaction is not committed yet
        writing.set()
        release.wait(WAIT_S)

    monkeypatch.setattr(Batch, "flush", flush_then_pause)
    indexing = threading.Thread(target=Indexer(engine, 0.6).catch_up, kwargs={"budget": WAIT_S})
    indexing.start()
    assert writing.wait(WAIT_S)
    erasing = threading.Thread(target=erase_sender, args=(engine, mine))
    erasing.start()
    erasing.join(1.0)
    waited_for_the_batch = erasing.is_alive()
    release.set()
    indexing.join(WAIT_S)
    erasing.join(WAIT_S)
    try:
        assert not indexing.is_alive() and not erasing.is_alive()
        assert waited_for_the_batch
        assert rows_mentioning(engine, mine, secret) == []
        assert {table for table, _ in rows_mentioning(engine, other, kept)} >= {"events", "console_messages"}
    finally:
        engine.dispose()
