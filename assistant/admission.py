"""Admission control: at most ``MAX_CONCURRENT_MESSAGES`` messages in handling per Rasa server.

Rasa starts handling every message the moment it arrives. Its work is CPU-bound and
runs on one event loop, so with 200 patients typing at once the loop falls seconds
behind: every timer in the process fires late, and the action call's time limit
(``ACTION_TIMEOUT_S``) expired on answers that had in fact arrived, so patients got "I
can't look that up right now" from a healthy action server (found by ``make loadtest``).
Queueing the excess before handling keeps the loop responsive; throughput is unchanged
(the CPU was the limit anyway) and the waiting is fair (first come, first served).
"""

from __future__ import annotations

import asyncio
from typing import Any, Optional

from rasa.core.agent import Agent

from assistant.settings import get_settings

_INSTALLED = "_assistant_admission"


def install() -> None:
    """Wraps ``Agent.handle_message`` in a semaphore (once per process)."""
    if getattr(Agent, _INSTALLED, False):
        return
    handle_message = Agent.handle_message
    limit = get_settings().max_concurrent_messages
    gate: Optional[asyncio.Semaphore] = None

    async def handle_admitted(self: Agent, message: Any) -> Any:
        nonlocal gate
        if gate is None:  # created on the server's event loop, at the first message
            gate = asyncio.Semaphore(limit)
        async with gate:
            return await handle_message(self, message)

    Agent.handle_message = handle_admitted  # type: ignore[method-assign]
    setattr(Agent, _INSTALLED, True)
