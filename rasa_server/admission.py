"""Admission control: at most ``MAX_CONCURRENT_MESSAGES`` messages in handling per Rasa server.

Rasa starts handling every message the moment it arrives. Its work is CPU-bound and
runs on one event loop, so with 200 patients typing at once the loop falls seconds
behind: every timer in the process fires late, and the action call's time limit
(``ACTION_TIMEOUT_S``) expired on answers that had in fact arrived, so patients got "I
can't look that up right now" from a healthy action server (found by ``make loadtest``).
Queueing the excess before handling keeps the loop responsive; throughput is unchanged
(the CPU was the limit anyway) and the waiting is fair (first come, first served).

The queue is bounded, in length (``MAX_WAITING_MESSAGES``) and in time
(``ADMISSION_WAIT_S``): past either, :class:`AssistantBusy` is raised before anything is
stored, and the channel answers "busy, try again" instead of leaving the patient waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, AsyncIterator, Optional

from rasa.core.agent import Agent

from core.settings import get_settings

_INSTALLED = "_assistant_admission"


class AssistantBusy(RuntimeError):
    """The message was not admitted (queue full or waited too long); nothing was stored."""


class Admission:
    """At most ``limit`` holders at once, ``max_waiting`` waiting at most ``max_wait_s`` each."""

    def __init__(self, limit: int, max_waiting: int, max_wait_s: float) -> None:
        """Plans the gate; its semaphore is made on the event loop of the first message."""
        self.limit, self.max_waiting, self.max_wait_s = limit, max_waiting, max_wait_s
        self.waiting = 0
        self._gate: Optional[asyncio.Semaphore] = None

    @contextlib.asynccontextmanager
    async def admitted(self) -> AsyncIterator[None]:
        """Holds a place while the block runs.

        Raises:
            AssistantBusy: If the queue is full or no place came free in time.

        """
        if self._gate is None:
            self._gate = asyncio.Semaphore(self.limit)
        if not self._gate.locked():
            await self._gate.acquire()  # a free place: taken without suspending
        elif self.waiting >= self.max_waiting:
            raise AssistantBusy("the admission queue is full")
        else:
            self.waiting += 1
            try:
                await asyncio.wait_for(self._gate.acquire(), self.max_wait_s)
            except asyncio.TimeoutError:
                raise AssistantBusy(f"no place within {self.max_wait_s:g} s") from None
            finally:
                self.waiting -= 1
        try:
            yield
        finally:
            self._gate.release()


def install() -> None:
    """Wraps ``Agent.handle_message`` in the admission gate (once per process)."""
    if getattr(Agent, _INSTALLED, False):
        return
    handle_message = Agent.handle_message
    settings = get_settings()
    gate = Admission(
        settings.rasa.max_concurrent_messages,
        settings.rasa.max_waiting_messages,
        settings.rasa.admission_wait_s,
    )

    async def handle_admitted(self: Agent, message: Any) -> Any:
        async with gate.admitted():
            return await handle_message(self, message)

    Agent.handle_message = handle_admitted  # type: ignore[method-assign]
    setattr(Agent, _INSTALLED, True)
