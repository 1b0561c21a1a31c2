"""The admission gate: a bounded queue in length and in time."""

from __future__ import annotations

import asyncio
from typing import List

import pytest

from rasa_server.admission import Admission, AssistantBusy


async def hold(gate: Admission, release: asyncio.Event, log: List[str], name: str) -> None:
    try:
        async with gate.admitted():
            log.append(f"{name} in")
            await release.wait()
    except AssistantBusy:
        log.append(f"{name} busy")


def test_past_the_waiting_limit_a_message_is_refused_at_once() -> None:
    async def scenario() -> List[str]:
        gate, release, log = Admission(limit=1, max_waiting=1, max_wait_s=30), asyncio.Event(), list[str]()
        tasks = [asyncio.create_task(hold(gate, release, log, name)) for name in ("a", "b", "c")]
        await asyncio.sleep(0.05)
        release.set()
        await asyncio.gather(*tasks)
        return log

    assert asyncio.run(scenario()) == ["a in", "c busy", "b in"]


def test_a_message_that_waits_too_long_is_refused_and_frees_its_place() -> None:
    async def scenario() -> List[str]:
        gate, release, log = Admission(limit=1, max_waiting=1, max_wait_s=0.1), asyncio.Event(), list[str]()
        first = asyncio.create_task(hold(gate, release, log, "a"))
        await asyncio.sleep(0.01)
        await hold(gate, release, log, "b")
        release.set()
        await first
        await hold(gate, release, log, "c")
        return log

    assert asyncio.run(scenario()) == ["a in", "b busy", "c in"]
    assert Admission(1, 1, 0.1).waiting == 0


@pytest.mark.parametrize("limit", [1, 3])
def test_no_more_than_the_limit_run_at_once(limit: int) -> None:
    async def scenario() -> int:
        gate, running, most = Admission(limit=limit, max_waiting=50, max_wait_s=30), 0, 0

        async def one() -> None:
            nonlocal running, most
            async with gate.admitted():
                running += 1
                most = max(most, running)
                await asyncio.sleep(0.01)
                running -= 1

        await asyncio.gather(*(one() for _ in range(20)))
        return most

    assert asyncio.run(scenario()) == limit
