"""Erasing a conversation through the chat, and looking for what is left of it in every table."""

from __future__ import annotations

import time
from typing import Any, List, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core import messages
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
