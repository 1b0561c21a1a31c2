"""The production layout of deploy/, started the way an operator installs it.

Each unit of ``deploy/systemd/`` is read as systemd reads it; its ``ExecStart`` is run for
real from the repository (instead of ``/opt/synapse-assistant``), with free ports and the
variables of ``deploy/env.example``, its placeholders replaced by test-safe values (SQLite
instead of PostgreSQL, a Redis of the test's own). Then the test looks in ``/proc`` at
what each process listens on, and sends malformed HTTP framing to the action server.
The variables the code and the YAML files read must all be in ``deploy/env.example``.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pytest
import requests

from core.knowledge import get_knowledge
from core.settings import PROJECT_ROOT, ConsoleSettings, Settings, environment_variables
from tooling.launcher import Service, ServiceGroup, action_server, free_port
from tooling.redis_server import RedisService, redis_server
from tooling.running_bot import LOG_DIR

INSTALL_DIR = "/opt/synapse-assistant"
UNIT_DIR = PROJECT_ROOT / "deploy" / "systemd"
ENV_EXAMPLE = PROJECT_ROOT / "deploy" / "env.example"
NGINX_CONFIG = PROJECT_ROOT / "deploy" / "nginx" / "synapse-assistant.conf"
DEPLOYMENT_DOC = PROJECT_ROOT / "docs" / "deployment.md"
PLACEHOLDER = "CHANGE-ME"
# Read by Rasa itself, not by core/settings.py.
RASA_VARIABLES = {"RASA_TELEMETRY_ENABLED"}
# systemd's PATH for services; nothing else of the test's environment reaches a unit.
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# What answers 200 once each unit is up, in the order the units start.
READY_PATHS = {
    "synapse-actions.service": "/health",
    "synapse-rasa@.service": "/webhooks/rest/",
    "synapse-console.service": "/login",
}
HARDENING = {
    "User": "synapse",
    "Group": "synapse",
    "WorkingDirectory": INSTALL_DIR,
    "EnvironmentFile": "/etc/synapse-assistant/env",
    "NoNewPrivileges": "true",
    "ProtectSystem": "strict",
    "ProtectHome": "true",
    "PrivateTmp": "true",
}
ASSIGNMENT = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")
YAML_VARIABLE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


@dataclass(frozen=True)
class Unit:
    """A systemd unit file: every ``Key=value`` of its ``[Service]`` section, in order."""

    name: str
    service: Dict[str, List[str]]

    def value(self, key: str) -> str:
        """Returns the last value of ``key`` (systemd's rule for single-valued keys)."""
        return self.service[key][-1]

    @property
    def command(self) -> List[str]:
        """The ``ExecStart`` command line as arguments."""
        return shlex.split(self.value("ExecStart"))

    def option(self, flag: str) -> str:
        """Returns the argument after ``flag`` in the command line."""
        command = self.command
        return command[command.index(flag) + 1]

    @property
    def listen_host(self) -> str:
        """The address the command says to listen on (``--host`` or Rasa's ``--interface``)."""
        command = self.command
        return self.option("--host") if "--host" in command else self.option("--interface")


def read_unit(path: Path) -> Unit:
    """Reads ``path`` as systemd does: comments, ``[sections]``, backslash-continued lines."""
    service: Dict[str, List[str]] = {}
    section = ""
    logical = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    for line in (raw.strip() for raw in logical.splitlines()):
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service":
            key, _, value = line.partition("=")
            service.setdefault(key.strip(), []).append(" ".join(value.split()))
    return Unit(path.name, service)


def units() -> List[Unit]:
    return [read_unit(path) for path in sorted(UNIT_DIR.glob("*.service"))]


def unit_named(name: str) -> Unit:
    return next(unit for unit in units() if unit.name == name)


def read_environment_file(path: Path) -> Dict[str, str]:
    """Reads ``NAME=value`` lines as systemd's ``EnvironmentFile=`` does (no comments after values)."""
    environment: Dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = ASSIGNMENT.match(line.strip())
        if match and not match.group(1):
            environment[match.group(2)] = match.group(3).strip().strip("\"'")
    return environment


def documented_names(path: Path) -> Set[str]:
    """Names set in ``path`` or shown there commented out with their default."""
    return {match.group(2) for line in path.read_text().splitlines() if (match := ASSIGNMENT.match(line))}


def settings_variable_names() -> Set[str]:
    """Every environment variable core/settings.py reads (the fields' ``env=`` names)."""
    return set(environment_variables())


def yaml_variable_names(path: Path) -> Set[str]:
    """The ``${NAME}`` references of a Rasa YAML file outside its comments."""
    lines = (line.split("#", 1)[0] for line in path.read_text(encoding="utf-8").splitlines())
    return {name for line in lines for name in YAML_VARIABLE.findall(line)}


def rasa_yaml_variable_names() -> Set[str]:
    """The ``${NAME}`` references of the channels and of the replicas' endpoints."""
    return yaml_variable_names(PROJECT_ROOT / "credentials.yml") | yaml_variable_names(
        PROJECT_ROOT / "deploy" / "endpoints-cluster.yml"
    )


def descendants(pid: int) -> Set[int]:
    """``pid`` and every process below it."""
    parents: Dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    family = {pid}
    while grown := {child for child, parent in parents.items() if parent in family} - family:
        family |= grown
    return family


def _address(hex_address: str) -> str:
    raw = bytes.fromhex(hex_address)
    # /proc/net/tcp{,6} prints each 32-bit word in host (little-endian) order.
    words = b"".join(raw[index : index + 4][::-1] for index in range(0, len(raw), 4))
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, words)


