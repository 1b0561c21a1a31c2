"""No lost and no doubled WhatsApp message: two replicas on one PostgreSQL tracker database.

Each webhook is answered only once its message is handled, a delivery that reaches both
replicas is handled once, a delivery while the database is down gets 503 (and the
patient an apology), and the provider's retry after the restart is answered exactly once.
"""

from __future__ import annotations

import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import pytest
import requests
import sqlalchemy as sa

from core import messages
from tests.channels import test_twilio_whatsapp as twilio
from tests.channels import test_whatsapp_cloud as cloud
from tests.channels.conftest import hashed_sender
from tooling.fake_whatsapp import SECRETS, FakeProvider
from tooling.launcher import ServiceGroup, free_port
from tooling.postgres import PostgresService, postgres_server
from tooling.running_bot import LOG_DIR, RunningBot, start_bot

pytestmark = pytest.mark.servers


class Cluster:
    """Two Rasa replicas sharing one PostgreSQL tracker database, replying to a fake provider."""

    def __init__(self, database: PostgresService, url: str, replicas: List[RunningBot]) -> None:
        self.database = database
        self.url = url
        self.replicas = replicas

    def user_messages(self, number: str) -> int:
        """How many user messages of ``number``'s conversation are stored."""
        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as connection:
                query = sa.text(
                    "SELECT count(*) FROM events WHERE sender_id = :sender AND type_name = 'user'"
                )
                return int(connection.execute(query, {"sender": hashed_sender(number)}).scalar() or 0)
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def cluster(fake_provider: FakeProvider) -> Iterator[Cluster]:
    # A folder in /tmp: PostgreSQL runs as 'nobody' when the tests run as root.
    data = Path(tempfile.mkdtemp(prefix="test-wa-pg-"))
    server = postgres_server(data, free_port(), LOG_DIR / f"postgres-whatsapp-{data.name}.log")
    with ServiceGroup([server]):
        url = server.create_database("tracker")
        environment = {
            "TRACKER_DB_URL": url,
            "TWILIO_API_BASE_URL": fake_provider.url,
            "WHATSAPP_API_BASE_URL": fake_provider.url,
            **SECRETS,
        }
        replicas: List[RunningBot] = []
        try:
            for _ in range(2):
                replicas.append(start_bot(Path(tempfile.mkdtemp(prefix="test-wa-bot-")), **environment))
            yield Cluster(server, url, replicas)
        finally:
            for replica in replicas:
                replica.group.stop()


def post_twilio(replica: RunningBot, fields: Dict[str, str]) -> requests.Response:
    return twilio.post(replica, fields, twilio.sign(fields))


def post_cloud(replica: RunningBot, body: bytes) -> requests.Response:
    return cloud.post(replica, body, cloud.sign(body))


