"""The queue of requests for a person: asking, taking (one person at a time), handing back, timing out.

Every change of state is one conditional UPDATE, so two members of staff (or two Rasa
replicas timing out requests) can never both win: the loser sees who has it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, List, Optional, Tuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from handoff.schema import presence, requests

WAITING, TAKEN, RETURNED, TIMED_OUT, EXPIRED = "waiting", "taken", "returned", "timed_out", "expired"
OPEN_STATES = (WAITING, TAKEN)


class HandoffError(RuntimeError):
    """A change of state that is not possible now; the message says why, for staff."""


@dataclass(frozen=True)
class HandoffRequest:
    """One request for a person."""

    id: int
    sender_id: str
    channel: str
    language: str
    topic: Optional[str]
    requested_at: float
    state: str
    paused: bool
    staff_username: Optional[str]
    staff_name: Optional[str]
    taken_at: Optional[float]
    first_reply_at: Optional[float]
    ended_at: Optional[float]
    alert_at: Optional[float]

    @property
    def is_open(self) -> bool:
        """Whether it is waiting or taken."""
        return self.state in OPEN_STATES


def _request(row: Any) -> HandoffRequest:
    return HandoffRequest(**{name: row._mapping[name] for name in HandoffRequest.__dataclass_fields__})


def _open_for(connection: Connection, sender_id: str) -> Optional[HandoffRequest]:
    row = connection.execute(
        sa.select(requests)
        .where(requests.c.sender_id == sender_id, requests.c.state.in_(OPEN_STATES))
        .order_by(requests.c.id.desc())
    ).first()
    return _request(row) if row else None


def open_request(engine: Engine, sender_id: str) -> Optional[HandoffRequest]:
    """Returns the conversation's waiting or taken request, if any."""
    with engine.connect() as connection:
        return _open_for(connection, sender_id)


def get(engine: Engine, request_id: int) -> Optional[HandoffRequest]:
    """Returns one request by id."""
    with engine.connect() as connection:
        row = connection.execute(sa.select(requests).where(requests.c.id == request_id)).first()
    return _request(row) if row else None


def enqueue(
    engine: Engine,
    sender_id: str,
    channel: str,
    language: str,
    topic: Optional[str],
    paused: bool,
    now: float,
    timezone: str,
) -> Tuple[HandoffRequest, int]:
    """Adds a request (or keeps the conversation's open one); returns it and its place in the queue."""
    with engine.begin() as connection:
        existing = _open_for(connection, sender_id)
        if existing is None:
            day = datetime.fromtimestamp(now, ZoneInfo(timezone)).date()
            new_id = connection.execute(
                sa.insert(requests).values(
                    sender_id=sender_id,
                    channel=channel,
                    language=language,
                    topic=topic,
                    requested_at=now,
                    day=day,
                    state=WAITING,
                    paused=paused,
                )
            ).inserted_primary_key[0]
            existing = _request(connection.execute(sa.select(requests).where(requests.c.id == new_id)).one())
        elif paused and not existing.paused:
            connection.execute(sa.update(requests).where(requests.c.id == existing.id).values(paused=True))
        ahead = connection.execute(
            sa.select(sa.func.count())
            .select_from(requests)
            .where(requests.c.state == WAITING, requests.c.id <= existing.id)
        ).scalar_one()
    return existing, max(int(ahead), 1)