def listening_addresses(pid: int) -> Set[Tuple[str, int]]:
    """The TCP (address, port) pairs that ``pid`` or its children listen on, from /proc."""
    inodes: Set[str] = set()
    for process in descendants(pid):
        try:
            links = [os.readlink(fd) for fd in Path(f"/proc/{process}/fd").iterdir()]
        except OSError:
            continue
        inodes |= {link[len("socket:[") : -1] for link in links if link.startswith("socket:[")}
    found: Set[Tuple[str, int]] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            columns = row.split()
            local, state, inode = columns[1], columns[3], columns[9]
            if state == "0A" and inode in inodes:  # 0A: LISTEN
                address, port = local.split(":")
                found.add((_address(address), int(port, 16)))
    return found


def send_raw(port: int, request: bytes, timeout: float = 5.0) -> Tuple[str, float]:
    """Sends ``request`` byte for byte; returns the status line and the seconds it took."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(request)
        try:
            answer = connection.recv(4096)
        except TimeoutError:
            answer = b"no answer"
    return answer.split(b"\r\n", 1)[0].decode("latin-1"), time.monotonic() - started


@dataclass
class Deployment:
    """The units started from the repository, with the ports they were given."""

    ports: Dict[str, int]
    services: Dict[str, Service] = field(default_factory=dict)

    def port_of(self, unit: Unit) -> int:
        """The test's port for ``unit`` (its ``--port``, or ``%i`` for the Rasa template)."""
        return self.ports[unit.option("--port")]

    def url(self, unit_name: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port_of(unit_named(unit_name))}{path}"


def safe_environment(ports: Dict[str, int], redis: RedisService, tmp_dir: Path) -> Dict[str, str]:
    """deploy/env.example with test-safe values, and the units' ports moved to the test's."""
    environment = read_environment_file(ENV_EXAMPLE)
    environment.update(
        TRACKER_DB_URL=f"sqlite:///{tmp_dir / 'tracker.db'}",
        REDIS_PORT=str(redis.port),
        REDIS_PASSWORD="",
        CONSOLE_SECRET_KEY=secrets.token_urlsafe(48),
        HANDOFF_API_KEY=secrets.token_urlsafe(48),
    )
    for stated, port in ports.items():
        for name, value in environment.items():
            environment[name] = value.replace(f"127.0.0.1:{stated}/", f"127.0.0.1:{port}/")
    left = [name for name, value in environment.items() if PLACEHOLDER in value]
    assert left == [], f"give these placeholders a test value: {left}"
    return environment


def unit_service(unit: Unit, deployment: Deployment, environment: Dict[str, str], home: Path) -> Service:
    """The unit's ``ExecStart`` from the repository on the test's port, with systemd's environment."""
    command = [argument.replace(INSTALL_DIR, str(PROJECT_ROOT)) for argument in unit.command]
    port = deployment.port_of(unit)
    command[command.index("--port") + 1] = str(port)
    assert unit.value("WorkingDirectory") == INSTALL_DIR  # Service starts in PROJECT_ROOT
    unit_environment = dict(environment, PATH=SYSTEMD_PATH, HOME=str(home))
    for assignment in unit.service.get("Environment", []):
        name, _, value = assignment.partition("=")
        unit_environment[name] = value
    return Service(
        name=unit.name,
        command=command,
        ready_url=f"http://127.0.0.1:{port}{READY_PATHS[unit.name]}",
        environment=unit_environment,
        log_path=LOG_DIR / f"deploy-{unit.name.split('.')[0]}-{port}.log",
    )


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """Every unit of deploy/systemd/ running from the repository, plus a Redis for the locks."""
    tmp_dir = tmp_path_factory.mktemp("deploy")
    stated_ports = {unit.option("--port") for unit in units()}
    running = Deployment(ports={stated: free_port() for stated in stated_ports})
    redis = redis_server(free_port(), LOG_DIR / "deploy-redis.log")
    environment = safe_environment(running.ports, redis, tmp_dir)
    by_name = {unit.name: unit for unit in units()}
    running.services = {
        name: unit_service(by_name[name], running, environment, tmp_dir) for name in READY_PATHS
    }
    with ServiceGroup([redis, *running.services.values()]):
        yield running


def test_every_unit_is_started_and_checked_here() -> None:
    assert {unit.name for unit in units()} == set(READY_PATHS)