def both_at_once(send: Callable[[RunningBot], requests.Response], replicas: List[RunningBot]) -> List[int]:
    """Sends one delivery to every replica at the same moment; returns the statuses."""
    statuses: List[int] = []
    start = threading.Barrier(len(replicas))

    def deliver(replica: RunningBot) -> None:
        start.wait()
        statuses.append(send(replica).status_code)

    threads = [threading.Thread(target=deliver, args=(replica,)) for replica in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


def settled(fake_provider: FakeProvider, number: str) -> int:
    """Waits for a reply to ``number``, then 2 s more for any second one; returns the count."""
    fake_provider.wait_for(number, bool, timeout=30)
    time.sleep(2.0)
    return len(fake_provider.to(number))


def test_the_webhook_is_answered_once_the_reply_is_out(cluster: Cluster, fake_provider: FakeProvider) -> None:
    number = twilio.new_number()
    assert post_twilio(cluster.replicas[0], twilio.params(number, "hello")).status_code == 200
    assert fake_provider.to(number)
    assert cluster.user_messages(number) == 1


def test_a_twilio_redelivery_to_the_other_replica_is_answered_once(
    cluster: Cluster, fake_provider: FakeProvider
) -> None:
    number = twilio.new_number()
    fields = twilio.params(number, "hello")
    assert post_twilio(cluster.replicas[0], fields).status_code == 200
    replies = settled(fake_provider, number)
    assert post_twilio(cluster.replicas[1], fields).status_code == 200
    assert settled(fake_provider, number) == replies
    assert cluster.user_messages(number) == 1


def test_a_meta_delivery_reaching_both_replicas_at_once_is_answered_once(
    cluster: Cluster, fake_provider: FakeProvider
) -> None:
    number = cloud.new_number()
    body = cloud.notification(number, cloud.text("hello"))
    assert both_at_once(lambda replica: post_cloud(replica, body), cluster.replicas) == [200, 200]
    replies = settled(fake_provider, number)
    assert cluster.user_messages(number) == 1
    # A later redelivery, to either replica, is still a duplicate.
    for replica in cluster.replicas:
        assert post_cloud(replica, body).status_code == 200
    assert settled(fake_provider, number) == replies
    assert cluster.user_messages(number) == 1


def test_a_twilio_delivery_reaching_both_replicas_at_once_is_answered_once(
    cluster: Cluster, fake_provider: FakeProvider
) -> None:
    number = twilio.new_number()
    fields = twilio.params(number, "hello")
    assert both_at_once(lambda replica: post_twilio(replica, fields), cluster.replicas) == [200, 200]
    settled(fake_provider, number)
    assert cluster.user_messages(number) == 1


def apology(deliveries: List) -> bool:
    expected = messages.with_contact("action_unavailable", "en")
    return any(delivery.text == expected for delivery in deliveries)


@pytest.mark.parametrize("provider", ["twilio", "meta"])
def test_with_the_database_down_the_delivery_gets_503_and_its_retry_is_answered_once(
    cluster: Cluster, fake_provider: FakeProvider, provider: str
) -> None:
    number: str
    send: Callable[[RunningBot], requests.Response]
    if provider == "twilio":
        number = twilio.new_number()
        fields = twilio.params(number, "hello")

        def send(replica: RunningBot) -> requests.Response:
            return post_twilio(replica, fields)

    else:
        number = cloud.new_number()
        body = cloud.notification(number, cloud.text("hello"), f"wamid.{uuid.uuid4().hex}")

        def send(replica: RunningBot) -> requests.Response:
            return post_cloud(replica, body)

    cluster.database.stop()
    try:
        while_down = send(cluster.replicas[0])
        assert while_down.status_code == 503, while_down.text
        assert while_down.headers.get("Retry-After")
        # The patient is told, once, even if the provider retries while the database is down.
        assert apology(fake_provider.wait_for(number, apology, timeout=30))
        assert send(cluster.replicas[0]).status_code == 503
        assert sum(apology([delivery]) for delivery in fake_provider.to(number)) == 1
    finally:
        cluster.database.start()
        cluster.database.wait_ready()
    told = len(fake_provider.to(number))
    # The provider's retry, to the other replica, is answered; the next one is a duplicate.
    assert send(cluster.replicas[1]).status_code == 200
    answered = len(fake_provider.to(number))
    assert answered > told
    assert send(cluster.replicas[0]).status_code == 200
    time.sleep(1.0)
    assert len(fake_provider.to(number)) == answered
    assert cluster.user_messages(number) == 1


def test_a_replica_stopped_mid_message_loses_no_acknowledged_message(
    cluster: Cluster, fake_provider: FakeProvider
) -> None:
    # Runs last: it stops the second replica. SIGTERM lets Sanic finish the request in
    # flight, which handles the message before answering.
    replica = cluster.replicas[1]
    outcomes: List[Tuple[str, Optional[int]]] = []
    numbers = [twilio.new_number() for _ in range(4)]

    def deliver(number: str) -> None:
        try:
            outcomes.append((number, post_twilio(replica, twilio.params(number, "hello")).status_code))
        except requests.RequestException:
            outcomes.append((number, None))

    threads = [threading.Thread(target=deliver, args=(number,)) for number in numbers]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    replica.group.services[-1].stop()
    for thread in threads:
        thread.join(60)
    acknowledged = [number for number, status in outcomes if status == 200]
    assert acknowledged, outcomes
    for number, status in outcomes:
        if status == 200:
            assert fake_provider.to(number), f"acknowledged but not answered: {outcomes}"
            assert cluster.user_messages(number) == 1
        else:
            # Refused or cut off: not acknowledged, so the provider retries it to the other replica.
            assert cluster.user_messages(number) == 0 or fake_provider.to(number)
