"""Staff in the conversation: ``POST /webhooks/staff/{take,reply,hand_back}``, and requests timing out.

The console keeps the queue (:mod:`handoff.queue`) and calls these routes with the
shared key (:mod:`handoff.staff_link`). Here, in the Rasa server, each change is written
to the conversation as Rasa's own events under its lock store (never behind Rasa's
back): taking pauses the assistant (``ConversationPaused``), a staff message is a bot
message whose metadata names the account, handing back resumes it
(``ConversationResumed``). Each message then goes out on the patient's channel: the web
chat's socket.io room (through Redis to every replica in cluster mode) or WhatsApp,
within its 24-hour window.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationPaused, ConversationResumed, Event
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from channels.twilio_whatsapp import TwilioProvider
from channels.whatsapp_channel import WhatsAppProvider
from channels.whatsapp_cloud import MetaProvider
from channels.whatsapp_common import Outbox
from core import messages
from core.clinic import get_clinic
from core.database import record_audit
from core.message_rules import RejectedMessage, clean_message
from core.settings import Settings, get_settings
from core.vocabulary import ActionName, SlotName
from handoff import addresses, queue
from handoff.schema import engine_for
from handoff.staff_link import api_key, authorised

logger = logging.getLogger(__name__)

TIMEOUT_CHECK_S = 5.0
WEB_CHANNEL = "socketio"


@dataclass(frozen=True)
class WebChat:
    """Where the web chat's messages go: its socket.io server, reply event and namespace."""

    sio: AsyncServer
    event: str
    namespace: Optional[str]


_web_chat: List[WebChat] = []


def register_web_chat(sio: AsyncServer, event: str, namespace: Optional[str]) -> None:
    """Called by the socket.io channel: staff messages to web patients go through ``sio``."""
    _web_chat[:] = [WebChat(sio, event, namespace)]


class Refused(Exception):
    """A staff action that cannot be done; answered with ``status`` and the message for staff."""

    def __init__(self, status: int, message: str) -> None:
        """Keeps the HTTP status and the message."""
        super().__init__(message)
        self.status = status


def _text_field(body: Dict[str, Any], name: str, limit: int = 255) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise Refused(400, f"'{name}' must be a non-empty string of at most {limit} characters.")
    return value.strip()


def _language(tracker: DialogueStateTracker) -> str:
    return str(tracker.get_slot(SlotName.LANGUAGE) or "en")


