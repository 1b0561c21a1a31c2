"""What both WhatsApp channels need at run time besides text shaping.

Pseudonymous conversation ids and message ids, handling
each message before the webhook is answered (``Deliveries``: once across replicas, in
order per conversation, 503 when the tracker database fails), the last buttons offered
(read from the tracker store), and posting to the provider with an async HTTP client.
Phone numbers live only in the objects that reply; nothing here logs them.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import logging
import traceback
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

import aiohttp
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import response
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError

from channels.whatsapp_duplicates import SeenMessages
from channels.whatsapp_text import Button
from core.message_rules import WHATSAPP_SENDER_PREFIX
from core.redaction import scrub_digit_runs
from core.vocabulary import SlotName

logger = logging.getLogger(__name__)

# What Rasa gives a channel to hand it a patient's message.
MessageHandler = Callable[[UserMessage], Awaitable[Any]]

# How long a webhook waits for its message to be handled before answering anyway: under
# Twilio's 15 s webhook timeout and Meta's, with room for the network.
HANDLE_WAIT_S = 10.0
# How long shutdown waits for messages still being handled after their webhook was answered.
DRAIN_S = 30.0


def sender_id(phone_number: str, key: str) -> str:
    """Returns the conversation id for a WhatsApp number: a keyed hash, never the number.

    Only the digits count, so ``whatsapp:+60 12-345`` (Twilio) and ``6012345`` (Meta)
    are the same patient.
    """
    # ASCII digits only: other scripts' digits (Arabic-Indic, say) are not in phone numbers.
    digits = "".join(char for char in phone_number if char in "0123456789")
    digest = hmac.new(key.encode("utf-8"), digits.encode("ascii"), hashlib.sha256).hexdigest()
    return f"{WHATSAPP_SENDER_PREFIX}{digest}"


def stored_message_id(provider_id: Optional[str], key: str) -> Optional[str]:
    """Returns what Rasa may store of a provider's message id: a keyed hash.

    Meta's message ids (``wamid.…``) are base64 that decodes to the sender's number, which
    would undo the hashed conversation id; Twilio's are hashed the same way, for one rule.
    """
    if not provider_id:
        return None
    digest = hmac.new(key.encode("utf-8"), provider_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"msg-{digest[:32]}"


def channel_status(provider: str, configured: bool) -> HTTPResponse:
    """Returns a webhook's status route answer: ok, or 503 while not configured."""
    return response.json({"status": "ok"}) if configured else not_configured(provider)


def not_configured(provider: str) -> HTTPResponse:
    """Returns the 503 a webhook answers while its channel is not configured."""
    return response.json({"error": f"{provider} is not configured"}, status=503)


