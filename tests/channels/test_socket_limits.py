"""The web chat's per-socket limits, on a clock the test moves."""

from __future__ import annotations

from typing import List

from channels.socket_limits import SocketLimits, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_bucket_gives_a_burst_then_its_steady_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(capacity=3, per_second=0.5, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now = 1.0
    assert not bucket.take()
    clock.now = 2.0
    assert bucket.take() and not bucket.take()
    clock.now = 1000.0  # refills to the burst, never beyond
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_a_socket_with_messages_pending_is_refused_without_spending_its_tokens() -> None:
    limits = SocketLimits(burst=5, per_minute=60, max_pending=1)
    assert limits.admits("a")
    limits.of("a").pending = 1
    refused: List[bool] = [limits.admits("a") for _ in range(10)]
    assert refused == [False] * 10
    limits.of("a").pending = 0
    assert [limits.admits("a") for _ in range(5)] == [True, True, True, True, False]


def test_each_socket_has_its_own_limits_and_a_new_one_after_reconnecting() -> None:
    limits = SocketLimits(burst=1, per_minute=1, max_pending=1)
    assert limits.admits("a") and not limits.admits("a")
    assert limits.admits("b")
    limits.forget("a")
    assert limits.admits("a")


def test_a_refused_socket_is_told_to_slow_down_once_per_notice_period() -> None:
    clock = Clock()
    limits = SocketLimits(burst=1, per_minute=1, max_pending=1, notice_every_s=10, clock=clock)
    assert limits.admits("a") and not limits.admits("a")
    assert [limits.notice_due("a") for _ in range(3)] == [True, False, False]
    assert limits.notice_due("b")  # every socket has its own period
    clock.now = 9.9
    assert not limits.notice_due("a")
    clock.now = 10.0
    assert limits.notice_due("a")