@pytest.mark.parametrize("unit", units(), ids=lambda unit: unit.name)
def test_every_unit_runs_as_the_service_user_with_the_same_hardening(unit: Unit) -> None:
    assert {key: unit.value(key) for key in HARDENING if key in unit.service} == HARDENING
    assert unit.command[0] == f"{INSTALL_DIR}/.venv/bin/python"


@pytest.mark.parametrize("unit", units(), ids=lambda unit: unit.name)
def test_every_unit_command_is_the_documented_one(unit: Unit) -> None:
    documented = " ".join(["python", *unit.command[1:]]).replace("%i", "5005")
    assert f"`{documented}`" in DEPLOYMENT_DOC.read_text(encoding="utf-8")


def test_the_launcher_starts_the_action_server_as_its_unit_does() -> None:
    unit = unit_named("synapse-actions.service")
    launched = action_server(int(unit.option("--port"))).command
    assert launched[1:] == unit.command[1:]


def test_nginx_sends_the_console_to_the_port_of_its_unit() -> None:
    port = unit_named("synapse-console.service").option("--port")
    proxied = set(re.findall(r"proxy_pass http://127\.0\.0\.1:(\d+);", NGINX_CONFIG.read_text()))
    assert port in proxied


def test_env_example_names_every_variable_the_code_reads() -> None:
    missing = settings_variable_names() - documented_names(ENV_EXAMPLE)
    assert missing == set(), f"add to deploy/env.example: {sorted(missing)}"


def test_env_example_names_nothing_that_nothing_reads() -> None:
    read = settings_variable_names() | rasa_yaml_variable_names() | RASA_VARIABLES
    assert documented_names(ENV_EXAMPLE) - read == set()


def test_env_example_sets_every_variable_the_rasa_yaml_files_refer_to() -> None:
    # Rasa refuses to start when one is undefined, so a commented default is not enough.
    referred = rasa_yaml_variable_names()
    assert referred >= {"ACTION_ENDPOINT_URL", "TRACKER_DB_URL", "REDIS_PASSWORD"}
    missing = referred - set(read_environment_file(ENV_EXAMPLE))
    assert missing == set(), f"set in deploy/env.example: {sorted(missing)}"


def test_env_example_turns_on_secure_console_cookies_and_a_key_the_console_refuses() -> None:
    environment = read_environment_file(ENV_EXAMPLE)
    from console.app import secret_key

    assert environment["CONSOLE_SECURE_COOKIES"] == "true"
    assert environment["CONSOLE_PUBLIC_URL"].startswith("https://")
    assert environment["CONSOLE_SECRET_KEY"] == PLACEHOLDER
    with pytest.raises(ValueError, match="CONSOLE_SECRET_KEY"):
        secret_key(Settings(console=ConsoleSettings(secret_key=environment["CONSOLE_SECRET_KEY"])))


@pytest.mark.servers
@pytest.mark.parametrize("name", sorted(READY_PATHS))
def test_each_unit_listens_only_on_the_address_it_states(deployment: Deployment, name: str) -> None:
    unit = unit_named(name)
    process = deployment.services[name].process
    assert process is not None
    assert unit.listen_host == "127.0.0.1"  # nginx is the only way in
    assert listening_addresses(process.pid) == {(unit.listen_host, deployment.port_of(unit))}


@pytest.mark.servers
@pytest.mark.parametrize("length", ["-1", "abc"])
def test_the_action_unit_refuses_a_malformed_content_length_at_once(
    deployment: Deployment, length: str
) -> None:
    port = deployment.port_of(unit_named("synapse-actions.service"))
    request = (
        "POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n{{}}"
    )
    status, seconds = send_raw(port, request.encode())
    assert status == "HTTP/1.1 400 Bad Request"
    assert seconds < 2
    assert requests.get(deployment.url("synapse-actions.service", "/health"), timeout=5).ok


@pytest.mark.servers
def test_the_action_unit_answers_unknown_paths_and_methods_with_their_own_status(
    deployment: Deployment,
) -> None:
    # rasa-sdk's catch-all handler answers every error 500; the guarded server keeps 404 and 405.
    assert (
        requests.get(deployment.url("synapse-actions.service", "/nothing-here"), timeout=5).status_code == 404
    )
    assert requests.get(deployment.url("synapse-actions.service", "/webhook"), timeout=5).status_code == 405


@pytest.mark.servers
def test_a_message_to_the_rasa_unit_is_answered_through_the_action_unit(deployment: Deployment) -> None:
    # The quote comes from the action server: env.example's ACTION_ENDPOINT_URL reaches its unit.
    replies = requests.post(
        deployment.url("synapse-rasa@.service", "/webhooks/rest/webhook"),
        json={"sender": "deploy-units", "message": "/surgery"},
        timeout=60,
    ).json()
    answer = "\n\n".join(reply.get("text", "") for reply in replies)
    assert get_knowledge().topics["surgery"].sections[0].text in answer
