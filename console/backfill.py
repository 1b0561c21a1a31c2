"""Outcomes for the messages a console older than ``console_messages.outcome`` indexed.

When :func:`console.schema.ensure_schema` adds the column to an existing database, it
leaves a note in ``console_state``; the indexer then reads the actions Rasa stored after
each of those messages once, so the dashboard's answered rate covers them too.
"""

from __future__ import annotations

from typing import Dict, List

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from console.outcomes import CANNOT_ANSWER, HUMAN, OUTCOME_OF_ACTION, stronger
from console.schema import BACKFILL_KEY, conversations, events, messages, state

CHUNK = 500


def run_if_pending(engine: Engine) -> bool:
    """Runs :func:`backfill_outcomes` if ``ensure_schema`` asked for it; returns whether it ran."""
    with engine.connect() as connection:
        pending = connection.execute(sa.select(state.c.value).where(state.c.key == BACKFILL_KEY)).scalar()
    if not pending:
        return False
    backfill_outcomes(engine)
    with engine.begin() as connection:
        connection.execute(sa.delete(state).where(state.c.key == BACKFILL_KEY))
    return True


def backfill_outcomes(engine: Engine) -> int:
    """Gives each indexed message without an outcome that of the actions after it; returns how many."""
    e = events.c
    found: Dict[int, str] = {}
    with engine.connect() as connection:
        waiting = set(
            connection.execute(sa.select(messages.c.event_id).where(messages.c.outcome.is_(None))).scalars()
        )
        rows = connection.execution_options(stream_results=True).execute(
            sa.select(e.id, e.sender_id, e.type_name, e.action_name)
            .where(
                sa.or_(
                    e.type_name == "user",
                    sa.and_(e.type_name == "action", e.action_name.in_(list(OUTCOME_OF_ACTION))),
                )
            )
            .order_by(e.sender_id, e.id)
        )
        sender, last = None, None
        for row in rows:
            if row.sender_id != sender:
                sender, last = row.sender_id, None
            if row.type_name == "user":
                last = row.id if row.id in waiting else None
            elif last is not None:
                found[last] = stronger(found.get(last), OUTCOME_OF_ACTION[row.action_name])
    with engine.begin() as connection:
        for outcome in set(found.values()):
            ids: List[int] = [event_id for event_id, value in found.items() if value == outcome]
            for start in range(0, len(ids), CHUNK):
                connection.execute(
                    sa.update(messages)
                    .where(messages.c.event_id.in_(ids[start : start + CHUNK]))
                    .values(outcome=outcome)
                )
        for outcome, flag in ((CANNOT_ANSWER, conversations.c.cannot_answer), (HUMAN, conversations.c.human)):
            had_it = sa.exists().where(
                messages.c.conversation_id == conversations.c.id, messages.c.outcome == outcome
            )
            connection.execute(sa.update(conversations).where(had_it).values({flag: True}))
    return len(found)
