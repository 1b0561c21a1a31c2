"""The queue for a person on a real SQLite database: one holder at a time, places, time-outs, presence."""

from __future__ import annotations

import threading
from typing import Any, List

import pytest

from handoff import queue

KL = "Asia/Kuala_Lumpur"
NOW = 1_800_000_000.0


def ask(engine: Any, sender: str, paused: bool = True, at: float = NOW) -> queue.HandoffRequest:
    request, _ = queue.enqueue(engine, sender, "socketio", "en", "atrophy_causes", paused, at, KL)
    return request


def test_places_follow_the_order_of_asking_and_asking_again_keeps_the_place(engine: Any) -> None:
    places = [queue.enqueue(engine, f"p{i}", "socketio", "en", None, True, NOW + i, KL)[1] for i in range(3)]
    assert places == [1, 2, 3]
    again, place = queue.enqueue(engine, "p1", "socketio", "en", None, True, NOW + 9, KL)
    assert place == 2 and again.requested_at == NOW + 1
    assert [request.sender_id for request in queue.queue(engine)] == ["p0", "p1", "p2"]


def test_only_one_person_can_take_a_request_and_the_other_is_told_who(engine: Any) -> None:
    request = ask(engine, "patient")
    queue.take(engine, request.id, "aisyah", "Aisyah", NOW + 5)
    with pytest.raises(queue.HandoffError, match="Aisyah has already taken"):
        queue.take(engine, request.id, "ben", "Ben", NOW + 6)
    with pytest.raises(queue.HandoffError, match="Aisyah has this conversation"):
        queue.hand_back(engine, request.id, "ben", NOW + 7)


def test_two_staff_taking_at_the_same_moment_one_wins(engine: Any) -> None:
    request = ask(engine, "patient")
    results: List[str] = []
    start = threading.Barrier(8)

    def take(name: str) -> None:
        start.wait()
        try:
            queue.take(engine, request.id, name, name, NOW)
            results.append(f"won:{name}")
        except queue.HandoffError:
            results.append("refused")

    threads = [threading.Thread(target=take, args=(f"staff{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [result for result in results if result.startswith("won")]
    assert len(winners) == 1 and results.count("refused") == 7
    taken = queue.get(engine, request.id)
    assert taken is not None and f"won:{taken.staff_username}" == winners[0]


def test_untake_puts_it_back_and_hand_back_closes_it(engine: Any) -> None:
    request = ask(engine, "patient")
    queue.take(engine, request.id, "aisyah", "Aisyah", NOW)
    queue.untake(engine, request.id, "aisyah")
    assert queue.get(engine, request.id).state == queue.WAITING  # type: ignore[union-attr]
    queue.take(engine, request.id, "aisyah", "Aisyah", NOW + 1)
    queue.record_reply(engine, request.id, NOW + 30)
    queue.record_reply(
        engine, request.id, NOW + 60
    )  # the first reply ends the wait; later ones don't move it
    queue.hand_back(engine, request.id, "aisyah", NOW + 90)
    done = queue.get(engine, request.id)
    assert done is not None and done.state == queue.RETURNED and done.first_reply_at == NOW + 30
    assert queue.open_request(engine, "patient") is None


def test_paused_requests_time_out_and_those_left_for_later_expire_with_the_window(engine: Any) -> None:
    waiting = ask(engine, "waits", paused=True)
    later = ask(engine, "later", paused=False)
    taken = ask(engine, "taken", paused=True)
    queue.take(engine, taken.id, "aisyah", "Aisyah", NOW + 1)
    assert queue.claim_timed_out(engine, NOW + 599, 600, 86_400) == []
    resumed = queue.claim_timed_out(engine, NOW + 601, 600, 86_400)
    assert [request.id for request in resumed] == [waiting.id]
    assert queue.claim_timed_out(engine, NOW + 602, 600, 86_400) == []  # claimed once only
    assert queue.claim_timed_out(engine, NOW + 86_401, 600, 86_400) == []  # expires silently
    states = {request.sender_id: queue.get(engine, request.id).state for request in (waiting, later, taken)}  # type: ignore[union-attr]
    assert states == {"waits": queue.TIMED_OUT, "later": queue.EXPIRED, "taken": queue.TAKEN}


def test_available_means_marked_available_and_seen_recently(engine: Any) -> None:
    queue.set_presence(engine, "aisyah", True, NOW)
    queue.set_presence(engine, "ben", False, NOW)
    assert queue.available_staff(engine, NOW + 10, 90) == 1
    assert queue.available_staff(engine, NOW + 91, 90) == 0  # her console stopped asking
    assert queue.seen(engine, "aisyah", NOW + 100) is True
    assert queue.available_staff(engine, NOW + 120, 90) == 1


def test_an_alert_marks_only_the_open_request(engine: Any) -> None:
    assert queue.raise_alert(engine, "patient", NOW) is False
    request = ask(engine, "patient")
    assert queue.raise_alert(engine, "patient", NOW + 1) is True
    assert queue.get(engine, request.id).alert_at == NOW + 1  # type: ignore[union-attr]


def test_retention_deletes_closed_requests_before_the_cutoff_and_keeps_open_ones(engine: Any) -> None:
    old = ask(engine, "old", at=NOW)
    queue.take(engine, old.id, "aisyah", "Aisyah", NOW + 1)
    queue.hand_back(engine, old.id, "aisyah", NOW + 2)
    still_open = ask(engine, "open", at=NOW)
    recent = ask(engine, "recent", at=NOW + 1000)
    queue.take(engine, recent.id, "aisyah", "Aisyah", NOW + 1001)
    queue.hand_back(engine, recent.id, "aisyah", NOW + 1002)
    assert queue.purge_before(engine, NOW + 500) == 1
    assert queue.get(engine, old.id) is None
    assert queue.get(engine, still_open.id) is not None and queue.get(engine, recent.id) is not None
