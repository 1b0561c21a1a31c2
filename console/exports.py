"""Exports of the filtered conversations as CSV and JSONL.

CSV has one row per message, JSONL one conversation per line; both are streamed, so
thousands of conversations never sit in memory at once.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Dict, Iterator, List

from sqlalchemy.engine import Engine

from console.queries import Conversation, Filters, iter_conversations
from console.timeutil import local_time
from console.transcript import Turn, load_many

CSV_COLUMNS = [
    "conversation_id",
    "sender_id",
    "channel",
    "time",
    "speaker",
    "text",
    "intent",
    "confidence",
    "topic",
    "buttons",
    "conversation_flags",
]
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> str:
    """Returns ``value`` as a CSV cell that a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


_cell = spreadsheet_cell


def _iso(timestamp: float) -> str:
    return local_time(timestamp).isoformat(timespec="seconds")


def _csv_rows(conversation: Conversation, turns: List[Turn]) -> Iterator[List[Any]]:
    base = [conversation.id, conversation.sender_id, conversation.channel or ""]
    flags = " ".join(conversation.flags)
    for turn in turns:
        if turn.event_id is not None:
            confidence = f"{turn.confidence:.3f}" if turn.confidence is not None else ""
            clicked = turn.clicked.title if turn.clicked else ""
            yield [
                *base,
                _iso(turn.timestamp),
                "patient",
                turn.text,
                turn.intent,
                confidence,
                turn.topic,
                clicked,
                flags,
            ]
        for reply in turn.replies:
            buttons = " | ".join(button.title for button in reply.buttons)
            yield [*base, _iso(reply.timestamp), "assistant", reply.text, "", "", "", buttons, flags]


def csv_chunks(engine: Engine, filters: Filters) -> Iterator[str]:
    """Yields the CSV export piece by piece, header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for batch in iter_conversations(engine, filters):
        turns = load_many(engine, batch)
        for conversation in batch:
            for row in _csv_rows(conversation, turns[conversation.id]):
                writer.writerow([_cell(value) for value in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def conversation_record(conversation: Conversation, turns: List[Turn]) -> Dict[str, Any]:
    """Returns a conversation as a JSON-ready dict."""
    return {
        "conversation_id": conversation.id,
        "sender_id": conversation.sender_id,
        "channel": conversation.channel,
        "started_at": _iso(conversation.started_at),
        "last_at": _iso(conversation.last_at),
        "flags": list(conversation.flags),
        "topics": list(conversation.topics),
        "turns": [
            {
                "time": _iso(turn.timestamp),
                "user": turn.text,
                "intent": turn.intent,
                "confidence": turn.confidence,
                "topic": turn.topic,
                "clicked": turn.clicked.title if turn.clicked else None,
                "bot": [
                    {
                        "text": reply.text,
                        "buttons": [{"title": b.title, "payload": b.payload} for b in reply.buttons],
                    }
                    for reply in turn.replies
                ],
            }
            for turn in turns
        ],
    }


def jsonl_chunks(engine: Engine, filters: Filters) -> Iterator[str]:
    """Yields the JSONL export, one conversation per line."""
    for batch in iter_conversations(engine, filters):
        turns = load_many(engine, batch)
        yield "".join(
            json.dumps(conversation_record(conversation, turns[conversation.id]), ensure_ascii=False) + "\n"
            for conversation in batch
        )
