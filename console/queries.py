"""Finding conversations: the filters staff use, as bound SQL over the console's tables."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from console.schema import conversation_topics, conversations, messages
from core.vocabulary import FLAGS as CONVERSATION_FLAGS

c = conversations.c
# Filter name → (label, condition). "Fallback" covers low confidence too: both mean the
# assistant probably did not understand.
FLAGS: Dict[str, Tuple[str, ColumnElement]] = {
    "fallback": ("Fallback / low confidence", sa.or_(c.fallback, c.low_confidence)),
    "out_of_scope": ("Out of scope", c.out_of_scope),
    "emergency": ("Emergency", c.emergency),
    "handoff": ("Booking / human requested", sa.or_(c.booking, c.human)),
}
MAX_TEXT = 200
PER_PAGE = 50


def like_pattern(text: str) -> str:
    """Returns a LIKE pattern matching ``text`` anywhere, its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def clean_arg(value: Any, limit: int) -> str:
    """Returns a query argument as one line of printable text, at most ``limit`` characters.

    Control characters (a NUL byte, say) have no place in a filter, and PostgreSQL
    refuses NUL in text outright.
    """
    text = "".join(char if char.isprintable() else " " for char in str(value or ""))
    return " ".join(text.split())[:limit]


def _date(value: str, label: str, problems: List[str]) -> Optional[date]:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.append(f"Ignored the {label} date: use YYYY-MM-DD.")
        return None


@dataclass(frozen=True)
class Filters:
    """What staff filter the conversations list by; empty means no filter."""

    date_from: Optional[date] = None
    date_to: Optional[date] = None
    channel: str = ""
    topic: str = ""
    flags: Tuple[str, ...] = ()
    text: str = ""

    @classmethod
    def parse(cls, args: Any) -> Tuple[Filters, List[str]]:
        """Reads filters from query arguments (a werkzeug MultiDict).

        Returns:
            The filters, and messages about values that were ignored.

        """
        problems: List[str] = []
        flags = tuple(flag for flag in FLAGS if flag in args.getlist("flag"))
        unknown = [flag for flag in args.getlist("flag") if flag not in FLAGS]
        if unknown:
            problems.append("Ignored unknown flags.")
        text = clean_arg(args.get("q", ""), MAX_TEXT + 1)
        if len(text) > MAX_TEXT:
            problems.append(f"The search text was cut to {MAX_TEXT} characters.")
        return (
            cls(
                date_from=_date(clean_arg(args.get("from"), 32), "start", problems),
                date_to=_date(clean_arg(args.get("to"), 32), "end", problems),
                channel=clean_arg(args.get("channel"), 64),
                topic=clean_arg(args.get("topic"), 64),
                flags=flags,
                text=text[:MAX_TEXT],
            ),
            problems,
        )

    def as_args(self) -> Dict[str, Any]:
        """Returns the filters as query arguments (for links and exports)."""
        args: Dict[str, Any] = {}
        if self.date_from:
            args["from"] = self.date_from.isoformat()
        if self.date_to:
            args["to"] = self.date_to.isoformat()
        for key, value in (("channel", self.channel), ("topic", self.topic), ("q", self.text)):
            if value:
                args[key] = value
        if self.flags:
            args["flag"] = list(self.flags)
        return args

    def describe(self) -> str:
        """A one-line description for the audit log.

        A free-text search is noted, its text never: staff may search for a patient's name
        or phone number, and the audit log outlives the conversations it mentions.
        """
        args = self.as_args()
        searched = args.pop("q", None)
        parts = [
            f"{key}={','.join(value) if isinstance(value, list) else value}" for key, value in args.items()
        ]
        if searched:
            parts.append("text search (text not recorded)")
        return "; ".join(parts) or "all conversations"

    @property
    def active(self) -> bool:
        """Whether any filter is set."""
        return bool(self.as_args())

    def conditions(self) -> List[ColumnElement]:
        """Returns the SQL conditions (all values bound, never spliced into SQL)."""
        conditions: List[ColumnElement] = [c.user_messages > 0]
        if self.date_from:
            conditions.append(c.day >= self.date_from)
        if self.date_to:
            conditions.append(c.day <= self.date_to)
        if self.channel:
            conditions.append(c.channel == self.channel)
        if self.topic:
            conditions.append(
                sa.exists().where(
                    conversation_topics.c.conversation_id == c.id, conversation_topics.c.topic == self.topic
                )
            )
        conditions.extend(FLAGS[flag][1] for flag in self.flags)
        if self.text:
            pattern = like_pattern(self.text)
            in_messages = sa.exists().where(
                messages.c.conversation_id == c.id, messages.c.text.ilike(pattern, escape="\\")
            )
            conditions.append(sa.or_(in_messages, c.sender_id.ilike(pattern, escape="\\")))
        return conditions


