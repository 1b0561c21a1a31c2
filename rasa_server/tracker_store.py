"""The SQL tracker store, loading a bounded window of each conversation.

Rasa's ``SQLTrackerStore`` rebuilds the whole conversation session for every message,
sends all of it to the action server and featurizes all of it, so a message costs more
the longer the conversation (a WhatsApp thread can last months). Every reply of this
assistant depends on the last few turns only, so this store loads the last
``TRACKER_WINDOW_EVENTS`` events, starting at a turn, behind a session start that
carries the slot values set earlier (and a pause, while a person has the conversation).
Everything is still stored: saving appends the
new events exactly as Rasa does, and nothing is ever deleted.

It also keeps the database connections healthy across a database restart (pre-ping)
and uses SQLite's write-ahead log, so readers (the staff console) never block the bot.

:func:`install` makes a database failure fail the message. Rasa wraps every tracker
store in a ``FailSafeTrackerStore`` which, when the database is down, starts an empty
conversation in memory and keeps it there: the patient gets an answer without context
and the exchange is never stored. With the hook, the channel sees the error (the REST
channel answers 503 and the message can be sent again once the database is back).
"""

from __future__ import annotations

import itertools
import json
import logging
from typing import Any, Dict, Iterator, List, Optional, Type

import sqlalchemy as sa
from rasa.core.agent import Agent
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore, TrackerStore, create_engine_kwargs
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    AllSlotsReset,
    ConversationPaused,
    ConversationResumed,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
)
from rasa.shared.core.trackers import DialogueStateTracker

from core.settings import get_settings

logger = logging.getLogger(__name__)

# Set on a tracker this store built: how many of its events are already in the database.
PERSISTED = "_assistant_persisted_events"


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """Write-ahead log, so readers never block the writer; fsync as configured.

    With ``NORMAL`` (the default) a commit survives a crash of the server but not
    necessarily a power cut; ``FULL`` survives both and costs an fsync per message.
    """
    synchronous = "FULL" if get_settings().rasa.sqlite_synchronous.upper() == "FULL" else "NORMAL"
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class WindowedSQLTrackerStore(SQLTrackerStore):
    """An ``SQLTrackerStore`` whose trackers hold the recent events of the session only."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Connects like ``SQLTrackerStore``, then swaps in a pre-pinging engine."""
        super().__init__(*args, **kwargs)
        self.engine: sa.engine.Engine
        self.window = get_settings().rasa.tracker_window_events
        url = self.engine.url
        self.engine.dispose()
        options: Dict[str, Any] = {**create_engine_kwargs(url), "pool_pre_ping": True}
        if url.get_backend_name() == "sqlite":
            # SQLAlchemy 1.4 opens and closes an SQLite file per session (NullPool); closing
            # the last connection checkpoints the write-ahead log, every message. A pool
            # keeps connections open (the server's event loop is the only thread using them).
            options["poolclass"] = sa.pool.QueuePool
            options["connect_args"] = {"timeout": 10, "check_same_thread": False}
        self.engine = sa.create_engine(url, **options)
        if url.get_backend_name() == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """Returns the tracker of the latest session, its last ``window`` events at most."""
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
            # One row more than the window tells whether the session goes back further.
            rows = query.order_by(None).order_by(self.SQLEvent.id.desc()).limit(self.window + 1).all()
            rows.reverse()
            if not rows:
                return None
            events: List[Dict[str, Any]] = []
            if len(rows) > self.window:
                rows = _from_first_turn(rows[1:])
                events = self._carried_over(session, sender_id, rows[0].id, rows[0].timestamp)
            events.extend(json.loads(row.data) for row in rows)
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        setattr(tracker, PERSISTED, len(tracker.events))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Appends the tracker's new events, as ``SQLTrackerStore`` does."""
        await super().save(tracker)
        setattr(tracker, PERSISTED, len(tracker.events))

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        """Returns the events added since this store built or saved ``tracker``."""
        persisted = getattr(tracker, PERSISTED, None)
        if persisted is None:
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, persisted, len(tracker.events))

    def _carried_over(
        self, session: Any, sender_id: str, first_id: int, timestamp: float
    ) -> List[Dict[str, Any]]:
        """Returns a session start setting every slot to its value before ``first_id``.

        Only slot events after the session's last restart or slot reset count; a pause still
        in force before ``first_id`` follows them.
        """
        in_session = self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
        in_session = in_session.order_by(None).filter(self.SQLEvent.id < first_id)
        reset = in_session.filter(
            self.SQLEvent.type_name.in_([Restarted.type_name, AllSlotsReset.type_name])
        ).with_entities(sa.func.max(self.SQLEvent.id))
        reset_id = reset.scalar() or 0
        latest_ids = (
            in_session.filter(self.SQLEvent.type_name == SlotSet.type_name, self.SQLEvent.id > reset_id)
            .with_entities(sa.func.max(self.SQLEvent.id))
            .group_by(self.SQLEvent.action_name)
        )
        slots = session.query(self.SQLEvent).filter(self.SQLEvent.id.in_(latest_ids.subquery().select()))
        carried = [json.loads(row.data) for row in slots.order_by(self.SQLEvent.id).all()]
        start = [
            ActionExecuted(ACTION_SESSION_START_NAME, timestamp=timestamp).as_dict(),
            SessionStarted(timestamp=timestamp).as_dict(),
        ]
        return [
            *start,
            *({**slot, "timestamp": timestamp} for slot in carried),
            *self._pause(in_session, timestamp),
        ]

    def _pause(self, in_session: Any, timestamp: float) -> List[Dict[str, Any]]:
        """Returns a pause when the conversation is paused before the window, else nothing.

        A person's takeover outlasts the window (staff messages are events too): the
        conversation must stay paused, or the assistant would answer over the person. A
        restart ends a pause, as a resume does.
        """
        switches = (ConversationPaused.type_name, ConversationResumed.type_name, Restarted.type_name)
        last = (
            in_session.filter(self.SQLEvent.type_name.in_(switches)).order_by(self.SQLEvent.id.desc()).first()
        )
        if last is None or last.type_name != ConversationPaused.type_name:
            return []
        return [ConversationPaused(timestamp=timestamp).as_dict()]