class StaffInput(InputChannel):
    """The staff routes and the time-out of requests nobody took."""

    @classmethod
    def name(cls) -> str:
        """The routes live under ``/webhooks/staff/``."""
        return "staff"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        """Builds the channel from the settings."""
        return cls(get_settings())

    def __init__(self, settings: Settings) -> None:
        """Prepares the WhatsApp providers that are configured, to write to their patients."""
        self.settings = settings
        # Read once: a key too short stops the server at start-up, not every staff message.
        self.key = api_key(settings)
        self.providers: Dict[str, WhatsAppProvider] = {}
        self.outboxes: Dict[str, Outbox] = {}
        for channel, provider in (("twilio", TwilioProvider), ("whatsapp", MetaProvider)):
            if not provider.unset_variables(settings):
                self.providers[channel] = provider.from_settings(settings)
                self.outboxes[channel] = Outbox(provider.label)
        self._timeouts: Optional[asyncio.Task] = None

    @property
    def engine(self) -> Any:
        """The tracker database, where the queue lives."""
        return engine_for(self.settings.core.tracker_db_url)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Returns the staff routes, guarded by the shared key."""
        staff = Blueprint("staff_webhook", __name__)

        async def guarded(
            request: Request, action: Callable[[Any, Dict[str, Any]], Awaitable[None]]
        ) -> HTTPResponse:
            if not authorised(request.headers.get("Authorization", ""), self.key):
                return response.json({"error": "Not authorised."}, status=401)
            body = request.json if request.body else None
            if not isinstance(body, dict):
                return response.json({"error": "The body must be a JSON object."}, status=400)
            try:
                await action(request.app.ctx.agent, body)
            except Refused as refusal:
                return response.json({"error": str(refusal)}, status=refusal.status)
            return response.json({"status": "delivered"})

        @staff.route("/take", methods=["POST"])
        async def take(request: Request) -> HTTPResponse:
            return await guarded(request, self.take)

        @staff.route("/reply", methods=["POST"])
        async def reply(request: Request) -> HTTPResponse:
            return await guarded(request, self.reply)

        @staff.route("/hand_back", methods=["POST"])
        async def hand_back(request: Request) -> HTTPResponse:
            return await guarded(request, self.hand_back)

        @staff.listener("after_server_start")
        async def start_timeouts(app: Any, _: Any) -> None:
            self._timeouts = asyncio.create_task(self._time_out_forever(app))

        @staff.listener("before_server_stop")
        async def stop(*_: Any) -> None:
            if self._timeouts is not None:
                self._timeouts.cancel()
            for outbox in self.outboxes.values():
                await outbox.close()

        return staff

    async def _tracker(self, agent: Any, conversation: str) -> DialogueStateTracker:
        tracker = await agent.tracker_store.retrieve(conversation)
        if tracker is None or not tracker.events:
            raise Refused(404, "There is no such conversation.")
        return tracker

    async def _write(self, agent: Any, conversation: str, events: List[Event]) -> None:
        """Appends ``events`` to the conversation under Rasa's lock, as a message would."""
        async with agent.lock_store.lock(conversation):
            tracker = await agent.processor.get_tracker(conversation)
            for event in events:
                tracker.update(event)
            await agent.processor.save_tracker(tracker)

    async def _channel(self, tracker: DialogueStateTracker) -> Optional[str]:
        """The patient's channel, from their request while it is open.

        A long takeover pushes the patient's last message out of the window of events the
        tracker store loads (TRACKER_WINDOW_EVENTS), and with it the tracker's channel.
        """
        request = await asyncio.to_thread(queue.open_request, self.engine, tracker.sender_id)
        return request.channel if request else tracker.get_latest_input_channel()

    async def _unreachable(self, channel: Optional[str], conversation: str) -> Optional[str]:
        """Why a message cannot reach the patient now, or None if it can."""
        if channel == WEB_CHANNEL and _web_chat:
            return None
        provider = self.providers.get(channel or "")
        if provider is None:
            return f"Messages cannot be sent to this conversation's channel ({channel or 'unknown'})."
        address = await asyncio.to_thread(
            addresses.lookup, self.engine, conversation, provider.sender_hash_key
        )
        if address is None or not address.window_open(time.time()):
            return (
                "WhatsApp lets the clinic send free text only within 24 hours of the patient's last "
                "message, and that window has closed. Contact the patient another way."
            )
        return None

    async def _deliver(
        self, channel: Optional[str], conversation: str, text: str, marks: Dict[str, Any]
    ) -> None:
        """Sends ``text`` on the patient's channel; the web chat also gets ``marks`` (staff, notice)."""
        if channel == WEB_CHANNEL and _web_chat:
            chat = _web_chat[0]
            await chat.sio.emit(
                chat.event, {"text": text, **marks}, room=conversation, namespace=chat.namespace
            )
            return
        provider = self.providers.get(channel or "")
        if provider is None:
            return
        address = await asyncio.to_thread(
            addresses.lookup, self.engine, conversation, provider.sender_hash_key
        )
        if address is not None:
            await provider.output(self.outboxes[channel or ""], address.number).send_text_message(
                conversation, text
            )

    async def take(self, agent: Any, body: Dict[str, Any]) -> None:
        """Pauses the assistant and tells the patient who they are chatting with."""
        conversation = _text_field(body, "conversation")
        username, name = _text_field(body, "username", 64), _text_field(body, "staff_name", 128)
        tracker = await self._tracker(agent, conversation)
        channel = await self._channel(tracker)
        reason = await self._unreachable(channel, conversation)
        if reason:
            raise Refused(409, reason)
        text = messages.text("handoff_taken", _language(tracker), name=name, clinic=get_clinic().name)
        marks = {"handoff": "taken", "staff_username": username, "staff_name": name}
        events: List[Event] = [] if tracker.is_paused() else [ConversationPaused()]
        await self._write(agent, conversation, [*events, BotUttered(text, metadata=marks)])
        await self._deliver(channel, conversation, text, {"handoff": "taken", "staff": {"name": name}})

    async def reply(self, agent: Any, body: Dict[str, Any]) -> None:
        """Sends a staff message: delivered as typed, stored redacted like every message."""
        conversation = _text_field(body, "conversation")
        username, name = _text_field(body, "username", 64), _text_field(body, "staff_name", 128)
        typed = body.get("text")
        try:
            stored = clean_message(typed)
        except RejectedMessage as error:
            raise Refused(400, str(error).replace("'message'", "The reply")) from None
        tracker = await self._tracker(agent, conversation)
        if not tracker.is_paused():
            raise Refused(409, "The assistant has this conversation: take it first.")
        channel = await self._channel(tracker)
        reason = await self._unreachable(channel, conversation)
        if reason:
            raise Refused(409, reason)
        marks = {"staff_username": username, "staff_name": name}
        await self._write(agent, conversation, [BotUttered(stored, metadata=marks)])
        prefix = messages.text("staff_prefix", _language(tracker), name=name, clinic=get_clinic().name)
        outgoing = str(typed).strip() if channel == WEB_CHANNEL else f"{prefix}\n{str(typed).strip()}"
        await self._deliver(channel, conversation, outgoing, {"staff": {"name": name}})

    async def hand_back(self, agent: Any, body: Dict[str, Any]) -> None:
        """Resumes the assistant, which tells the patient so."""
        conversation = _text_field(body, "conversation")
        username = _text_field(body, "username", 64)
        name = body.get("staff_name") if isinstance(body.get("staff_name"), str) else username
        tracker = await self._tracker(agent, conversation)
        text = messages.text("handoff_returned", _language(tracker), name=str(name)[:128])
        marks = {"handoff": "returned", "staff_username": username}
        await self._resume(agent, tracker, await self._channel(tracker), text, marks)

    async def _resume(
        self,
        agent: Any,
        tracker: DialogueStateTracker,
        channel: Optional[str],
        text: str,
        marks: Dict[str, Any],
    ) -> None:
        conversation = tracker.sender_id
        events: List[Event] = [ConversationResumed()] if tracker.is_paused() else []
        # The assistant listens again: the patient's next message is read as after any bot turn,
        # not after the messages it stored without answering.
        listen = ActionExecuted(ActionName.LISTEN)
        await self._write(agent, conversation, [*events, BotUttered(text, metadata=marks), listen])
        await self._deliver(channel, conversation, text, {"handoff": marks["handoff"]})

    async def _time_out_forever(self, app: Any) -> None:
        """Every few seconds, returns the requests nobody took to the assistant."""
        while True:
            await asyncio.sleep(min(TIMEOUT_CHECK_S, self.settings.handoff.timeout_minutes * 15))
            try:
                await self.time_out(app.ctx.agent)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a database hiccup must not end the loop
                logger.error("Could not time out requests for a person: %s", type(error).__name__)

    async def time_out(self, agent: Any) -> None:
        """Resumes each request nobody took in time, with an apology and the clinic's contact."""
        now = time.time()
        claimed = await asyncio.to_thread(
            queue.claim_timed_out,
            self.engine,
            now,
            self.settings.handoff.timeout_minutes * 60,
            addresses.WINDOW_SECONDS,
        )
        for request in claimed:
            await asyncio.to_thread(
                record_audit, self.engine, "assistant", "handoff_timeout", str(request.id), request.channel
            )
            tracker = await agent.tracker_store.retrieve(request.sender_id)
            if tracker is not None:
                text = messages.with_contact("handoff_timed_out", _language(tracker))
                await self._resume(agent, tracker, request.channel, text, {"handoff": "timed_out"})
        await asyncio.to_thread(addresses.forget_before, self.engine, now - addresses.WINDOW_SECONDS)