class RecentIds:
    """The ids of the last ``size`` messages seen, to answer a redelivery only once."""

    def __init__(self, size: int = 4096) -> None:
        """Keeps at most ``size`` ids; the oldest are forgotten first."""
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def first_time(self, message_id: str) -> bool:
        """Records ``message_id`` and returns whether it had not been seen before."""
        if message_id in self._ids:
            self._ids.move_to_end(message_id)
            return False
        self._ids[message_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True


class ConversationQueue:
    """Runs jobs in arrival order per conversation, and keeps them until they finish."""

    def __init__(self) -> None:
        """Starts with nothing running."""
        self._tasks: set[asyncio.Task] = set()
        self._locks: Dict[str, Tuple[asyncio.Lock, int]] = {}

    def start(self, conversation: str, job: Callable[[], Awaitable[Any]]) -> asyncio.Task:
        """Schedules ``job`` to run once earlier jobs of ``conversation`` have finished."""
        lock, waiting = self._locks.get(conversation, (asyncio.Lock(), 0))
        self._locks[conversation] = (lock, waiting + 1)
        task = asyncio.get_running_loop().create_task(self._run(conversation, lock, job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self, timeout: float) -> None:
        """Waits up to ``timeout`` seconds for the jobs still running (at shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def _run(self, conversation: str, lock: asyncio.Lock, job: Callable[[], Awaitable[Any]]) -> Any:
        try:
            async with lock:
                return await job()
        finally:
            _, waiting = self._locks[conversation]
            if waiting <= 1:
                del self._locks[conversation]
            else:
                self._locks[conversation] = (lock, waiting - 1)


def log_failure(error: BaseException) -> None:
    """Logs why a message was not handled, its traceback scrubbed of anything like a number."""
    details = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    logger.error("Handling a WhatsApp message failed: %s", scrub_digit_runs(details))


class Deliveries:
    """Handles each WhatsApp message before its webhook is answered, once across replicas.

    The webhook answers 2xx only once the message was handled (its events are in the
    tracker store) or is a duplicate; when the tracker database fails, 503, and the id
    is released so the provider's retry is handled. Handling normally takes well under
    a second; past ``HANDLE_WAIT_S`` (inside Twilio's 15 s and Meta's webhook time
    limits) the webhook is answered 200 and the message finishes in the background,
    which shutdown waits for (``drain``).
    """

    def __init__(self, provider: str, database_url: Optional[str] = None) -> None:
        """Keeps ``provider``'s ids (``twilio`` or ``whatsapp``) in the shared table."""
        self.seen = SeenMessages(provider, database_url)
        self.queue = ConversationQueue()
        # Messages whose patient was already told once that it failed (per process).
        self._apologised = RecentIds()

    async def handle(
        self,
        message_hash: Optional[str],
        conversation: str,
        job: Callable[[], Awaitable[Any]],
        apologise: Callable[[], Awaitable[Any]],
    ) -> bool:
        """Handles one message unless another delivery of it was; returns False to answer 503.

        Args:
            message_hash: The keyed hash of the provider's id (``stored_message_id``), if any.
            conversation: The conversation id, for ordering.
            job: Hands the message to Rasa; raises when it was not handled.
            apologise: Tells the patient, when handling fails; must not raise.

        """
        if message_hash is not None:
            try:
                if not await asyncio.to_thread(self.seen.claim, message_hash):
                    return True
            except SQLAlchemyError as error:
                log_failure(error)
                await self._apologise(message_hash, apologise)
                return False
        task = self.queue.start(conversation, functools.partial(self._handle, message_hash, job, apologise))
        try:
            return bool(await asyncio.wait_for(asyncio.shield(task), HANDLE_WAIT_S))
        except asyncio.TimeoutError:
            logger.warning("A WhatsApp message took over %.0f s: answered, still handling.", HANDLE_WAIT_S)
            return True

    async def _handle(
        self,
        message_hash: Optional[str],
        job: Callable[[], Awaitable[Any]],
        apologise: Callable[[], Awaitable[Any]],
    ) -> bool:
        try:
            await job()
        except Exception as error:  # whatever failed, the message was not (fully) handled
            log_failure(error)
            if message_hash is not None:
                await asyncio.to_thread(self.seen.release, message_hash)
            await self._apologise(message_hash, apologise)
            return False
        if message_hash is not None:
            try:
                await asyncio.to_thread(self.seen.finish, message_hash)
            except SQLAlchemyError as error:
                # Handled and stored; its claim stays and is taken over only once stale.
                log_failure(error)
        return True

    async def _apologise(self, message_hash: Optional[str], apologise: Callable[[], Awaitable[Any]]) -> None:
        if message_hash is None or self._apologised.first_time(message_hash):
            try:
                await apologise()
            except Exception as error:  # the provider is down too: nothing more to do
                log_failure(error)

    async def close(self) -> None:
        """Waits for messages still being handled (``DRAIN_S`` at most), then disconnects."""
        await self.queue.drain(DRAIN_S)
        self.seen.close()


@dataclass
class LastTurn:
    """What the bot offered in its last turn of a conversation."""

    buttons: List[Button]
    language: Optional[str]


async def last_turn(agent: Any, conversation: str) -> LastTurn:
    """Returns the buttons the bot offered since the patient's last message, and the language.

    Read from the tracker store, so the choice survives restarts and needs no memory here.
    """
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return LastTurn([], None)
    tracker = await store.retrieve(conversation)
    if tracker is None:
        return LastTurn([], None)
    language = tracker.get_slot(SlotName.LANGUAGE)
    offered: List[Button] = []
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, BotUttered) and event.data.get("buttons"):
            # A turn may offer buttons in several messages (the next topics, then "was this helpful?").
            offered = list(event.data["buttons"]) + offered
    return LastTurn(offered, language)


class Outbox:
    """Posts replies to a provider's API over one shared aiohttp session.

    Transient failures (connection errors, 429, 5xx) are retried twice; a refusal is
    logged with its HTTP status and the provider's error code only, never the body,
    which may quote the recipient's number.
    """

    def __init__(self, provider: str, timeout: float = 20.0, retries: int = 2) -> None:
        """Prepares the session lazily: it must be created inside the server's event loop."""
        self.provider = provider
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.retries = retries
        self._session: Optional[aiohttp.ClientSession] = None

    async def post(self, url: str, **request: Any) -> bool:
        """Posts ``request`` (``data``/``json``, ``auth``, ``headers``) to ``url``.

        Returns:
            Whether the provider accepted it.

        """
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(0.5 * 2 ** (attempt - 1))
            try:
                async with self._session.post(url, **request) as reply:
                    if reply.status < 300:
                        return True
                    problem = f"HTTP {reply.status}{await _error_code(reply)}"
                    if reply.status != 429 and reply.status < 500:
                        break
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                problem = type(error).__name__
        logger.error("%s did not take a reply: %s", self.provider, problem)
        return False

    async def close(self) -> None:
        """Closes the session, when there is one."""
        if self._session is not None:
            await self._session.close()
            self._session = None


async def _error_code(reply: aiohttp.ClientResponse) -> str:
    try:
        body = await reply.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        return ""
    if isinstance(body, dict):
        nested = body.get("error")
        error: Dict[str, Any] = nested if isinstance(nested, dict) else body
        code = error.get("code")
        if isinstance(code, int | str):
            return f", error code {code}"
    return ""