def _from_first_turn(rows: List[Any]) -> List[Any]:
    """Drops the rows before the first ``action_listen``, so the window starts at a turn."""
    for index, row in enumerate(rows):
        if row.type_name == ActionExecuted.type_name and row.action_name == ACTION_LISTEN_NAME:
            return rows[index:]
    return rows


def _raise(error: Exception) -> None:
    raise error


def _cache_event_types() -> None:
    """Remembers which class deserialises each event type.

    Rasa looks the class up by walking every subclass of ``Event`` for each event it
    loads (7% of a message's CPU time in the profile); the answer never changes.
    """
    resolve = Event.resolve_by_type
    classes: Dict[str, Type[Event]] = {}

    def resolve_cached(type_name: str, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
        found = classes.get(type_name)
        if found is None:
            found = resolve(type_name, default)
            if found is not None and found.type_name == type_name:
                classes[type_name] = found
        return found

    Event.resolve_by_type = staticmethod(resolve_cached)  # type: ignore[method-assign]


def install() -> None:
    """Makes the Rasa agent's tracker store raise database errors, and event loading cached.

    Once per process, by the Rasa server's entry point (rasa_server/serve.py).
    """
    if getattr(Agent, "_assistant_strict_store", False):
        return
    _cache_event_types()
    create = Agent._create_tracker_store

    def create_strict(store: Optional[TrackerStore], domain: Domain) -> TrackerStore:
        wrapped = create(store, domain)
        if isinstance(wrapped, FailSafeTrackerStore):
            wrapped._on_tracker_store_error = _raise
        return wrapped

    Agent._create_tracker_store = staticmethod(create_strict)  # type: ignore[method-assign]
    Agent._assistant_strict_store = True  # type: ignore[attr-defined]
