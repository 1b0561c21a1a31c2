"""The tracker store database as every process opens it, and the audit log all of them append to.

Rasa, the action server and the console share one database (SQLite by default,
PostgreSQL in cluster mode). The audit log lives here rather than in the console because
the assistant writes to it too: a request for a person that nobody took in time is
recorded by the Rasa server.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

audit_metadata = sa.MetaData()
audit_log = sa.Table(
    "console_audit_log",
    audit_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("target", sa.String(255), nullable=False, default=""),
    sa.Column("detail", sa.Text, nullable=False, default=""),
    sa.Column("remote_addr", sa.String(64), nullable=False, default=""),
    sa.Index("console_ix_audit_at", "at"),
)


def make_engine(url: str) -> Engine:
    """Returns an engine for the tracker store database.

    SQLite gets write-ahead logging, so staff reading the console never block the Rasa
    server writing a conversation, and a generous busy timeout for the moments both write.
    """
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: object, _record: object) -> None:
            cursor = connection.cursor()  # type: ignore[attr-defined]
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=5)


def record_audit(
    engine: Engine, username: str, action: str, target: str = "", detail: str = "", remote_addr: str = ""
) -> None:
    """Appends one audit entry; texts are cut to their column sizes."""
    with engine.begin() as connection:
        connection.execute(
            sa.insert(audit_log).values(
                at=time.time(),
                username=username[:64],
                action=action[:32],
                target=target[:255],
                detail=detail[:2000],
                remote_addr=remote_addr[:64],
            )
        )
