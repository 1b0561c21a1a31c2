"""Per-socket limits of the web chat, so that one socket cannot make every patient wait.

Each socket gets a token bucket (a burst, then a steady rate) and handles its messages one
at a time, in order, with at most a few pending. A message past either limit is refused
politely before anything is stored; it never takes a place in the server's admission
queue (``rasa_server/admission.py``), which stays for other patients.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional


@dataclass
class TokenBucket:
    """``capacity`` messages at once, refilled at ``per_second``."""

    capacity: float
    per_second: float
    clock: Callable[[], float] = time.monotonic
    tokens: float = field(init=False)
    updated: float = field(init=False)

    def __post_init__(self) -> None:
        """Starts full."""
        self.tokens = self.capacity
        self.updated = self.clock()

    def take(self) -> bool:
        """Takes one token; False when none is left."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@dataclass
class SocketTurns:
    """One socket's limits: its bucket, its turn lock and how many of its messages are pending."""

    bucket: TokenBucket
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    pending: int = 0
    # When the socket was last told to slow down (None: never).
    last_notice: Optional[float] = None


class SocketLimits:
    """The limits of every connected socket, by socket id."""

    def __init__(
        self,
        burst: int,
        per_minute: int,
        max_pending: int,
        notice_every_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Sets the limits every new socket gets.

        Args:
            burst: Messages a socket may send at once.
            per_minute: Messages a socket may send per minute after its burst.
            max_pending: Messages of a socket handled or waiting at a time.
            notice_every_s: A refused socket is told to slow down at most this often; the
                other refused messages are dropped without a word, so that a flood costs
                the server no reply per message.
            clock: Seconds, monotonic.

        """
        self.burst, self.per_minute, self.max_pending = burst, per_minute, max_pending
        self.notice_every_s, self.clock = notice_every_s, clock
        self._sockets: Dict[str, SocketTurns] = {}

    def of(self, sid: str) -> SocketTurns:
        """Returns ``sid``'s limits, creating them at its first message."""
        if sid not in self._sockets:
            self._sockets[sid] = SocketTurns(TokenBucket(self.burst, self.per_minute / 60, self.clock))
        return self._sockets[sid]

    def admits(self, sid: str) -> bool:
        """Whether ``sid`` may send a message now (takes a token when it may)."""
        turns = self.of(sid)
        return turns.pending < self.max_pending and turns.bucket.take()

    def notice_due(self, sid: str) -> bool:
        """Whether a refused ``sid`` is to be told to slow down now (records it when so)."""
        turns, now = self.of(sid), self.clock()
        if turns.last_notice is not None and now - turns.last_notice < self.notice_every_s:
            return False
        turns.last_notice = now
        return True

    def forget(self, sid: str) -> None:
        """Drops a disconnected socket's limits."""
        self._sockets.pop(sid, None)