@dataclass(frozen=True)
class Conversation:
    """One conversation session, as listed."""

    id: int
    sender_id: str
    channel: Optional[str]
    started_at: float
    last_at: float
    user_messages: int
    bot_messages: int
    language: Optional[str]
    first_message: Optional[str]
    first_event_id: int
    last_event_id: int
    flags: Tuple[str, ...]
    topics: Tuple[str, ...] = ()


def _conversation(row: Any, topics: Sequence[str] = ()) -> Conversation:
    return Conversation(
        id=row.id,
        sender_id=row.sender_id,
        channel=row.channel,
        started_at=row.started_at,
        last_at=row.last_at,
        user_messages=row.user_messages,
        bot_messages=row.bot_messages,
        language=row.language,
        first_message=row.first_message,
        first_event_id=row.first_event_id,
        last_event_id=row.last_event_id,
        flags=tuple(flag for flag in CONVERSATION_FLAGS if getattr(row, flag)),
        topics=tuple(topics),
    )


@dataclass(frozen=True)
class Page:
    """A page of conversations with the totals of everything that matched."""

    items: List[Conversation]
    page: int
    pages: int
    total: int
    total_messages: int
    flag_counts: Dict[str, int] = field(default_factory=dict)


def _topics_of(connection: sa.engine.Connection, ids: Sequence[int]) -> Dict[int, List[str]]:
    found: Dict[int, List[str]] = {conversation_id: [] for conversation_id in ids}
    if ids:
        rows = connection.execute(
            sa.select(conversation_topics.c.conversation_id, conversation_topics.c.topic)
            .where(conversation_topics.c.conversation_id.in_(ids))
            .order_by(conversation_topics.c.topic)
        )
        for conversation_id, topic in rows:
            found[conversation_id].append(topic)
    return found


def conversation_page(engine: Engine, filters: Filters, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """Returns the ``page``-th page of matching conversations, newest first, with counts."""
    conditions = filters.conditions()
    counters = [sa.func.count(), sa.func.coalesce(sa.func.sum(c.user_messages), 0)]
    counters += [sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0) for _, cond in FLAGS.values()]
    with engine.connect() as connection:
        totals = connection.execute(sa.select(*counters).where(*conditions)).one()
        total = int(totals[0])
        pages = max(1, math.ceil(total / per_page))
        page = min(max(1, page), pages)
        rows = connection.execute(
            sa.select(conversations)
            .where(*conditions)
            .order_by(c.started_at.desc(), c.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).fetchall()
        topics = _topics_of(connection, [row.id for row in rows])
    return Page(
        items=[_conversation(row, topics[row.id]) for row in rows],
        page=page,
        pages=pages,
        total=total,
        total_messages=int(totals[1]),
        flag_counts={flag: int(count) for flag, count in zip(FLAGS, totals[2:], strict=False)},
    )


def iter_conversations(engine: Engine, filters: Filters, chunk: int = 500) -> Iterator[List[Conversation]]:
    """Yields every matching conversation, newest first, in chunks (for exports)."""
    conditions = filters.conditions()
    offset = 0
    while True:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(conversations)
                .where(*conditions)
                .order_by(c.started_at.desc(), c.id.desc())
                .limit(chunk)
                .offset(offset)
            ).fetchall()
            topics = _topics_of(connection, [row.id for row in rows])
        if not rows:
            return
        yield [_conversation(row, topics[row.id]) for row in rows]
        offset += chunk


def get_conversation(engine: Engine, conversation_id: int) -> Optional[Conversation]:
    """Returns one conversation, or None."""
    with engine.connect() as connection:
        row = connection.execute(sa.select(conversations).where(c.id == conversation_id)).first()
        if row is None:
            return None
        return _conversation(row, _topics_of(connection, [row.id])[row.id])


def sender_sessions(engine: Engine, sender_id: str, limit: int = 20) -> List[Tuple[int, float]]:
    """Returns (id, start) of the sender's conversations, newest first."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(c.id, c.started_at)
            .where(c.sender_id == sender_id, c.user_messages > 0)
            .order_by(c.started_at.desc())
            .limit(limit)
        )
        return [(row.id, row.started_at) for row in rows]


def filter_options(engine: Engine) -> Mapping[str, List[str]]:
    """Returns the channels, topics and languages that occur, for the filter drop-downs."""
    with engine.connect() as connection:
        channels = connection.execute(
            sa.select(c.channel).where(c.channel.isnot(None)).distinct().order_by(c.channel)
        ).scalars()
        topics = connection.execute(
            sa.select(conversation_topics.c.topic).distinct().order_by(conversation_topics.c.topic)
        ).scalars()
        languages = connection.execute(
            sa.select(c.language).where(c.language.isnot(None)).distinct().order_by(c.language)
        ).scalars()
        return {"channels": list(channels), "topics": list(topics), "languages": list(languages)}
