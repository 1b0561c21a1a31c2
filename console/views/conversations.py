"""The conversations list, a conversation's transcript, annotating a message, and exports."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterator, List, Tuple

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required

from console import retraining
from console.context import context
from console.exports import csv_chunks, jsonl_chunks
from console.forms import AnnotationForm
from console.queries import (
    FLAGS,
    Filters,
    conversation_page,
    filter_options,
    get_conversation,
    sender_sessions,
)
from console.schema import messages
from console.transcript import load_turns
from console.views.auth import audit_request, staff_required
from core.knowledge import get_knowledge

blueprint = Blueprint("conversations", __name__)


def page_arg() -> int:
    """Returns the ``page`` query argument, 1 when missing or not a number."""
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and 0 < len(value) < 7 else 1


def _topic_choices() -> List[Tuple[str, str]]:
    """Every article topic, plus topics found in the data that the knowledge file lacks."""
    knowledge = get_knowledge()
    choices = [(topic.id, topic.title("en")) for topic in knowledge.topics.values()]
    known = {topic_id for topic_id, _ in choices}
    extra = [topic for topic in filter_options(context().engine)["topics"] if topic not in known]
    return sorted(choices, key=lambda item: item[1]) + [(topic, topic) for topic in extra]


@blueprint.route("/")
@login_required
def home() -> Any:
    """The start page is the dashboard."""
    return redirect(url_for("dashboard.dashboard"))


@blueprint.route("/conversations")
@login_required
def conversation_list() -> Any:
    """Lists conversations, newest first, filtered and paginated, with counts."""
    filters, problems = Filters.parse(request.args)
    for problem in problems:
        flash(problem, "warning")
    engine = context().engine
    page = conversation_page(engine, filters, page_arg())
    audit_request(
        "view_conversation_list",
        target=f"{page.total:,} conversations",
        detail=f"{filters.describe()}; page {page.page}",
    )
    return render_template(
        "conversations.html",
        filters=filters,
        args=filters.as_args(),
        page=page,
        flags={name: label for name, (label, _) in FLAGS.items()},
        channels=filter_options(engine)["channels"],
        topics=_topic_choices(),
    )


@blueprint.route("/conversations/<int:conversation_id>")
@login_required
def transcript(conversation_id: int) -> Any:
    """Shows one conversation turn by turn, with the annotation form on each patient message."""
    engine = context().engine
    conversation = get_conversation(engine, conversation_id)
    if conversation is None:
        abort(404)
    turns = load_turns(engine, conversation)
    labels = retraining.for_messages(engine, [turn.event_id for turn in turns if turn.event_id is not None])
    audit_request(
        "view_conversation",
        target=f"conversation {conversation.id}",
        detail=f"channel={conversation.channel}",
    )
    return render_template(
        "transcript.html",
        conversation=conversation,
        turns=turns,
        annotations=labels,
        intent_groups=retraining.intent_groups(),
        intent_labels=retraining.known_intents(),
        sessions=sender_sessions(engine, conversation.sender_id),
        back_args=request.args.to_dict(flat=False),
    )


@blueprint.route("/conversations/<int:conversation_id>/annotate", methods=["POST"])
@staff_required
def annotate(conversation_id: int) -> Any:
    """Saves the intent a patient message should have had."""
    engine = context().engine
    form = AnnotationForm()
    form.intent.choices = list(retraining.known_intents().items())
    anchor = ""
    if not form.validate_on_submit() or not str(form.event_id.data).isdigit():
        flash("Choose an intent from the list.", "warning")
    else:
        event_id = int(form.event_id.data)
        anchor = f"m{event_id}"
        with engine.connect() as connection:
            owner = connection.execute(
                sa.select(messages.c.conversation_id).where(messages.c.event_id == event_id)
            ).scalar()
        if owner != conversation_id:
            abort(404)
        try:
            saved = retraining.save(engine, event_id, form.intent.data or "", current_user.username)
        except retraining.AnnotationError as error:
            flash(str(error), "warning")
        else:
            audit_request(
                "annotate", target=f"conversation {conversation_id}", detail=f"intent={saved.intent}"
            )
            flash(f"Saved: this message is now an example of “{saved.intent}”.", "success")
    return redirect(
        url_for("conversations.transcript", conversation_id=conversation_id, _anchor=anchor or None)
    )


def _export(kind: str, chunks: Callable[..., Iterator[str]], mimetype: str) -> Response:
    filters, _ = Filters.parse(request.args)
    engine = context().engine
    total = conversation_page(engine, filters, per_page=1).total
    audit_request(f"export_{kind}", target=f"{total:,} conversations", detail=filters.describe())
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    response = Response(stream_with_context(chunks(engine, filters)), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="conversations-{stamp}.{kind}"'
    return response


@blueprint.route("/conversations/export.csv")
@login_required
def export_csv() -> Response:
    """Downloads the filtered conversations as CSV, one row per message."""
    return _export("csv", csv_chunks, "text/csv; charset=utf-8")


@blueprint.route("/conversations/export.jsonl")
@login_required
def export_jsonl() -> Response:
    """Downloads the filtered conversations as JSON Lines, one conversation per line."""
    return _export("jsonl", jsonl_chunks, "application/x-ndjson; charset=utf-8")
