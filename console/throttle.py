"""Per-address limit on sign-in attempts, checked before any password is hashed.

Every sign-in costs an argon2 hash (64 MiB, tens of milliseconds), so an address that
keeps trying is refused (HTTP 429) once it has made ``attempts`` tries within the last
``window_seconds``, whatever the username. The count lives in the console's memory: it
is per console process (the console runs one) and starts afresh when the console does.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Callable, Deque, Dict

# Addresses remembered at most; past this the longest idle are forgotten first.
MAX_ADDRESSES = 10_000
IPV6_NETWORK_BITS = 64


def client_key(address: str) -> str:
    """Returns what a client is counted by: its IPv4 address, or its IPv6 /64 network.

    One machine usually holds a whole IPv6 /64, so counting single IPv6 addresses would
    let it step past the limit by changing the last bits.
    """
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, IPV6_NETWORK_BITS), strict=False))
    return str(parsed)


@dataclass(frozen=True)
class Verdict:
    """Whether one attempt may go ahead; if not, after how many seconds one may."""

    allowed: bool
    retry_after: int = 0
    # The first refusal of this address in the window, worth one audit entry.
    first_refusal: bool = False


class LoginThrottle:
    """Counts sign-in attempts per client over a sliding window; safe across threads."""

    def __init__(
        self, attempts: int, window_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Allows ``attempts`` tries per client in any ``window_seconds``."""
        self.attempts = max(1, attempts)
        self.window = float(window_seconds)
        self._clock = clock
        self._lock = threading.Lock()
        # Client key → times of its attempts in the window, least recently active first.
        self._recent: OrderedDict[str, Deque[float]] = OrderedDict()
        self._refused_at: Dict[str, float] = {}

    def attempt(self, key: str) -> Verdict:
        """Counts one attempt by ``key`` and says whether it may go ahead."""
        with self._lock:
            now = self._clock()
            times = self._recent.setdefault(key, deque())
            self._recent.move_to_end(key)
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) < self.attempts:
                times.append(now)
                verdict = Verdict(allowed=True)
            else:
                first = now - self._refused_at.get(key, -math.inf) >= self.window
                if first:
                    self._refused_at[key] = now
                retry_after = max(1, math.ceil(times[0] + self.window - now))
                verdict = Verdict(allowed=False, retry_after=retry_after, first_refusal=first)
            self._forget_idle(now)
            return verdict

    def _forget_idle(self, now: float) -> None:
        """Drops clients with no attempt in the window, and the idlest beyond MAX_ADDRESSES."""
        while self._recent:
            key, times = next(iter(self._recent.items()))
            if len(self._recent) <= MAX_ADDRESSES and times and times[-1] > now - self.window:
                break
            del self._recent[key]
            self._refused_at.pop(key, None)
