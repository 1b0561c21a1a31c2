"""The dashboard page: activity, fallback rate, topics, emergencies, unanswered questions, handoffs."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Optional

from flask import Blueprint, flash, render_template, request
from flask_login import login_required

from console import dashboard_figures as figures
from console import handoff_figures
from console.context import context
from console.timeutil import today
from console.views.auth import audit_request

blueprint = Blueprint("dashboard", __name__)
DEFAULT_DAYS = 30
MAX_DAYS = 366


def _day(name: str) -> Optional[date]:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        flash(f"Ignored the {'start' if name == 'from' else 'end'} date: use YYYY-MM-DD.", "warning")
        return None


@blueprint.route("/dashboard")
@login_required
def dashboard() -> Any:
    """Shows the figures for a date range, the last 30 days by default."""
    last = _day("to") or today()
    first = _day("from") or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        first, last = last, first
    if (last - first).days >= MAX_DAYS:
        first = last - timedelta(days=MAX_DAYS - 1)
        flash(f"Showing the last {MAX_DAYS} days of the range.", "info")
    engine = context().engine
    board = figures.build(engine, first, last)
    handoff = handoff_figures.build(engine, first, last)
    audit_request("view_dashboard", detail=f"{first.isoformat()} to {last.isoformat()}")
    return render_template(
        "dashboard.html", board=board, handoff=handoff, range_args={"from": first, "to": last}
    )
