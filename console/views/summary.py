"""The weekly summary: a console page, and the same as an HTML or CSV file to download."""

from __future__ import annotations

from typing import Any, Dict

from flask import Blueprint, Response, flash, render_template, request
from flask_login import login_required

from console import summary as summaries
from console.context import context
from console.periods import date_range
from console.views.auth import audit_request
from console.views.dashboard import scope_arg

blueprint = Blueprint("summary", __name__)
DEFAULT_DAYS = 7


def _summary() -> summaries.Summary:
    first, last, problems = date_range(request.args, DEFAULT_DAYS, "start", "end")
    for problem in problems:
        flash(problem, "warning")
    return summaries.build(context().engine, first, last, scope_arg())


def _args(summary: summaries.Summary) -> Dict[str, str]:
    return {
        "start": summary.first.isoformat(),
        "end": summary.last.isoformat(),
        **summary.learning.scope.as_args(),
    }


def _file(summary: summaries.Summary, body: str, kind: str, mimetype: str) -> Response:
    audit_request(
        f"export_summary_{kind}", detail=f"{summary.first.isoformat()} to {summary.last.isoformat()}"
    )
    response = Response(body, mimetype=mimetype)
    name = f"summary-{summary.first.isoformat()}-to-{summary.last.isoformat()}.{kind}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@blueprint.route("/summary")
@login_required
def summary() -> Any:
    """Shows the summary of a period (the last 7 days by default: ``start`` and ``end``)."""
    found = _summary()
    audit_request("view_summary", detail=f"{found.first.isoformat()} to {found.last.isoformat()}")
    return render_template("summary.html", summary=found, args=_args(found))


@blueprint.route("/summary.html")
@login_required
def summary_html() -> Response:
    """Downloads the summary as one HTML file (no styles or scripts: it reads anywhere)."""
    found = _summary()
    return _file(
        found, render_template("summary_file.html", summary=found), "html", "text/html; charset=utf-8"
    )


@blueprint.route("/summary.csv")
@login_required
def summary_csv() -> Response:
    """Downloads the summary as CSV: section, item, count, of, note."""
    found = _summary()
    return _file(found, summaries.csv_text(found), "csv", "text/csv; charset=utf-8")
