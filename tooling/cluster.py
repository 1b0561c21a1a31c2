"""``make run-cluster``: PostgreSQL, Redis, the action server and two Rasa replicas on one machine.

Every replica serves every conversation: the tracker lives in PostgreSQL and the Redis
ticket lock (``rasa_server.lock_store``) lets one replica at a time handle a conversation,
so a load balancer may send any REST message to any replica (socket.io needs sticky sessions: see
docs/deployment.md).
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Dict, List, Optional, Type

import psycopg2

from core.settings import PROJECT_ROOT, get_settings
from tooling.launcher import (
    Service,
    ServiceGroup,
    action_server,
    free_port,
    rasa_server,
    serve_until_interrupted,
)
from tooling.postgres import PostgresService, postgres_server
from tooling.redis_server import RedisService, redis_server

CLUSTER_ENDPOINTS = PROJECT_ROOT / "deploy" / "endpoints-cluster.yml"
DATABASE = "tracker"


def ensure_database(server: PostgresService, name: str) -> str:
    """Creates database ``name`` unless it exists; returns its URL."""
    try:
        return server.create_database(name)
    except psycopg2.errors.DuplicateDatabase:
        return server.database_url(name)


class Cluster:
    """The services of a scaled-out assistant, started in order and stopped in reverse."""

    def __init__(
        self,
        work_dir: Path,
        rasa_ports: List[int],
        actions_port: int,
        log_dir: Path,
        extra_environment: Optional[Dict[str, str]] = None,
    ) -> None:
        """Plans the services; ``work_dir`` keeps PostgreSQL's data (reachable by 'nobody' as root).

        ``extra_environment`` goes to every process too (e.g. WhatsApp settings for a bench).
        """
        self.extra_environment = dict(extra_environment or {})
        self.postgres: PostgresService = postgres_server(
            work_dir, free_port(), log_dir / "postgres.log", durable=True
        )
        self.redis: RedisService = redis_server(free_port(), log_dir / "redis.log")
        self.actions: Optional[Service] = None
        self.rasa_ports, self.actions_port, self.log_dir = rasa_ports, actions_port, log_dir
        self.replicas: List[Service] = []
        self.database_url = ""
        self._running = ExitStack()

    def environment(self) -> Dict[str, str]:
        """What every process of the cluster shares: the database and Redis."""
        return {
            "TRACKER_DB_URL": self.database_url,
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(self.redis.port),
            "REDIS_DB": "1",
            "REDIS_PASSWORD": "",
            **self.extra_environment,
        }

    def replica(self, port: int) -> Service:
        """Returns a Rasa replica on ``port`` sharing the cluster's database and locks."""
        return rasa_server(
            get_settings(),
            port,
            self.actions_port,
            log_path=self.log_dir / f"rasa-{port}.log",
            endpoints=str(CLUSTER_ENDPOINTS),
            **self.environment(),
        )

    def __enter__(self) -> Cluster:
        """Starts the stores, creates the database, then the action server and the replicas."""
        with ExitStack() as starting:
            starting.enter_context(ServiceGroup([self.postgres, self.redis]))
            self.database_url = ensure_database(self.postgres, DATABASE)
            # The action server reads the queue for a person in the cluster's database.
            self.actions = action_server(
                self.actions_port, log_path=self.log_dir / "actions.log", **self.environment()
            )
            self.replicas = [self.replica(port) for port in self.rasa_ports]
            starting.enter_context(ServiceGroup([self.actions, *self.replicas], timeout=300))
            self._running = starting.pop_all()
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        """Stops the replicas and the action server, then the stores."""
        self._running.close()

    @property
    def services(self) -> List[Service]:
        """Every started service, stores first."""
        actions = [self.actions] if self.actions else []
        return [self.postgres, self.redis, *actions, *self.replicas]

    def urls(self) -> List[str]:
        """The replicas' base URLs."""
        return [f"http://127.0.0.1:{port}" for port in self.rasa_ports]


def main() -> int:
    """Starts the cluster on RASA_PORT and RASA_PORT+1, prints where it is, waits for Ctrl-C."""
    settings = get_settings()
    work_dir = PROJECT_ROOT / "var" / "cluster"
    ports = [settings.ports.rasa, settings.ports.rasa + 1]
    return serve_until_interrupted(
        Cluster(work_dir / "postgres", ports, settings.ports.actions, work_dir / "logs"),
        lambda cluster: "\nThe assistant runs as two replicas sharing PostgreSQL and Redis locks:\n"
        + "".join(f"  REST: {url}/webhooks/rest/webhook\n" for url in cluster.urls())
        + f"  tracker store: {cluster.database_url}\n  logs: {work_dir / 'logs'}\n"
        + "Press Ctrl-C to stop.",
    )


if __name__ == "__main__":
    sys.exit(main())
