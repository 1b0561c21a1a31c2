"""The "Questions we could not answer" page: misses grouped by meaning, and what staff do with a group."""

from __future__ import annotations

from datetime import date
from typing import Any, Dict, Optional, Tuple

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from console import unanswered, unanswered_marks
from console.context import context
from console.forms import GroupForm, GroupLabelForm
from console.periods import date_range, parse_day
from console.views.auth import audit_request, staff_required

blueprint = Blueprint("unanswered", __name__)
DEFAULT_DAYS = 30
SHOWN = 40


@blueprint.route("/unanswered")
@login_required
def unanswered_page() -> Any:
    """Lists the period's groups, biggest first, with examples and what staff can do with each."""
    first, last, problems = date_range(request.args, DEFAULT_DAYS)
    for problem in problems:
        flash(problem, "warning")
    engine = context().engine
    grouping = unanswered.group(engine, first, last)
    shown = grouping.groups[:SHOWN]
    marks = unanswered_marks.all_marks(engine)
    audit_request(
        "view_unanswered",
        target=f"{grouping.total:,} messages",
        detail=f"{first.isoformat()} to {last.isoformat()}",
    )
    return render_template(
        "unanswered.html",
        grouping=grouping,
        shown=shown,
        hidden=grouping.groups[SHOWN:],
        marks=marks,
        mark_of={group.key: unanswered_marks.mark_of(group, marks) for group in shown},
        labelled=unanswered_marks.labelled(engine, shown),
        intent_groups=unanswered_marks.label_choices(),
        range_args={"from": first.isoformat(), "to": last.isoformat()},
        max_grouped=unanswered.MAX_GROUPED,
    )


def _group(form: GroupForm) -> Tuple[Optional[unanswered.Group], date, date]:
    """The group the form names, in its period's current grouping (None when it is gone)."""
    first, last = parse_day(form.first.data), parse_day(form.last.data)
    if first is None or last is None:
        first, last, _ = date_range({}, DEFAULT_DAYS)
    grouping = unanswered.group(context().engine, first, last)
    return grouping.find(str(form.key.data or "")), first, last


def _back(first: date, last: date, anchor: Optional[str] = None) -> Any:
    args: Dict[str, Any] = {"from": first.isoformat(), "to": last.isoformat(), "_anchor": anchor}
    return redirect(url_for("unanswered.unanswered_page", **args))


@blueprint.route("/unanswered/label", methods=["POST"])
@staff_required
def label() -> Any:
    """Annotates every message of a group with one intent (the NLU export picks them up)."""
    form = GroupLabelForm()
    form.intent.choices = [choice for _, choices in unanswered_marks.label_choices() for choice in choices]
    if not form.validate_on_submit():
        flash("Choose an intent from the list.", "warning")
        first, last, _ = date_range({}, DEFAULT_DAYS)
        return _back(parse_day(form.first.data) or first, parse_day(form.last.data) or last)
    group, first, last = _group(form)
    if group is None:
        flash("That group has changed since the page was loaded: here it is again.", "warning")
        return _back(first, last)
    saved = unanswered_marks.label(context().engine, group, str(form.intent.data), current_user.username)
    audit_request(
        "unanswered_label",
        target=f"{saved} messages",
        detail=f"intent={form.intent.data}; {first.isoformat()} to {last.isoformat()}",
    )
    flash(f"Labelled {saved} message{'' if saved == 1 else 's'} as “{form.intent.data}”.", "success")
    return _back(first, last, f"g-{group.central.event_id}")


@blueprint.route("/unanswered/mark", methods=["POST"])
@staff_required
def mark() -> Any:
    """Marks a group "not in the article": it goes on the list of what to write next."""
    form = GroupForm()
    if not form.validate_on_submit():
        flash("The form was incomplete.", "warning")
        return redirect(url_for("unanswered.unanswered_page"))
    group, first, last = _group(form)
    if group is None:
        flash("That group has changed since the page was loaded: here it is again.", "warning")
        return _back(first, last)
    unanswered_marks.mark(context().engine, group, current_user.username)
    audit_request(
        "unanswered_mark",
        target=f"group of {group.size} messages",
        detail=f"{first.isoformat()} to {last.isoformat()}",
    )
    flash("Marked “not in the article”: it is on the list of what to write next.", "success")
    return _back(first, last, f"g-{group.central.event_id}")


@blueprint.route("/unanswered/unmark", methods=["POST"])
@staff_required
def unmark() -> Any:
    """Takes a group off the list of what to write next."""
    form = GroupForm()
    first, last, _ = date_range({}, DEFAULT_DAYS)
    if form.validate_on_submit() and unanswered_marks.unmark(context().engine, str(form.key.data)):
        audit_request("unanswered_unmark", target="a group of unanswered questions")
        flash("Removed from the list of what to write next.", "info")
    return _back(parse_day(form.first.data) or first, parse_day(form.last.data) or last)
