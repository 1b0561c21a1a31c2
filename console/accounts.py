"""Console accounts: argon2 password hashes, roles, and signing in (lockouts: console/lockout.py)."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import List, Optional

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine

from console import lockout
from console.schema import users

# A viewer reads every page but changes nothing (no takeover, reply, presence or annotation).
ROLES = ("viewer", "staff", "admin")
MIN_PASSWORD_LENGTH = 12
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_hasher = PasswordHasher()


class AccountError(ValueError):
    """A user cannot be created or changed; the text says why."""


@dataclass(frozen=True)
class Account:
    """A console user, without the password hash."""

    id: int
    username: str
    role: str
    active: bool
    session_token: str
    created_at: float
    last_login_at: Optional[float]

    @property
    def is_admin(self) -> bool:
        """Whether the user may manage users and read the audit log."""
        return self.role == "admin"

    @property
    def can_act(self) -> bool:
        """Whether the user may act on conversations: take, reply, hand back, annotate."""
        return self.role in ("staff", "admin")


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: ``ok``, ``invalid`` or ``locked``."""

    outcome: str
    account: Optional[Account] = None


def _account(row: sa.engine.Row) -> Account:
    values = dict(row._mapping)
    for unread in ("password_hash", "failed_logins", "locked_until"):
        values.pop(unread, None)
    return Account(**values)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_hex(16))


def validate_username(username: str) -> str:
    """Returns the username normalised to lower case.

    Raises:
        AccountError: If it is not 2-64 letters, digits, dots, dashes or underscores.

    """
    normalised = username.strip().lower()
    if not _USERNAME.match(normalised):
        raise AccountError(
            "Username: 2 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit."
        )
    return normalised


def validate_password(password: str, username: str) -> None:
    """Refuses passwords that are short or contain the username."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if username and username.lower() in password.lower():
        raise AccountError("The password must not contain the username.")


def _validate_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"Role must be one of {', '.join(ROLES)}.")
    return role


def count_users(engine: Engine) -> int:
    """Returns how many users exist."""
    with engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(users)).scalar_one())


def list_users(engine: Engine) -> List[Account]:
    """Returns every user, by username."""
    with engine.connect() as connection:
        return [_account(row) for row in connection.execute(sa.select(users).order_by(users.c.username))]


def get_user(engine: Engine, user_id: int) -> Optional[Account]:
    """Returns the user with ``user_id``, if any."""
    with engine.connect() as connection:
        row = connection.execute(sa.select(users).where(users.c.id == user_id)).first()
    return _account(row) if row else None


def find_user(engine: Engine, username: str) -> Optional[Account]:
    """Returns the user called ``username`` (any case), if any."""
    with engine.connect() as connection:
        row = connection.execute(sa.select(users).where(users.c.username == username.strip().lower())).first()
    return _account(row) if row else None


def create_user(engine: Engine, username: str, password: str, role: str = "staff") -> Account:
    """Creates a user.

    Raises:
        AccountError: If the name, password or role is not acceptable, or the name is taken.

    """
    username = validate_username(username)
    validate_password(password, username)
    _validate_role(role)
    if find_user(engine, username) is not None:
        raise AccountError(f"User {username} exists already.")
    with engine.begin() as connection:
        connection.execute(
            sa.insert(users).values(
                username=username,
                password_hash=_hasher.hash(password),
                role=role,
                active=True,
                failed_logins=0,
                session_token=secrets.token_hex(16),
                created_at=time.time(),
            )
        )
    account = find_user(engine, username)
    assert account is not None
    return account


def _require(engine: Engine, username: str) -> Account:
    account = find_user(engine, username)
    if account is None:
        raise AccountError(f"No user {username}.")
    return account


def _update(engine: Engine, user_id: int, **values: object) -> None:
    with engine.begin() as connection:
        connection.execute(sa.update(users).where(users.c.id == user_id).values(**values))


def _other_active_admins(engine: Engine, user_id: int) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.select(sa.func.count())
                .select_from(users)
                .where(users.c.role == "admin", users.c.active.is_(True), users.c.id != user_id)
            ).scalar_one()
        )


def set_password(engine: Engine, username: str, password: str) -> None:
    """Sets a new password, unlocks the account and ends its sessions."""
    account = _require(engine, username)
    validate_password(password, account.username)
    _update(engine, account.id, password_hash=_hasher.hash(password), session_token=secrets.token_hex(16))
    lockout.clear_user(engine, account.id)


def set_role(engine: Engine, username: str, role: str) -> None:
    """Changes the role; the last active admin stays an admin."""
    account = _require(engine, username)
    _validate_role(role)
    if account.is_admin and role != "admin" and _other_active_admins(engine, account.id) == 0:
        raise AccountError("The last active admin cannot lose the admin role.")
    _update(engine, account.id, role=role, session_token=secrets.token_hex(16))


def set_active(engine: Engine, username: str, active: bool) -> None:
    """Enables or disables sign-in; disabling ends the user's sessions."""
    account = _require(engine, username)
    if not active and account.is_admin and _other_active_admins(engine, account.id) == 0:
        raise AccountError("The last active admin cannot be disabled.")
    _update(engine, account.id, active=active, session_token=secrets.token_hex(16))


def unlock(engine: Engine, username: str) -> None:
    """Lifts the account's lockouts, at every address."""
    lockout.clear_user(engine, _require(engine, username).id)


def end_sessions(engine: Engine, user_id: int) -> None:
    """Invalidates every session cookie of the user (sign-out)."""
    _update(engine, user_id, session_token=secrets.token_hex(16))


def sign_in(
    engine: Engine, username: str, password: str, address: str, max_failures: int, lockout_minutes: int
) -> SignIn:
    """Checks a username and password typed at the client ``address`` (its throttle key).

    ``max_failures`` failures from one address lock the account at that address for
    ``lockout_minutes``, even for the right password; sign-ins from other addresses go on
    (console/lockout.py). Unknown users and locked pairs cost the same hashing time as a
    real check, so the time taken tells nothing either.
    """
    with engine.connect() as connection:
        row = connection.execute(sa.select(users).where(users.c.username == username.strip().lower())).first()
    if row is None:
        _verify(_dummy_hash(), password)
        return SignIn("invalid")
    account = _account(row)
    if lockout.is_locked(engine, account.id, address):
        _verify(_dummy_hash(), password)
        return SignIn("locked", account)
    if _verify(row.password_hash, password) and account.active:
        values: dict = {"last_login_at": time.time()}
        if _hasher.check_needs_rehash(row.password_hash):
            values["password_hash"] = _hasher.hash(password)
        _update(engine, account.id, **values)
        lockout.clear(engine, account.id, address)
        return SignIn("ok", get_user(engine, account.id))
    if lockout.record_failure(engine, account.id, address, max_failures, lockout_minutes * 60):
        return SignIn("locked", account)
    return SignIn("invalid", account)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False
