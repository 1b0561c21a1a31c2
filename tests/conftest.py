"""Shared fixtures: the knowledge base, the real Rasa + action servers on free ports, the demo page."""

from __future__ import annotations

from typing import Iterator, List

import pytest
import socketio

from core.knowledge import KnowledgeBase, get_knowledge
from tooling.running_bot import RunningBot, start_bot, start_demo_site


@pytest.fixture(scope="session")
def knowledge() -> KnowledgeBase:
    return get_knowledge()


@pytest.fixture(scope="session")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    """The trained assistant, served for the whole test session."""
    running = start_bot(tmp_path_factory.mktemp("bot"))
    try:
        yield running
    finally:
        running.group.stop()


@pytest.fixture(scope="session")
def demo_url(bot: RunningBot) -> Iterator[str]:
    """The demo page (with the widget) talking to the session's bot, for the whole session."""
    service = start_demo_site(bot)
    try:
        yield f"http://127.0.0.1:{bot.demo_port}/"
    finally:
        service.stop()


def close_polling_client(client: socketio.Client) -> None:
    """Disconnects a long-polling socket.io client without waiting for its pending poll.

    ``Client.disconnect`` sends the close packet, then waits for the long-poll GET in
    flight, which the server holds until its next ping (25 s): every socket.io test took
    30 s more than its work. The close packet is still sent; only the wait is skipped.
    """
    client.eio.disconnect(abort=True)


def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    """Marks every test that uses the running ``bot`` as a ``servers`` test (``make check`` skips them)."""
    for item in items:
        if "bot" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.servers)
