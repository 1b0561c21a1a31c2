"""The Redis ticket lock against a real Redis: replicas racing for one conversation."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Iterator, List, Type

import pytest
from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from rasa_server.lock_store import AtomicRedisLockStore
from tooling.launcher import ServiceGroup, free_port
from tooling.redis_server import RedisService, redis_server
from tooling.running_bot import LOG_DIR

REPLICAS, TURNS = 8, 25
PATIENCE_S = 20


@pytest.fixture(scope="module")
def redis_service() -> Iterator[RedisService]:
    port = free_port()
    service = redis_server(port, LOG_DIR / f"redis-lock-{port}.log")
    with ServiceGroup([service]):
        yield service


def endpoint(service: RedisService) -> EndpointConfig:
    return EndpointConfig(
        url="127.0.0.1", type="rasa_server.lock_store.AtomicRedisLockStore", port=service.port, db=3
    )


def race(store_class: Type[RedisLockStore], service: RedisService, conversation: str) -> List[str]:
    """Each 'replica' (a thread with its own connection) handles TURNS messages of one conversation.

    Returns what went wrong: two holders at once, or a message that could not get the lock.
    """
    holders = 0
    counting = threading.Lock()
    problems: List[str] = []

    def replica() -> None:
        if store_class is AtomicRedisLockStore:
            store: RedisLockStore = AtomicRedisLockStore(endpoint(service))
        else:
            store = RedisLockStore(host="127.0.0.1", port=service.port, db=3)

        async def turns() -> None:
            nonlocal holders
            for _ in range(TURNS):
                try:
                    async with store.lock(conversation, lock_lifetime=5, wait_time_in_seconds=0.001):
                        with counting:
                            holders += 1
                            if holders > 1:
                                problems.append("two replicas held the lock at once")
                        await asyncio.sleep(0.001)
                        with counting:
                            holders -= 1
                except Exception as error:
                    problems.append(type(error).__name__)

        asyncio.run(turns())

    threads = [threading.Thread(target=replica, daemon=True) for _ in range(REPLICAS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + PATIENCE_S
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    stuck = sum(thread.is_alive() for thread in threads)
    return problems + [f"a replica still waiting after {PATIENCE_S} s"] * stuck


def test_racing_replicas_take_turns_and_every_message_gets_the_lock(redis_service: RedisService) -> None:
    assert race(AtomicRedisLockStore, redis_service, "atomic") == []


def test_the_race_is_real_for_rasas_own_redis_lock_store(redis_service: RedisService) -> None:
    """Why the atomic store exists: the same race breaks Rasa's read-modify-write store."""
    assert race(RedisLockStore, redis_service, "rasa") != []


def test_the_lock_is_gone_once_every_ticket_is_finished(redis_service: RedisService) -> None:
    store = AtomicRedisLockStore(endpoint(redis_service))
    first = store.issue_ticket("done", 30)
    second = store.issue_ticket("done", 30)
    assert second == first + 1
    store.cleanup("done", first)
    lock = store.get_lock("done")
    assert lock is not None and lock.now_serving == second
    store.cleanup("done", second)
    assert store.get_lock("done") is None
