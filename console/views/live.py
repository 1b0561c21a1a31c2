"""Talking to patients: the Waiting page, presence, taking a conversation, replying, handing back.

The queue's state lives in :mod:`handoff.queue` (one conditional UPDATE per change, so two
members of staff never both win); the Rasa server pauses, delivers and resumes through
:class:`handoff.staff_link.StaffLink`. Pages poll the JSON feeds every second.
"""

from __future__ import annotations

import time
from functools import wraps
from typing import Any, Callable, Dict, List, Optional, TypeVar, cast

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from console import live_data
from console.context import context
from console.template_helpers import channel_label, language_label, topic_title
from console.timeutil import format_duration, format_time
from console.views.auth import audit_request, staff_required
from handoff import queue
from handoff.queue import HandoffError, HandoffRequest
from handoff.staff_link import StaffLinkError

blueprint = Blueprint("live", __name__)
View = TypeVar("View", bound=Callable[..., Any])
# Polled every second: kept out of the indexer's catch-up before each page (console/app.py).
FEEDS = ("live.waiting_feed", "live.conversation_feed")
WHATSAPP = ("twilio", "whatsapp")


def feed_login_required(view: View) -> View:
    """Answers 401 JSON to a signed-out poll (a redirect to the sign-in page is no use to a script)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return jsonify(error="Your session has ended: sign in again."), 401
        return view(*args, **kwargs)

    return cast(View, wrapper)


def wants_json() -> bool:
    """Whether the page's script sent the form (it asks for JSON) rather than the browser."""
    return request.accept_mimetypes.best == "application/json"


def _request_json(item: HandoffRequest, now: float) -> Dict[str, Any]:
    """One request as the Waiting page and its feed show it."""
    engine = context().engine
    return {
        "id": item.id,
        "channel": item.channel,
        "channel_label": channel_label(item.channel),
        "language": item.language,
        "language_label": language_label(item.language),
        "topic": item.topic,
        "topic_title": topic_title(item.topic),
        "requested": format_time(item.requested_at),
        "wait_seconds": round(max(0.0, now - item.requested_at)),
        "wait": format_duration(now - item.requested_at),
        "state": item.state,
        "staff_name": item.staff_name or item.staff_username,
        "mine": item.staff_username == current_user.username,
        "alert": item.alert_at is not None,
        "alert_time": format_time(item.alert_at, True),
        "messages": [
            {"text": message.text, "time": format_time(message.timestamp, True)}
            for message in live_data.last_patient_messages(engine, item.sender_id)
        ],
        "can_take": item.state == queue.WAITING and current_user.can_act,
        "url": url_for("live.conversation", request_id=item.id),
        "take_url": url_for("live.take", request_id=item.id),
    }


def _queue_json(now: float) -> List[Dict[str, Any]]:
    return [_request_json(item, now) for item in queue.queue(context().engine)]


@blueprint.app_context_processor
def _top_bar() -> Dict[str, Any]:
    """The waiting count in every signed-in page's top bar (live.js keeps it current)."""
    if not current_user.is_authenticated:
        return {}
    return {"waiting_count": live_data.waiting_count(context().engine)}


@blueprint.route("/waiting")
@login_required
def waiting() -> Any:
    """The Waiting page: every open request, the longest waiting first."""
    ctx = context()
    now = time.time()
    available = queue.seen(ctx.engine, current_user.username, now)
    items = _queue_json(now)
    audit_request("view_waiting", target=f"{len(items)} open requests")
    return render_template(
        "waiting.html",
        items=items,
        available=available,
        staff_available=queue.available_staff(ctx.engine, now, ctx.settings.handoff.presence_seconds),
    )


@blueprint.route("/waiting/feed")
@feed_login_required
def waiting_feed() -> Any:
    """The queue as JSON for live.js; each call is also the user's heartbeat (presence)."""
    ctx = context()
    now = time.time()
    available = queue.seen(ctx.engine, current_user.username, now)
    items = _queue_json(now)
    return jsonify(
        count=sum(1 for item in items if item["state"] == queue.WAITING),
        available=available,
        staff_available=queue.available_staff(ctx.engine, now, ctx.settings.handoff.presence_seconds),
        requests=items,
    )


@blueprint.route("/presence", methods=["POST"])
@staff_required
def presence() -> Any:
    """Marks the user available for patients, or away."""
    value = request.form.get("available", "")
    if value not in ("0", "1"):
        abort(400, description="Choose available or away.")
    queue.set_presence(context().engine, current_user.username, value == "1", time.time())
    audit_request("presence", detail="available" if value == "1" else "away")
    flash("You are available: patients can ask for you." if value == "1" else "You are away.", "info")
    return redirect(url_for("live.waiting"))


@blueprint.route("/waiting/<int:request_id>/take", methods=["POST"])
@staff_required
def take(request_id: int) -> Any:
    """Takes a waiting conversation: the assistant pauses and the patient is told who they talk to."""
    ctx = context()
    username = current_user.username
    current = queue.get(ctx.engine, request_id)
    if current is not None and current.state == queue.TAKEN and current.staff_username == username:
        return redirect(url_for("live.conversation", request_id=request_id))
    try:
        taken = queue.take(ctx.engine, request_id, username, username, time.time())
    except HandoffError as error:
        flash(str(error), "warning")
        return redirect(url_for("live.waiting"))
    try:
        ctx.staff_link.take(taken.sender_id, username, username)
    except StaffLinkError as error:
        # The patient was not told: put the request back for anyone to take.
        queue.untake(ctx.engine, request_id, username)
        flash(f"Could not take the conversation: {error}", "error")
        return redirect(url_for("live.waiting"))
    audit_request("handoff_take", target=f"request {request_id}", detail=f"channel={taken.channel}")
    return redirect(url_for("live.conversation", request_id=request_id))