def queue(engine: Engine) -> List[HandoffRequest]:
    """Returns the open requests, the longest waiting first."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(requests).where(requests.c.state.in_(OPEN_STATES)).order_by(requests.c.requested_at)
        ).all()
    return [_request(row) for row in rows]


def take(engine: Engine, request_id: int, username: str, name: str, now: float) -> HandoffRequest:
    """Gives the waiting request to ``username``.

    Raises:
        HandoffError: If someone else has it, or it is no longer waiting.

    """
    with engine.begin() as connection:
        won = connection.execute(
            sa.update(requests)
            .where(requests.c.id == request_id, requests.c.state == WAITING)
            .values(state=TAKEN, staff_username=username, staff_name=name, taken_at=now, paused=True)
        ).rowcount
        row = connection.execute(sa.select(requests).where(requests.c.id == request_id)).first()
    if row is None:
        raise HandoffError("There is no such request.")
    request = _request(row)
    if not won:
        if request.state == TAKEN and request.staff_username != username:
            raise HandoffError(
                f"{request.staff_name or request.staff_username} has already taken this conversation."
            )
        if request.state != TAKEN:
            raise HandoffError("This request is no longer waiting.")
    return request


def untake(engine: Engine, request_id: int, username: str) -> None:
    """Puts a request ``username`` took back in the queue (the patient could not be told)."""
    with engine.begin() as connection:
        connection.execute(
            sa.update(requests)
            .where(
                requests.c.id == request_id, requests.c.state == TAKEN, requests.c.staff_username == username
            )
            .values(state=WAITING, staff_username=None, staff_name=None, taken_at=None)
        )


def held_by(engine: Engine, request_id: int, username: str) -> HandoffRequest:
    """Returns the request if ``username`` has it taken.

    Raises:
        HandoffError: If it is not taken by ``username``.

    """
    request = get(engine, request_id)
    if request is None or request.state != TAKEN:
        raise HandoffError("This conversation is not taken.")
    if request.staff_username != username:
        raise HandoffError(f"{request.staff_name or request.staff_username} has this conversation.")
    return request


def record_reply(engine: Engine, request_id: int, now: float) -> None:
    """Notes a staff reply (the first one ends the patient's wait)."""
    with engine.begin() as connection:
        connection.execute(
            sa.update(requests)
            .where(requests.c.id == request_id, requests.c.first_reply_at.is_(None))
            .values(first_reply_at=now)
        )


def hand_back(engine: Engine, request_id: int, username: str, now: float) -> HandoffRequest:
    """Ends ``username``'s takeover.

    Raises:
        HandoffError: If ``username`` does not have it.

    """
    request = held_by(engine, request_id, username)
    with engine.begin() as connection:
        connection.execute(
            sa.update(requests)
            .where(requests.c.id == request_id, requests.c.state == TAKEN)
            .values(state=RETURNED, ended_at=now)
        )
    return request


def claim_timed_out(engine: Engine, now: float, timeout_s: float, window_s: float) -> List[HandoffRequest]:
    """Ends the requests nobody took in time and returns those the assistant must resume.

    A paused request (someone was there when the patient asked) times out after
    ``timeout_s``; one left for staff to answer later expires with WhatsApp's window
    (``window_s``), silently, since nothing may be sent then. Each is claimed by one
    conditional update, so with several replicas exactly one resumes it.
    """
    with engine.connect() as connection:
        due = connection.execute(
            sa.select(requests).where(
                requests.c.state == WAITING,
                sa.or_(
                    sa.and_(requests.c.paused.is_(True), requests.c.requested_at < now - timeout_s),
                    sa.and_(requests.c.paused.is_(False), requests.c.requested_at < now - window_s),
                ),
            )
        ).all()
    claimed = []
    for row in due:
        request = _request(row)
        state = TIMED_OUT if request.paused else EXPIRED
        with engine.begin() as connection:
            won = connection.execute(
                sa.update(requests)
                .where(requests.c.id == request.id, requests.c.state == WAITING)
                .values(state=state, ended_at=now)
            ).rowcount
        if won and request.paused:
            claimed.append(request)
    return claimed


def raise_alert(engine: Engine, sender_id: str, now: float) -> bool:
    """Marks the conversation's open request with a red-flag alert; False when it has none."""
    with engine.begin() as connection:
        return bool(
            connection.execute(
                sa.update(requests)
                .where(requests.c.sender_id == sender_id, requests.c.state.in_(OPEN_STATES))
                .values(alert_at=now)
            ).rowcount
        )


def set_presence(engine: Engine, username: str, available: bool, now: float) -> None:
    """Marks ``username`` available or away."""
    with engine.begin() as connection:
        updated = connection.execute(
            sa.update(presence)
            .where(presence.c.username == username)
            .values(available=available, seen_at=now)
        ).rowcount
        if not updated:
            connection.execute(
                sa.insert(presence).values(username=username, available=available, seen_at=now)
            )


def seen(engine: Engine, username: str, now: float) -> bool:
    """Notes that ``username``'s console is open; returns whether they are marked available."""
    with engine.begin() as connection:
        connection.execute(sa.update(presence).where(presence.c.username == username).values(seen_at=now))
        row = connection.execute(
            sa.select(presence.c.available).where(presence.c.username == username)
        ).first()
    return bool(row and row.available)


def available_staff(engine: Engine, now: float, presence_seconds: float) -> int:
    """Returns how many staff are marked available and were seen in the console recently."""
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.select(sa.func.count())
                .select_from(presence)
                .where(presence.c.available.is_(True), presence.c.seen_at >= now - presence_seconds)
            ).scalar_one()
        )


def forget_sender(engine: Engine, sender_id: str) -> None:
    """Deletes a conversation's requests (retention or erasure)."""
    with engine.begin() as connection:
        connection.execute(sa.delete(requests).where(requests.c.sender_id == sender_id))


def purge_before(engine: Engine, cutoff: float) -> int:
    """Deletes the closed requests made before ``cutoff`` (retention); returns how many."""
    with engine.begin() as connection:
        return int(
            connection.execute(
                sa.delete(requests).where(
                    requests.c.requested_at < cutoff, requests.c.state.notin_(OPEN_STATES)
                )
            ).rowcount
            or 0
        )
