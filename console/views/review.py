"""The annotations page and the NLU export (the retraining loop)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_login import login_required

from console import retraining
from console.context import context
from console.forms import PlainForm
from console.views.auth import audit_request, staff_required
from console.views.conversations import page_arg

blueprint = Blueprint("review", __name__)
PER_PAGE = 50


@blueprint.route("/annotations")
@login_required
def annotation_list() -> Any:
    """Lists every annotation, newest first, with counts per intent."""
    engine = context().engine
    page = page_arg()
    items, total = retraining.list_page(engine, page, PER_PAGE)
    audit_request("view_annotations", target=f"{total} annotations", detail=f"page {page}")
    return render_template(
        "annotations.html",
        items=items,
        total=total,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        counts=retraining.count_by_intent(engine),
        intent_labels=retraining.known_intents(),
    )


@blueprint.route("/annotations/<int:annotation_id>/delete", methods=["POST"])
@staff_required
def delete_annotation(annotation_id: int) -> Any:
    """Deletes one annotation."""
    if PlainForm().validate_on_submit() and retraining.delete(context().engine, annotation_id):
        audit_request("delete_annotation", target=f"annotation {annotation_id}")
        flash("Annotation deleted.", "info")
    return redirect(url_for("review.annotation_list"))


@blueprint.route("/annotations/export.yml")
@login_required
def export_nlu() -> Response:
    """Downloads every annotation as a Rasa NLU YAML file."""
    text, count = retraining.nlu_yaml(context().engine)
    audit_request("export_nlu", target=f"{count} examples")
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    response = Response(text, mimetype="application/x-yaml; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="nlu-annotations-{stamp}.yml"'
    return response
