"""A Redis server of its own, for the ticket lock of ``rasa_server.lock_store``.

``redis_server(port)`` returns a :class:`~tooling.launcher.Service` running Debian's
``redis-server`` on loopback without persistence: the locks live for seconds, and a
restarted Redis simply starts without any.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import redis  # type: ignore[import-untyped]

from tooling.launcher import Service, ServiceError


@dataclass
class RedisService(Service):
    """``redis-server`` on 127.0.0.1:``port``."""

    port: int = 0

    def answers(self) -> bool:
        """Whether the server answers PING."""
        try:
            return bool(redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1).ping())
        except redis.RedisError:
            return False


def redis_server(port: int, log_path: Optional[Path] = None) -> RedisService:
    """Returns a Redis server on loopback ``port``, without persistence (not started yet).

    Raises:
        ServiceError: If ``redis-server`` is not installed (scripts/system-deps.sh installs it).

    """
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServiceError("redis-server not found; run scripts/system-deps.sh (apt package redis-server)")
    command = [
        binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
        "--protected-mode", "yes",
    ]  # fmt: skip
    return RedisService(
        name=f"Redis :{port}",
        command=command,
        ready_url=f"redis://127.0.0.1:{port}/0",
        log_path=log_path,
        port=port,
    )
