"""The console's command lines and first start: users without default passwords, secret key."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path
from typing import Dict

from console import accounts
from core.database import make_engine
from core.settings import PROJECT_ROOT, child_environment
from tooling.launcher import BIN_DIR, free_port


def run(module: str, *args: str, **environment: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN_DIR / "python"), "-m", module, *args],
        cwd=PROJECT_ROOT,
        env=child_environment(**environment),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_staff_user_needs_a_password_from_the_terminal_or_the_environment(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    refused = run("console.accounts_cli", "add", "alice", TRACKER_DB_URL=url)
    assert refused.returncode == 2 and "CONSOLE_USER_PASSWORD" in refused.stderr
    weak = run("console.accounts_cli", "add", "alice", TRACKER_DB_URL=url, CONSOLE_USER_PASSWORD="short")
    assert weak.returncode == 2 and "at least 12" in weak.stderr
    created = run(
        "console.accounts_cli",
        "add",
        "alice",
        "--role",
        "admin",
        TRACKER_DB_URL=url,
        CONSOLE_USER_PASSWORD="a proper passphrase",
    )
    assert created.returncode == 0, created.stderr
    engine = make_engine(url)
    alice = accounts.find_user(engine, "alice")
    assert alice is not None and alice.role == "admin"
    assert accounts.sign_in(engine, "alice", "a proper passphrase", "127.0.0.1", 5, 15).outcome == "ok"
    duplicate = run(
        "console.accounts_cli", "add", "alice", TRACKER_DB_URL=url, CONSOLE_USER_PASSWORD="another passphrase"
    )
    assert duplicate.returncode == 2 and "exists" in duplicate.stderr
    assert "alice" in run("console.accounts_cli", "list", TRACKER_DB_URL=url).stdout
    engine.dispose()


def test_first_start_explains_how_to_create_a_user_and_generates_a_private_secret(tmp_path: Path) -> None:
    secret = tmp_path / "var" / "console-secret.key"
    environment: Dict[str, str] = {
        "TRACKER_DB_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
        "CONSOLE_SECRET_FILE": str(secret),
    }
    process = subprocess.Popen(
        [str(BIN_DIR / "python"), "-m", "console", "--port", str(free_port())],
        cwd=PROJECT_ROOT,
        env=child_environment(**environment),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        first_lines = [process.stdout.readline() for _ in range(4)]
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert any("make staff-user NAME=" in line for line in first_lines), first_lines
    assert secret.exists() and len(secret.read_text().strip()) >= 32
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
