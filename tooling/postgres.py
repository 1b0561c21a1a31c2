"""A PostgreSQL server of its own in a folder, for tests and benchmarks.

``postgres_server(data_dir, port)`` returns a :class:`~tooling.launcher.Service` that
initialises a cluster in ``data_dir`` (once) and serves it on loopback ``port``, so it
fits in a :class:`~tooling.launcher.ServiceGroup` next to the Rasa server.

PostgreSQL refuses to run as root. When this process is root, ``initdb`` and ``postgres``
run as the unprivileged user ``nobody`` (through ``setpriv``), and ``data_dir`` is handed
to that user: its parent must be reachable by ``nobody``. ``tempfile.mkdtemp()`` itself
fits (a new folder in /tmp); pytest's ``tmp_path`` sits under a root-only folder and does not.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import psycopg2

from core.settings import child_environment
from tooling.launcher import Service, ServiceError

UNPRIVILEGED_USER = "nobody"
SUPERUSER = "postgres"
# Where Debian's postgresql packages keep the binaries when they are not on the PATH.
DEBIAN_PG_BINS = "/usr/lib/postgresql/*/bin"


def find_pg_binary(name: str) -> Path:
    """Returns the path of a PostgreSQL program (``initdb``, ``postgres``).

    Raises:
        ServiceError: If PostgreSQL is not installed (``scripts/system-deps.sh`` installs it).

    """
    found = shutil.which(name)
    if found:
        return Path(found)
    candidates = sorted(glob.glob(f"{DEBIAN_PG_BINS}/{name}"), key=lambda path: int(Path(path).parts[3]))
    if candidates:
        return Path(candidates[-1])
    raise ServiceError(f"PostgreSQL's {name} not found; run scripts/system-deps.sh (apt package postgresql)")


def _as_unprivileged(command: List[str]) -> List[str]:
    """Prefixes ``command`` so that it runs as ``nobody`` when we are root."""
    if os.geteuid() != 0:
        return command
    account = pwd.getpwnam(UNPRIVILEGED_USER)
    setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
    return [
        setpriv,
        f"--reuid={account.pw_uid}",
        f"--regid={account.pw_gid}",
        "--clear-groups",
        "--",
        *command,
    ]


@dataclass
class PostgresService(Service):
    """A PostgreSQL cluster in ``data_dir``, served on 127.0.0.1:``port``, trust auth for ``postgres``."""

    data_dir: Path = Path()
    port: int = 0

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the default database."""
        return self.database_url(SUPERUSER)

    def database_url(self, database: str) -> str:
        """Returns the SQLAlchemy URL of ``database`` on this server."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Initialises the cluster when the folder has none, then starts the server."""
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        super().start()

    def _initdb(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            account = pwd.getpwnam(UNPRIVILEGED_USER)
            os.chown(self.data_dir, account.pw_uid, account.pw_gid)
        self.data_dir.chmod(0o700)
        command = [
            str(find_pg_binary("initdb")),
            "--pgdata",
            str(self.data_dir),
            "--username",
            SUPERUSER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        ]
        result = subprocess.run(
            _as_unprivileged(command),
            capture_output=True,
            text=True,
            env=self.environment,
            check=False,
        )
        if result.returncode != 0:
            hint = ""
            if os.geteuid() == 0:
                hint = (
                    f"\n(as root, PostgreSQL runs as '{UNPRIVILEGED_USER}', who must be able to reach "
                    f"{self.data_dir}: pass a new folder in /tmp, e.g. tempfile.mkdtemp())"
                )
            raise ServiceError(f"initdb failed: {result.stderr.strip()}{hint}")

    def answers(self) -> bool:
        """Whether the server accepts a connection."""
        try:
            psycopg2.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname=SUPERUSER).close()
        except psycopg2.OperationalError:
            return False
        return True

    def stop(self, timeout: float = 15.0) -> None:
        """Stops with a fast shutdown (SIGINT: clients are disconnected), then as any service."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        super().stop(timeout)

    def create_database(self, name: str) -> str:
        """Creates database ``name`` (letters, digits, underscores) and returns its URL."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"not a plain database name: {name!r}")
        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname=SUPERUSER)
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return self.database_url(name)


def postgres_server(
    data_dir: Path,
    port: int,
    log_path: Optional[Path] = None,
    durable: bool = False,
) -> PostgresService:
    """Returns a PostgreSQL server for ``data_dir`` on ``port`` (not started yet).

    Args:
        data_dir: The cluster's folder; initialised on first start when empty.
        port: The TCP port on 127.0.0.1.
        log_path: Where the server's output goes; inherited when None.
        durable: Keep fsync and full-page writes. Off by default: a test cluster is thrown
            away, and without fsync it is several times faster on a shared disk.

    """
    data_dir = Path(data_dir).resolve()
    options = ["listen_addresses=127.0.0.1", f"unix_socket_directories={data_dir}", "max_connections=100"]
    if not durable:
        options += ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]
    command = [str(find_pg_binary("postgres")), "-D", str(data_dir), "-p", str(port)]
    for option in options:
        command += ["-c", option]
    return PostgresService(
        name=f"PostgreSQL :{port}",
        command=_as_unprivileged(command),
        ready_url=f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{SUPERUSER}",
        environment=child_environment(LC_ALL="C"),
        log_path=log_path,
        data_dir=data_dir,
        port=port,
    )
