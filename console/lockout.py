"""Lockout after repeated failed sign-ins, per account and client address.

Counting failures per account alone would let anyone lock every admin out by typing wrong
passwords on purpose. Here the failures of one address lock the account at that address
only: the outsider is stopped, and staff signing in from anywhere else are not.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Dict, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from console.schema import login_lockouts

ADDRESS_CHARS = 64
_table = login_lockouts.c


@dataclass(frozen=True)
class Lock:
    """An account's active lockouts: at how many addresses, and when the last one ends."""

    addresses: int
    until: float


def _pair(user_id: int, address: str) -> sa.sql.ColumnElement:
    return sa.and_(_table.user_id == user_id, _table.address == address[:ADDRESS_CHARS])


def is_locked(engine: Engine, user_id: int, address: str, now: Optional[float] = None) -> bool:
    """Whether the account refuses sign-ins from ``address`` (its client key) for now."""
    with engine.connect() as connection:
        until = connection.execute(sa.select(_table.locked_until).where(_pair(user_id, address))).scalar()
    return until is not None and until > (now or time.time())


def record_failure(
    engine: Engine, user_id: int, address: str, max_failures: int, lockout_seconds: float
) -> bool:
    """Counts a failed sign-in of the account from ``address``; returns whether it now locks.

    Failures count while each comes within ``lockout_seconds`` of the one before; the
    ``max_failures``-th locks the pair for ``lockout_seconds``.
    """
    now = time.time()
    fresh = _table.last_failure_at >= now - lockout_seconds
    count = sa.case((fresh, _table.failures + 1), else_=1)
    for _ in range(2):  # a second try when another thread inserted the same pair first
        try:
            with engine.begin() as connection:
                _forget_stale(connection, now, lockout_seconds)
                updated = connection.execute(
                    sa.update(login_lockouts)
                    .where(_pair(user_id, address))
                    .values(failures=count, last_failure_at=now)
                ).rowcount
                if not updated:
                    connection.execute(
                        sa.insert(login_lockouts).values(
                            user_id=user_id, address=address[:ADDRESS_CHARS], failures=1, last_failure_at=now
                        )
                    )
                failures = connection.execute(
                    sa.select(_table.failures).where(_pair(user_id, address))
                ).scalar_one()
                if failures < max_failures:
                    return False
                connection.execute(
                    sa.update(login_lockouts)
                    .where(_pair(user_id, address))
                    .values(failures=0, locked_until=now + lockout_seconds)
                )
                return True
        except IntegrityError:
            continue
    return False


def _forget_stale(connection: sa.engine.Connection, now: float, lockout_seconds: float) -> None:
    """Deletes pairs whose lockout has ended and whose failures no longer count."""
    connection.execute(
        sa.delete(login_lockouts).where(
            _table.last_failure_at < now - lockout_seconds,
            sa.or_(_table.locked_until.is_(None), _table.locked_until < now),
        )
    )


def clear(engine: Engine, user_id: int, address: str) -> None:
    """Forgets the failures of the account from ``address`` (after a good sign-in)."""
    with engine.begin() as connection:
        connection.execute(sa.delete(login_lockouts).where(_pair(user_id, address)))


def clear_user(engine: Engine, user_id: int) -> None:
    """Lifts every lockout of the account (an admin unlocks it, or sets its password)."""
    with engine.begin() as connection:
        connection.execute(sa.delete(login_lockouts).where(_table.user_id == user_id))


def active_locks(engine: Engine, now: Optional[float] = None) -> Dict[int, Lock]:
    """Returns, per locked account id, its active lockouts."""
    now = now or time.time()
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(_table.user_id, sa.func.count(), sa.func.max(_table.locked_until))
            .where(_table.locked_until > now)
            .group_by(_table.user_id)
        ).fetchall()
    return {int(user_id): Lock(addresses=int(count), until=float(until)) for user_id, count, until in rows}
