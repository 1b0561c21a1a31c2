"""The audit log: who signed in, viewed or exported what, what admins changed, who talked to patients."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.database import audit_log, record_audit

# Action name → what the admin page shows.
ACTIONS = {
    "login": "Signed in",
    "login_failed": "Sign-in failed",
    "locked": "Account locked at an address",
    "login_throttled": "Sign-ins from an address refused",
    "logout": "Signed out",
    "view_dashboard": "Viewed dashboard",
    "view_conversation_list": "Listed conversations",
    "view_conversation": "Viewed conversation",
    "view_annotations": "Viewed annotations",
    "export_csv": "Exported CSV",
    "export_jsonl": "Exported JSONL",
    "export_nlu": "Exported NLU annotations",
    "annotate": "Annotated message",
    "view_unanswered": "Viewed questions we could not answer",
    "unanswered_label": "Labelled a group of unanswered questions",
    "unanswered_mark": "Marked a group not in the article",
    "unanswered_unmark": "Removed a not-in-the-article mark",
    "view_summary": "Viewed the weekly summary",
    "export_summary_html": "Downloaded the weekly summary (HTML)",
    "export_summary_csv": "Downloaded the weekly summary (CSV)",
    "delete_annotation": "Deleted annotation",
    "user_created": "Created user",
    "user_updated": "Changed user",
    "purge": "Retention purge",
    "view_waiting": "Viewed the waiting queue",
    "presence": "Marked available/away",
    "handoff_take": "Took a conversation",
    "handoff_reply": "Replied to a patient",
    "handoff_hand_back": "Handed back to the assistant",
    # Written by the Rasa server (username "assistant") when nobody took a request in time.
    "handoff_timeout": "Request for a person timed out",
}


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log."""

    id: int
    at: float
    username: str
    action: str
    target: str
    detail: str
    remote_addr: str

    @property
    def label(self) -> str:
        """The action in words."""
        return ACTIONS.get(self.action, self.action)


record = record_audit


def entries(
    engine: Engine,
    page: int = 1,
    per_page: int = 50,
    username: Optional[str] = None,
    action: Optional[str] = None,
) -> Tuple[List[AuditEntry], int]:
    """Returns one page of entries, newest first, and how many match in all."""
    conditions = []
    if username:
        conditions.append(audit_log.c.username == username)
    if action:
        conditions.append(audit_log.c.action == action)
    with engine.connect() as connection:
        total = connection.execute(
            sa.select(sa.func.count()).select_from(audit_log).where(*conditions)
        ).scalar_one()
        rows = connection.execute(
            sa.select(audit_log)
            .where(*conditions)
            .order_by(audit_log.c.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).fetchall()
    return [AuditEntry(**row._mapping) for row in rows], int(total)


def usernames(engine: Engine) -> List[str]:
    """Returns every username that appears in the log."""
    with engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(audit_log.c.username).distinct().order_by(audit_log.c.username)
            ).scalars()
        )


def purge_before(engine: Engine, cutoff: float) -> int:
    """Deletes entries older than ``cutoff``; returns how many."""
    with engine.begin() as connection:
        return int(connection.execute(sa.delete(audit_log).where(audit_log.c.at < cutoff)).rowcount or 0)
