"""The dashboard page: activity, fallback rate, topics, emergencies, handoffs, and what to learn."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, render_template, request
from flask_login import login_required

from console import dashboard_figures as figures
from console import handoff_figures, learning_figures
from console.context import context
from console.periods import date_range
from console.queries import clean_arg, filter_options
from console.views.auth import audit_request

blueprint = Blueprint("dashboard", __name__)
DEFAULT_DAYS = 30


def scope_arg() -> learning_figures.Scope:
    """The channel and language filters of the page's query arguments."""
    return learning_figures.Scope(
        channel=clean_arg(request.args.get("channel"), 64),
        language=clean_arg(request.args.get("language"), 8),
    )


@blueprint.route("/dashboard")
@login_required
def dashboard() -> Any:
    """Shows the figures for a date range (the last 30 days by default), one channel or language."""
    first, last, problems = date_range(request.args, DEFAULT_DAYS)
    for problem in problems:
        flash(problem, "warning" if "Ignored" in problem else "info")
    scope = scope_arg()
    engine = context().engine
    board = figures.build(engine, first, last, scope)
    handoff = handoff_figures.build(engine, first, last, scope)
    learning = learning_figures.build(engine, first, last, scope)
    scope_text = "".join(f"; {key}={value}" for key, value in scope.as_args().items())
    audit_request("view_dashboard", detail=f"{first.isoformat()} to {last.isoformat()}{scope_text}")
    return render_template(
        "dashboard.html",
        board=board,
        handoff=handoff,
        learning=learning,
        scope=scope,
        options=filter_options(engine),
        range_args={"from": first, "to": last},
    )
