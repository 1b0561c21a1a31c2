"""Manage console users from the terminal (`make staff-user`).

    python -m console.accounts_cli add alice --role admin   # password asked twice
    python -m console.accounts_cli passwd alice
    python -m console.accounts_cli list | disable NAME | enable NAME | unlock NAME

The password is read from the terminal, or from CONSOLE_USER_PASSWORD when there is no
terminal (scripts, CI). There is no default password.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import List, Optional

from console import accounts, audit, lockout
from console.schema import ensure_schema
from console.timeutil import format_time
from core.database import make_engine
from core.settings import get_settings


def _password(username: str) -> str:
    configured = get_settings().console.user_password
    if configured:
        return configured
    if not sys.stdin.isatty():
        raise accounts.AccountError("No terminal to ask for the password: set CONSOLE_USER_PASSWORD.")
    first = getpass.getpass(f"Password for {username} (at least {accounts.MIN_PASSWORD_LENGTH} characters): ")
    if first != getpass.getpass("Again: "):
        raise accounts.AccountError("The two passwords differ.")
    return first


def _username(given: Optional[str]) -> str:
    if given:
        return given
    if not sys.stdin.isatty():
        raise accounts.AccountError("Give the username: make staff-user NAME=alice [ROLE=admin]")
    return input("Username: ")


def run(argv: Optional[List[str]] = None) -> int:
    """Runs the command line; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m console.accounts_cli", description="Manage staff console users."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="create a user")
    add.add_argument("username", nargs="?")
    add.add_argument("--role", choices=accounts.ROLES, default="staff")
    for name, text in [
        ("passwd", "set a new password (also unlocks)"),
        ("disable", "stop a user signing in"),
        ("enable", "let a disabled user sign in again"),
        ("unlock", "lift a lockout after failed sign-ins"),
    ]:
        commands.add_parser(name, help=text).add_argument("username")
    commands.add_parser("list", help="list users")
    args = parser.parse_args(argv)

    engine = make_engine(get_settings().core.tracker_db_url)
    ensure_schema(engine)
    try:
        if args.command == "list":
            locks = lockout.active_locks(engine)
            for user in accounts.list_users(engine):
                status = "disabled" if not user.active else ("locked" if user.id in locks else "active")
                last = format_time(user.last_login_at) or "never"
                print(f"{user.username:24} {user.role:6} {status:9} last sign-in {last}")
            return 0
        username = accounts.validate_username(_username(args.username))
        if args.command == "add":
            accounts.create_user(engine, username, _password(username), args.role)
            detail = f"role={args.role}"
            print(
                f"Created {args.role} {username}. Sign in at http://localhost:{get_settings().ports.console}/"
            )
        elif args.command == "passwd":
            accounts.set_password(engine, username, _password(username))
            detail = "password set"
            print(f"New password set for {username}; their sessions have ended.")
        elif args.command in ("disable", "enable"):
            accounts.set_active(engine, username, args.command == "enable")
            detail = f"{args.command}d"
            print(f"{username} {detail}.")
        else:
            accounts.unlock(engine, username)
            detail = "unlocked"
            print(f"{username} unlocked.")
        action = "user_created" if args.command == "add" else "user_updated"
        audit.record(engine, "cli", action, target=username, detail=detail)
        return 0
    except accounts.AccountError as error:
        print(error, file=sys.stderr)
        return 2
    finally:
        engine.dispose()


def main() -> None:
    """Entry point."""
    sys.exit(run())


if __name__ == "__main__":
    main()
