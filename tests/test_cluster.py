"""Two Rasa replicas on PostgreSQL with Redis locks: any replica continues any conversation."""

from __future__ import annotations

import asyncio
import json
import queue as queues
import tempfile
import time
from pathlib import Path
from typing import Dict, Iterator, List

import aiohttp
import pytest
import sqlalchemy as sa

from bench.traffic import conversation_script, send_rest, topic_questions
from core import messages
from core.database import make_engine
from core.settings import get_settings
from handoff import queue
from handoff.schema import ensure_schema
from handoff.staff_link import StaffLink, api_key
from tests.channels.test_socketio import Chat, settle, stored_id
from tooling.cluster import Cluster
from tooling.launcher import free_port
from tooling.running_bot import LOG_DIR

pytestmark = pytest.mark.servers
CONVERSATIONS = 50
BEFORE_KILL, AFTER_KILL = 2, 2


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    # A new folder in /tmp: as root, PostgreSQL runs as 'nobody', who must reach it.
    data = Path(tempfile.mkdtemp(prefix="test-cluster-pg-"))
    with Cluster(data, [free_port(), free_port()], free_port(), LOG_DIR / f"cluster-{data.name}") as running:
        yield running


def events_of(database_url: str, prefix: str) -> Dict[str, List[tuple]]:
    engine = sa.create_engine(database_url)
    query = sa.text(
        "SELECT sender_id, type_name, action_name, data FROM events WHERE sender_id LIKE :prefix ORDER BY id"
    )
    found: Dict[str, List[tuple]] = {}
    try:
        with engine.connect() as connection:
            for sender, type_name, action_name, data in connection.execute(query, {"prefix": f"{prefix}%"}):
                found.setdefault(sender, []).append((type_name, action_name, data))
    finally:
        engine.dispose()
    return found


def user_texts(events: List[tuple]) -> List[str]:
    return [json.loads(data)["text"] for type_name, _, data in events if type_name == "user"]


def assert_turns_whole(sender: str, events: List[tuple]) -> None:
    """Each message's turn ends (action_listen) before the next message starts: no interleaving."""
    kinds = [
        (type_name, action_name)
        for type_name, action_name, _ in events
        if type_name in ("user", "bot", "action")
    ]
    users = [index for index, (kind, _) in enumerate(kinds) if kind == "user"]
    for start, end in zip(users, [*users[1:], len(kinds)], strict=False):
        turn = kinds[start + 1 : end]
        assert any(kind == "bot" for kind, _ in turn), f"{sender}: a message without a reply"
        assert turn[-1] == ("action", "action_listen"), f"{sender}: turns interleaved: {kinds}"


async def converse(urls: List[str], prefix: str, turns: range, replica_of: Dict[int, int]) -> None:
    questions = topic_questions()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as session:

        async def one(number: int) -> None:
            script = conversation_script(number, BEFORE_KILL + AFTER_KILL, questions)
            for turn in turns:
                url = f"{urls[replica_of.get(turn, (number + turn) % 2)]}/webhooks/rest/webhook"
                status, replies = await send_rest(session, url, f"{prefix}-{number}", script[turn])
                assert status == 200 and replies, f"{prefix}-{number} turn {turn}: {status}"

        await asyncio.gather(*(one(number) for number in range(CONVERSATIONS)))


async def simultaneous_pairs(urls: List[str], prefix: str, count: int) -> None:
    """Sends two messages of the same conversation at the same moment, one to each replica."""
    questions = topic_questions()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as session:
        sends = [
            send_rest(session, f"{url}/webhooks/rest/webhook", f"{prefix}-{number}", questions[index])
            for number in range(count)
            for index, url in enumerate(urls)
        ]
        for status, replies in await asyncio.gather(*sends):
            assert status == 200 and replies


async def send_one(url: str, sender: str, text: str) -> List[dict]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as session:
        status, replies = await send_rest(session, f"{url}/webhooks/rest/webhook", sender, text)
        assert status == 200, status
        return replies


def test_a_staff_reply_sent_through_one_replica_reaches_a_web_patient_on_the_other(cluster: Cluster) -> None:
    """Staff and patient on different replicas.

    The reply crosses through Redis; the pause is shared through the tracker.
    """
    for replica in cluster.replicas:  # both replicas: another test stops one
        if not replica.running:
            replica.start()
            replica.wait_ready()
    engine = make_engine(cluster.database_url)
    ensure_schema(engine)
    patient_url, staff_url = cluster.urls()
    chat = Chat(patient_url)
    try:
        token = chat.join()
        settle(chat, token)
        sender = stored_id(token)
        queue.set_presence(engine, "aisyah", True, time.time())
        chat.emit({"session_id": token, "message": "/contact_human"})
        chat.wait_for(lambda message: "queue" in message.get("text", ""))
        request = queue.open_request(engine, sender)
        assert request is not None and request.paused
        link = StaffLink(staff_url, api_key(get_settings()))
        queue.take(engine, request.id, "aisyah", "Aisyah", time.time())
        link.take(sender, "aisyah", "Aisyah")
        link.reply(sender, "aisyah", "Aisyah", "Hello from the clinic")
        staff_message = chat.wait_for(lambda message: "staff" in message and "handoff" not in message)[-1]
        assert staff_message["text"] == "Hello from the clinic"

        # The same session on the staff's replica: paused there too, since the pause is in the tracker.
        other = Chat(staff_url)
        try:
            other.join(token)
            other.emit({"session_id": token, "message": "What is muscle atrophy?"})
            with pytest.raises(queues.Empty):
                other.received.get(timeout=4)
        finally:
            other.close()
        queue.hand_back(engine, request.id, "aisyah", time.time())
        link.hand_back(sender, "aisyah")
        chat.wait_for(lambda message: message.get("handoff") == "returned")
    finally:
        chat.close()
        engine.dispose()


def test_interleaved_conversations_stay_whole_and_survive_a_replica(cluster: Cluster) -> None:
    urls = cluster.urls()
    questions = topic_questions()
    asyncio.run(converse(urls, "cluster", range(BEFORE_KILL), {}))
    asyncio.run(simultaneous_pairs(urls, "pair", 10))
    asyncio.run(send_one(urls[0], "history", questions[0]))

    cluster.replicas[0].stop()
    asyncio.run(converse(urls, "cluster", range(BEFORE_KILL, BEFORE_KILL + AFTER_KILL), {2: 1, 3: 1}))
    # The topic answered by the stopped replica is known to the survivor.
    assert asyncio.run(send_one(urls[1], "history", "tell me more"))[0]["text"] == messages.text(
        "tell_me_more", "en"
    )

    stored = events_of(cluster.database_url, "cluster-")
    assert len(stored) == CONVERSATIONS
    for number in range(CONVERSATIONS):
        sender = f"cluster-{number}"
        assert user_texts(stored[sender]) == conversation_script(number, BEFORE_KILL + AFTER_KILL, questions)
        assert_turns_whole(sender, stored[sender])
    pairs = events_of(cluster.database_url, "pair-")
    assert len(pairs) == 10
    for sender, events in pairs.items():
        assert sorted(user_texts(events)) == sorted(questions[:2])
        assert_turns_whole(sender, events)
