"""postgres_server: a cluster of its own in a folder, started, restarted and stopped."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import psycopg2
import pytest
import sqlalchemy as sa

from tooling.launcher import ServiceGroup, free_port
from tooling.postgres import find_pg_binary, postgres_server
from tooling.running_bot import LOG_DIR

pytestmark = pytest.mark.servers


def test_initialises_serves_keeps_data_across_restarts_and_stops() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="pg-test-"))
    try:
        port = free_port()
        server = postgres_server(data_dir, port, log_path=LOG_DIR / f"postgres-{port}.log")
        with ServiceGroup([server]):
            url = server.create_database("kept")
            engine = sa.create_engine(url)
            with engine.begin() as connection:
                connection.execute(sa.text("CREATE TABLE notes (text TEXT)"))
                connection.execute(sa.text("INSERT INTO notes VALUES ('still here')"))
            engine.dispose()
        assert not server.running
        with pytest.raises(psycopg2.OperationalError):
            psycopg2.connect(host="127.0.0.1", port=port, user="postgres", connect_timeout=2)
        assert (data_dir / "PG_VERSION").exists()
        if os.geteuid() == 0:
            assert data_dir.stat().st_uid != 0  # PostgreSQL refuses root: it ran unprivileged

        again = postgres_server(data_dir, free_port(), log_path=LOG_DIR / f"postgres-{port}-again.log")
        with ServiceGroup([again]):
            engine = sa.create_engine(again.database_url("kept"))
            with engine.connect() as connection:
                assert connection.execute(sa.text("SELECT text FROM notes")).scalar() == "still here"
            engine.dispose()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def test_binaries_are_found_on_the_path_or_in_debians_folder() -> None:
    assert find_pg_binary("initdb").name == "initdb"
    assert find_pg_binary("postgres").exists()


def test_database_names_are_checked() -> None:
    server = postgres_server(Path(tempfile.gettempdir()) / "unused", free_port())
    with pytest.raises(ValueError, match="plain database name"):
        server.create_database('x"; DROP DATABASE postgres; --')
