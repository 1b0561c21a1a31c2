"""Simulated patients over socket.io, the website widget's protocol.

Like the widget, each patient asks for a session with an id of its own and then speaks in
the session the server confirms (a signed token of the server's, channels/web_sessions.py).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence

import socketio

from bench.traffic import Run, Sample, conversation_script, topic_questions
from core import messages

USER_EVENT, BOT_EVENT = "user_uttered", "bot_uttered"


# After a message without buttons, how long to wait for the reply's next message.
NEXT_PART_S = 2.0


def has_buttons(message: Dict[str, Any]) -> bool:
    """Whether a socket.io bot message carries the buttons that end a topic answer."""
    return bool(message.get("quick_replies") or message.get("buttons"))


async def converse_socketio(
    rasa_url: str,
    session_id: str,
    script: Sequence[str],
    run: Run,
    timeout_s: float,
    tokens: Optional[Dict[str, str]] = None,
) -> None:
    """Holds one conversation on its own socket; records each reply's latency.

    The latency of a message is the time until its last reply message arrived: a topic
    answer ends with the message carrying its buttons; any other reply ends when no
    further message follows within ``NEXT_PART_S``. The samples carry ``session_id``, the
    conversation's name here; ``tokens`` gets the session token the server confirmed for it.
    """
    client = socketio.AsyncClient(reconnection=False)
    inbox: asyncio.Queue = asyncio.Queue()
    client.on(BOT_EVENT, lambda data: inbox.put_nowait(data))
    confirmed: asyncio.Queue = asyncio.Queue()
    client.on("session_confirm", lambda data: confirmed.put_nowait(data))
    try:
        # Long-polling: python-engineio's websocket client needs a newer aiohttp than Rasa 3.6 allows.
        await client.connect(
            rasa_url, socketio_path="/socket.io", transports=["polling"], wait_timeout=timeout_s
        )
        await client.emit("session_request", {"session_id": session_id})
        token = str(await asyncio.wait_for(confirmed.get(), timeout_s))
    except (socketio.exceptions.ConnectionError, asyncio.TimeoutError) as failure:
        reason = type(failure).__name__
        run.samples.extend(Sample(session_id, index, 0.0, 0, 0, reason) for index in range(len(script)))
        await client.disconnect()
        return
    if tokens is not None:
        tokens[session_id] = token
    for index, message in enumerate(script):
        started = time.perf_counter()
        try:
            await client.emit(USER_EVENT, {"message": message, "session_id": token})
        except socketio.exceptions.SocketIOError as failure:
            run.samples.append(Sample(session_id, index, 0.0, 0, 0, type(failure).__name__))
            continue
        received: List[Dict[str, Any]] = []
        error, finished = "", started
        try:
            while not (received and has_buttons(received[-1])):
                received.append(await asyncio.wait_for(inbox.get(), NEXT_PART_S if received else timeout_s))
                finished = time.perf_counter()
        except asyncio.TimeoutError:
            error = "" if received else "TimeoutError"
        latency = (finished - started) * 1000
        run.samples.append(Sample(session_id, index, latency, 200 if received else 0, len(received), error))
    await client.disconnect()


# The replies of a socket that sends faster than it is answered, or of a full server.
REFUSALS = tuple(
    messages.text(key, language) for key in ("slow_down", "assistant_busy") for language in messages.LANGUAGES
)


@dataclass
class Flood:
    """What one flooding client sent and what came back."""

    sent: int = 0
    refused: int = 0
    answered: int = 0
    # Engine.IO drops a socket whose poll carries too many packets; the flooder reconnects.
    dropped: int = 0


async def _flooding_session(rasa_url: str, message: str, stop: asyncio.Event, flood: Flood) -> None:
    """Sends ``message`` on one new socket as fast as it takes it, until dropped or ``stop`` is set."""
    client = socketio.AsyncClient(reconnection=False)
    confirmed: asyncio.Queue = asyncio.Queue()
    client.on("session_confirm", lambda data: confirmed.put_nowait(data))

    def count(data: Dict[str, Any]) -> None:
        if str(data.get("text", "")).startswith(REFUSALS):
            flood.refused += 1
        else:
            flood.answered += 1

    client.on(BOT_EVENT, count)
    try:
        await client.connect(rasa_url, socketio_path="/socket.io", transports=["polling"], wait_timeout=60)
        await client.emit("session_request", {"session_id": f"flood-{time.time_ns()}"})
        token = str(await asyncio.wait_for(confirmed.get(), 60))
        while not stop.is_set() and client.connected:
            await client.emit(USER_EVENT, {"message": message, "session_id": token})
            flood.sent += 1
            await asyncio.sleep(0.01)
        if not stop.is_set():
            flood.dropped += 1
    except (socketio.exceptions.SocketIOError, asyncio.TimeoutError):
        flood.dropped += 1
    finally:
        await client.disconnect()


async def flood_socket(rasa_url: str, message: str, stop: asyncio.Event, flood: Flood) -> None:
    """Floods the server with ``message`` until ``stop`` is set, reconnecting whenever dropped.

    It never waits for a reply: the replies are counted as they come, as refusals ("slow
    down", "busy") or as answers.
    """
    while not stop.is_set():
        await _flooding_session(rasa_url, message, stop, flood)
    await asyncio.sleep(NEXT_PART_S)  # the last replies


async def socketio_conversations(
    rasa_url: str,
    scripts: Mapping[str, Sequence[str]],
    timeout_s: float = 120.0,
    tokens: Optional[Dict[str, str]] = None,
    at_once: Optional[int] = None,
) -> Run:
    """Holds one socket.io conversation per script, ``at_once`` at a time (all when None).

    ``scripts`` maps each conversation's name to its messages; ``tokens`` gets each one's
    session token.
    """
    run = Run()
    gate = asyncio.Semaphore(at_once or max(1, len(scripts)))

    async def converse(name: str, script: Sequence[str]) -> None:
        async with gate:
            await converse_socketio(rasa_url, name, script, run, timeout_s, tokens)

    started = time.perf_counter()
    await asyncio.gather(*(converse(name, script) for name, script in scripts.items()))
    run.elapsed_s = time.perf_counter() - started
    return run


async def socketio_users(
    rasa_url: str,
    conversations: int,
    length: int,
    prefix: str,
    timeout_s: float = 120.0,
    tokens: Optional[Dict[str, str]] = None,
    flood: Optional[Flood] = None,
) -> Run:
    """Runs ``conversations`` concurrent socket.io conversations of ``length`` topic questions.

    The conversations are named ``{prefix}-{number}``; ``tokens`` gets each one's session
    token. With ``flood``, one more socket floods the server meanwhile and fills it.
    """
    questions = topic_questions()
    scripts = {
        f"{prefix}-{number}": conversation_script(number, length, questions)
        for number in range(conversations)
    }
    if flood is None:
        return await socketio_conversations(rasa_url, scripts, timeout_s, tokens)
    stop = asyncio.Event()
    flooding = asyncio.create_task(flood_socket(rasa_url, questions[0], stop, flood))
    try:
        return await socketio_conversations(rasa_url, scripts, timeout_s, tokens)
    finally:
        stop.set()
        await flooding
