"""The socket.io channel (`/socket.io`) for the website chat, with input checks and redaction.

Rasa 3.6's own ``SocketIOInput`` calls ``sio.enter_room(...)`` without ``await``; since
python-socketio 5.x that is a coroutine, so with ``session_persistence`` the socket never
joins its session's room and the bot's replies (emitted to that room) are lost. This
channel awaits it, checks every message with :func:`core.message_rules.clean_message`,
answers bad input with a polite bot message, passes on from the client's metadata only
the page's language (``{"language": "en"|"ms"}``), and accepts browser connections only
from the configured origins.

The session id is a token the server issues and signs (:mod:`channels.web_sessions`): a
client that presents one this server signed within `WEB_SESSION_HOURS` continues its
conversation, anything else gets a new token. The conversation id stored by Rasa and the
room the replies go to are a keyed hash of the token, so the id staff see cannot be used
to join the conversation.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple, Type

import engineio
import rasa.core.channels.channel
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncRedisManager, AsyncServer

from channels.socket_limits import SocketLimits
from channels.staff import register_web_chat
from channels.web_sessions import confirmed_token, session_key, stored_sender
from core import messages
from core.language import page_language, reply_language
from core.message_rules import RejectedMessage, clean_message
from core.settings import get_settings
from rasa_server.admission import AssistantBusy

logger = logging.getLogger(__name__)


class _OriginCheckingEngineIO(engineio.AsyncServer):
    """Refuses connections from other origins, leaving the CORS headers to the Rasa server.

    The Rasa server's own CORS handling (``--cors``, the same allowed origins) already adds
    ``Access-Control-Allow-Origin`` to every response; a second copy from Engine.IO makes
    browsers reject the polling transport.
    """

    def _cors_headers(self, environ: Dict[str, Any]) -> List[Tuple[str, str]]:
        return []


class _OriginCheckingServer(AsyncServer):
    """A socket.io server on :class:`_OriginCheckingEngineIO`."""

    def _engineio_server_class(self) -> Type[engineio.AsyncServer]:
        return _OriginCheckingEngineIO


def rejection_text(raw: Any) -> str:
    """Returns the polite reply to a message that cannot be accepted, in its language."""
    limit = get_settings().core.max_message_chars
    language = reply_language(raw[:limit] if isinstance(raw, str) else "")
    return messages.text("message_rejected", language, limit=str(limit))


def engineio_buffer_bytes(max_message_chars: int) -> int:
    """Returns Engine.IO's largest payload: the longest message, plus room for the rest.

    A client may send each character JSON-escaped, and one outside the Basic Multilingual
    Plane (an emoji) then takes 12 bytes, two escaped UTF-16 halves of 6 bytes each.
    """
    return max_message_chars * 12 + 4096


def metadata_to_pass_on(metadata: Any) -> Optional[Dict[str, str]]:
    """Returns the metadata to pass on with a message: the page's language, if valid.

    The metadata is client input and Rasa stores it with the message, so anything else in
    it (other keys, another value, a JSON string) is dropped.
    """
    language = page_language(metadata)
    return {"language": language} if language else None


def session_token_from(data: Any, key: bytes, lifetime_s: float) -> str:
    """Returns the session token to confirm: the one presented if current, else a new one.

    A client never chooses its session id: an id of its own, an altered token or one older
    than ``lifetime_s`` seconds is replaced.
    """
    requested = data.get("session_id") if isinstance(data, dict) else None
    return confirmed_token(requested, key, lifetime_s)


class CheckedSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel, fixed for python-socketio 5 and checking every message."""

    @classmethod
    def name(cls) -> str:
        """Keeps Rasa's name, so the path stays `/socket.io` and replies use this channel."""
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Returns the Sanic blueprint that serves socket.io."""
        settings = get_settings()
        key = session_key(settings)
        session_lifetime_s = settings.web.session_hours * 3600
        redis_url = settings.redis.url()
        sio = _OriginCheckingServer(
            async_mode="sanic",
            # Cluster mode: a message emitted on one replica reaches a patient connected to another.
            client_manager=AsyncRedisManager(redis_url) if redis_url else None,
            cors_allowed_origins=settings.allowed_origins(),
            max_http_buffer_size=engineio_buffer_bytes(settings.core.max_message_chars),
        )
        socketio_webhook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio
        namespace = self.namespace
        register_web_chat(sio, self.bot_message_evt, namespace)
        limits = SocketLimits(
            settings.web.burst_messages, settings.web.messages_per_minute, settings.web.max_pending
        )

        async def reject(sid: str, raw: Any) -> None:
            await sio.emit(self.bot_message_evt, {"text": rejection_text(raw)}, room=sid, namespace=namespace)

        async def say(sid: str, key: str, text: str, metadata: Any) -> None:
            reply = messages.text(key, reply_language(text, metadata=metadata))
            await sio.emit(self.bot_message_evt, {"text": reply}, room=sid, namespace=namespace)

        @socketio_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=namespace)
        async def connect(sid: str, environ: Dict, auth: Optional[Dict] = None) -> bool:
            if not self.jwt_key:
                return True
            token = auth.get("token") if isinstance(auth, dict) else None
            if not token:
                return False
            payload = rasa.core.channels.channel.decode_bearer_token(token, self.jwt_key, self.jwt_algorithm)
            return bool(payload)

        @sio.on("disconnect", namespace=namespace)
        async def disconnect(sid: str) -> None:
            limits.forget(sid)

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: Any = None) -> None:
            token = session_token_from(data, key, session_lifetime_s)
            sender_id = stored_sender(token, key)
            if self.session_persistence:
                previous = (await sio.get_session(sid, namespace=namespace)).get("sender_id")
                if previous and previous != sender_id:
                    await sio.leave_room(sid, previous, namespace=namespace)
                # The room is the stored id: Rasa's output sends the replies to the recipient.
                await sio.enter_room(sid, sender_id, namespace=namespace)
            # Remembered per socket: a socket may only speak in the session it joined.
            await sio.save_session(sid, {"token": token, "sender_id": sender_id}, namespace=namespace)
            await sio.emit("session_confirm", token, room=sid, namespace=namespace)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: str, data: Any = None) -> None:
            raw = data.get("message") if isinstance(data, dict) else None
            metadata = data.get(self.metadata_key) if isinstance(data, dict) else None
            # The limits first: a flood, well-formed or not, costs one token check per message.
            if not limits.admits(sid):
                if limits.notice_due(sid):  # logged and told once per period, not per message
                    logger.info("Refusing socket.io messages: the socket sends faster than it is answered")
                    await say(sid, "slow_down", raw if isinstance(raw, str) else "", metadata)
                return
            try:
                text = clean_message(raw)
            except RejectedMessage as error:
                logger.info("Rejected a socket.io message: %s", error)
                await reject(sid, raw)
                return
            sender_id = sid
            if self.session_persistence:
                session = await sio.get_session(sid, namespace=namespace)
                sender_id = session.get("sender_id")
                if not sender_id or data.get("session_id") not in (None, session.get("token")):
                    logger.info("Rejected a socket.io message sent outside its session")
                    await reject(sid, raw)
                    return
            turns = limits.of(sid)
            turns.pending += 1
            try:
                async with turns.turn:  # one message of a socket handled at a time, in order
                    await on_new_message(
                        UserMessage(
                            text,
                            SocketIOOutput(sio, self.bot_message_evt),
                            sender_id,
                            input_channel=self.name(),
                            metadata=metadata_to_pass_on(metadata),
                        )
                    )
            except AssistantBusy:
                logger.warning("Refused a socket.io message: the server is busy")
                await say(sid, "assistant_busy", text, metadata)
            finally:
                turns.pending -= 1

        return socketio_webhook
