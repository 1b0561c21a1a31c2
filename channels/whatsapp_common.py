"""What both WhatsApp channels need at run time besides text shaping.

Pseudonymous conversation ids, their configuration from ``credentials.yml``, duplicate
detection, background processing in order per conversation, the last buttons offered
(read from the tracker store), and posting to the provider with an async HTTP client.
Phone numbers live only in the objects that reply; nothing here logs them.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import traceback
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import aiohttp
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import response
from sanic.response import HTTPResponse

from assistant.conversation_vocabulary import SlotName
from assistant.inbound import WHATSAPP_SENDER_PREFIX
from channels.whatsapp_text import Button

logger = logging.getLogger(__name__)

# What Rasa gives a channel to hand it a patient's message.
MessageHandler = Callable[[UserMessage], Awaitable[Any]]

_DIGIT_RUNS = re.compile(r"\+?\d[\d\s().-]{5,}\d")


def scrub(text: str) -> str:
    """Returns ``text`` with anything that looks like a phone number removed, for logs."""
    return _DIGIT_RUNS.sub("[number]", text)


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


def read_credentials(
    credentials: Optional[Mapping[str, Any]], variables: Mapping[str, str]
) -> Tuple[Dict[str, str], List[str]]:
    """Returns the channel's values from ``credentials.yml`` and the variables left unset.

    Args:
        credentials: The channel's section of ``credentials.yml``, ``${VAR}``s expanded.
        variables: Credential key -> the environment variable that fills it.

    """
    values = {key: str((credentials or {}).get(key) or "").strip() for key in variables}
    missing = [variables[key] for key, value in values.items() if not value]
    return values, missing


def log_configuration(provider: str, path: str, missing: Sequence[str]) -> None:
    """Logs the one line that says whether a channel is on, at server start."""
    if missing:
        logger.info("%s is not configured (unset: %s): %s answers 503.", provider, ", ".join(missing), path)
    else:
        logger.info("%s is configured: webhook at %s.", provider, path)


def configured_values(
    provider: str,
    path: str,
    credentials: Optional[Mapping[str, Any]],
    variables: Mapping[str, str],
    default_api_base_url: str,
) -> Optional[Dict[str, str]]:
    """Returns a channel's credential values plus ``api_base_url``, or None when one is unset.

    Logs the channel's one start-up line either way.
    """
    values, missing = read_credentials(credentials, variables)
    log_configuration(provider, path, missing)
    if missing:
        return None
    api_base_url = str((credentials or {}).get("api_base_url") or "").strip()
    values["api_base_url"] = api_base_url or default_api_base_url
    return values


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


class BackgroundWork:
    """Runs jobs after the webhook has been answered, in arrival order per conversation."""

    def __init__(self) -> None:
        """Starts with nothing running."""
        self._tasks: set[asyncio.Task] = set()
        self._locks: Dict[str, Tuple[asyncio.Lock, int]] = {}

    def start(self, conversation: str, job: Callable[[], Awaitable[None]]) -> None:
        """Schedules ``job`` to run once earlier jobs of ``conversation`` have finished."""
        lock, waiting = self._locks.get(conversation, (asyncio.Lock(), 0))
        self._locks[conversation] = (lock, waiting + 1)
        task = asyncio.get_running_loop().create_task(self._run(conversation, lock, job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, conversation: str, lock: asyncio.Lock, job: Callable[[], Awaitable[None]]) -> None:
        try:
            async with lock:
                await job()
        except Exception as error:
            # The traceback's messages could quote a number: scrub before logging.
            details = "".join(traceback.format_exception(type(error), error, error.__traceback__))
            logger.error("Handling a WhatsApp message failed: %s", scrub(details))
        finally:
            _, waiting = self._locks[conversation]
            if waiting <= 1:
                del self._locks[conversation]
            else:
                self._locks[conversation] = (lock, waiting - 1)


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
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, BotUttered) and event.data.get("buttons"):
            return LastTurn(list(event.data["buttons"]), language)
    return LastTurn([], language)


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
