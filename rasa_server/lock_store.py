"""Rasa's Redis ticket lock, with every change of a lock made atomically.

Rasa's ``RedisLockStore`` changes a lock by reading it, changing it in Python and writing
it back. Two replicas that do so at the same moment overwrite each other: both issue the
same ticket and handle one conversation at once, or one deletes the other's ticket and
the waiting message fails with ``LockError`` (a 503 to the patient). Here each change runs
in a Redis transaction that watches the lock's key and starts again if another replica
changed it meanwhile (redis-py's ``Redis.transaction``).
"""

from __future__ import annotations

import json
from typing import Callable, Optional

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.client import Pipeline  # type: ignore[import-untyped]

# A change gets the stored lock (None when there is none) and returns what to store
# (None deletes the key) and what to hand back to the caller.
LockChange = Callable[[Optional[TicketLock]], "tuple[Optional[TicketLock], int]"]


class AtomicRedisLockStore(RedisLockStore):
    """``RedisLockStore`` whose ticket changes cannot overwrite another replica's."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        """Connects as Rasa's ``type: redis`` would, from the same endpoint settings."""
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)

    def _change(self, conversation_id: str, change: LockChange) -> int:
        """Applies ``change`` to the stored lock in one watched transaction; returns its result."""
        key = self.key_prefix + conversation_id

        def apply(pipe: Pipeline) -> int:
            stored = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(stored)) if stored else None
            new_lock, result = change(lock)
            pipe.multi()
            if new_lock is None:
                pipe.delete(key)
            else:
                pipe.set(key, new_lock.dumps())
            return result

        return int(self.red.transaction(apply, key, value_from_callable=True))

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Issues the next ticket of ``conversation_id``'s lock, creating the lock if needed."""

        def issue(lock: Optional[TicketLock]) -> tuple[Optional[TicketLock], int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, issue)
        except Exception as error:  # Rasa's contract: any failure here is a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        """Drops expired tickets of ``conversation_id``'s lock, if it still exists."""

        def drop_expired(lock: Optional[TicketLock]) -> tuple[Optional[TicketLock], int]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, 0

        self._change(conversation_id, drop_expired)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Removes ``ticket_number``; deletes the lock when nobody else holds a ticket."""

        def finish(lock: Optional[TicketLock]) -> tuple[Optional[TicketLock], int]:
            if lock is None:
                return None, 0
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else None), 0

        self._change(conversation_id, finish)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Finishes ``ticket_number`` (one transaction: no separate check-then-delete)."""
        self.finish_serving(conversation_id, ticket_number)
