"""The weekly summary staff download (HTML or CSV): the week's figures in one place.

Every figure comes from the functions the dashboard uses (console.dashboard_figures,
console.handoff_figures, console.learning_figures) and the groups from the "Questions
we could not answer" page (console.unanswered): the summary never counts on its own.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any, List, Optional, Tuple

from sqlalchemy.engine import Engine

from console import dashboard_figures, handoff_figures, learning_figures, unanswered, unanswered_marks
from console.exports import spreadsheet_cell
from console.learning_figures import EVERYTHING, Scope
from console.timeutil import format_time

TOP_GROUPS = 10
CSV_COLUMNS = ["section", "item", "count", "of", "note"]


@dataclass
class Summary:
    """The figures of a period, as the dashboard computes them, and its top unanswered groups."""

    first: date
    last: date
    board: dashboard_figures.Dashboard
    handoff: handoff_figures.HandoffFigures
    learning: learning_figures.LearningFigures
    grouping: unanswered.Grouping
    top_groups: List[Tuple[unanswered.Group, Optional[unanswered_marks.Mark]]]
    marks: List[unanswered_marks.Mark]
    generated_at: float = field(default_factory=time.time)


def build(engine: Engine, first: date, last: date, scope: Scope = EVERYTHING) -> Summary:
    """Computes the summary of the days ``first`` to ``last`` (clinic time zone)."""
    grouping = unanswered.group(engine, first, last)
    marks = unanswered_marks.all_marks(engine)
    return Summary(
        first=first,
        last=last,
        board=dashboard_figures.build(engine, first, last, scope),
        handoff=handoff_figures.build(engine, first, last, scope),
        learning=learning_figures.build(engine, first, last, scope),
        grouping=grouping,
        top_groups=[
            (group, unanswered_marks.mark_of(group, marks)) for group in grouping.groups[:TOP_GROUPS]
        ],
        marks=marks,
    )


def rows(summary: Summary) -> List[List[Any]]:
    """The summary as rows of (section, item, count, of, note)."""
    total = summary.learning.total
    found: List[List[Any]] = [
        ["period", "from", summary.first.isoformat(), "", ""],
        ["period", "to", summary.last.isoformat(), "", ""],
        ["conversations", "Conversations", summary.board.conversations, "", ""],
        ["questions", "Quote given", total.answered, total.questions, "typed patient questions"],
        ["questions", "Clarifying question", total.clarified, total.questions, "typed patient questions"],
        ["questions", "Cannot answer", total.cannot_answer, total.questions, "typed patient questions"],
        [
            "conversations",
            "Ended without cannot answer or a request for a person",
            total.ended_well,
            total.conversations,
            "",
        ],
        ["ratings", "Rated helpful", total.helpful, total.rated, "rated answers"],
    ]
    for topic in summary.learning.topics:
        found.append(["topic_answers", topic.title, topic.answers, "", topic.topic])
        found.append(["topic_rated_helpful", topic.title, topic.helpful, topic.rated, topic.topic])
    found.append(["unanswered", "Messages we could not answer", summary.grouping.total, "", ""])
    for group, mark in summary.top_groups:
        note = "; ".join(f"{count} {kind}" for kind, count in group.kind_counts())
        if mark:
            note += "; not in the article"
        found.append(["unanswered_group", group.central.text, group.size, "", note])
    for item in summary.marks:
        note = f"marked by {item.marked_by} on {format_time(item.marked_at)}"
        found.append(["write_next", item.text, item.messages, "", note])
    found += [
        ["emergencies", "Emergency conversations", summary.board.emergencies, "", ""],
        ["requests_for_a_person", "Requests for a person", summary.handoff.total.requests, "", ""],
        [
            "requests_for_a_person",
            "Replied by staff",
            summary.handoff.total.replied,
            summary.handoff.total.requests,
            "",
        ],
        [
            "conversations",
            "Patient asked for a person",
            total.person_requested,
            total.conversations,
            "",
        ],
    ]
    return found


def csv_text(summary: Summary) -> str:
    """The summary as CSV, every cell safe to open in a spreadsheet."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows(summary):
        writer.writerow([spreadsheet_cell(value) for value in row])
    return buffer.getvalue()