def _request_or_404(request_id: int) -> HandoffRequest:
    item = queue.get(context().engine, request_id)
    if item is None:
        abort(404)
    return item


def render_conversation(item: HandoffRequest, status: int = 200, error: str = "", draft: str = "") -> Any:
    """The takeover page for ``item`` (with a refused reply's message and text)."""
    ctx = context()
    history = live_data.messages_after(ctx.engine, item.sender_id)
    last_patient = next((m.timestamp for m in reversed(history) if m.kind == live_data.PATIENT), None)
    page = render_template(
        "live.html",
        item=item,
        summary=_request_json(item, time.time()),
        messages=history,
        last_id=max((m.id for m in history), default=0),
        holder=item.state == queue.TAKEN and item.staff_username == current_user.username,
        whatsapp=item.channel in WHATSAPP,
        last_patient=last_patient,
        max_chars=ctx.settings.core.max_message_chars,
        error=error,
        draft=draft,
    )
    return page, status


@blueprint.route("/live/<int:request_id>")
@login_required
def conversation(request_id: int) -> Any:
    """The takeover page: the whole conversation, and for the one who took it a reply box."""
    item = _request_or_404(request_id)
    audit_request("view_conversation", target=f"request {request_id}", detail=f"live; channel={item.channel}")
    return render_conversation(item)


@blueprint.route("/live/<int:request_id>/feed")
@feed_login_required
def conversation_feed(request_id: int) -> Any:
    """New messages after the event id ``after``, and the request's state, for takeover.js."""
    item = _request_or_404(request_id)
    after = request.args.get("after", "0")
    known = int(after) if after.isascii() and after.isdigit() and len(after) < 12 else 0
    messages = live_data.messages_after(context().engine, item.sender_id, known)
    return jsonify(
        state=item.state,
        staff_name=item.staff_name or item.staff_username,
        holder=item.state == queue.TAKEN and item.staff_username == current_user.username,
        alert=item.alert_at is not None,
        alert_time=format_time(item.alert_at, True),
        messages=[message.as_json() for message in messages],
    )


def _refuse(item: HandoffRequest, status: int, message: str, draft: str = "") -> Any:
    """Answers a refused reply: JSON for the script, the page with the message for a browser."""
    if wants_json():
        return jsonify(error=message), status
    if status == 403:
        abort(403, description=message)
    return render_conversation(item, status, message, draft)


@blueprint.route("/live/<int:request_id>/reply", methods=["POST"])
@staff_required
def reply(request_id: int) -> Any:
    """Sends the holder's message to the patient, on the patient's channel."""
    ctx = context()
    item = _request_or_404(request_id)
    text = request.form.get("text", "")
    try:
        queue.held_by(ctx.engine, request_id, current_user.username)
    except HandoffError as error:
        return _refuse(item, 403, str(error))
    limit = ctx.settings.core.max_message_chars
    problem: Optional[str] = None
    if not text.strip():
        problem = "Write a message first: an empty reply is not sent."
    elif len(text) > limit:
        problem = f"A reply can have at most {limit:,} characters; this one has {len(text):,}. Shorten it."
    if problem:
        return _refuse(item, 400, problem, text)
    try:
        ctx.staff_link.reply(item.sender_id, current_user.username, current_user.username, text.strip())
    except StaffLinkError as error:
        if wants_json():
            return jsonify(error=str(error)), 502
        return render_conversation(item, 502, f"Not sent: {error}", text)
    queue.record_reply(ctx.engine, request_id, time.time())
    # The text is the patient's conversation, never the audit log's.
    audit_request("handoff_reply", target=f"request {request_id}")
    if wants_json():
        return jsonify(ok=True)
    return redirect(url_for("live.conversation", request_id=request_id), 303)


@blueprint.route("/live/<int:request_id>/hand_back", methods=["POST"])
@staff_required
def hand_back(request_id: int) -> Any:
    """Ends the takeover: the assistant answers again and tells the patient so."""
    ctx = context()
    username = current_user.username
    try:
        item = queue.held_by(ctx.engine, request_id, username)
    except HandoffError as error:
        abort(403, description=str(error))
    try:
        # Rasa first: if it cannot resume, the conversation stays taken and the holder can retry,
        # rather than a returned request whose patient nobody answers.
        ctx.staff_link.hand_back(item.sender_id, username)
    except StaffLinkError as error:
        flash(f"Not handed back: {error} Try again in a moment.", "error")
        return redirect(url_for("live.conversation", request_id=request_id))
    queue.hand_back(ctx.engine, request_id, username, time.time())
    audit_request("handoff_hand_back", target=f"request {request_id}")
    flash("Handed back: the assistant answers this patient again.", "success")
    return redirect(url_for("live.waiting"))
