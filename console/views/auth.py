"""Signing in and out, changing one's password, and the role checks (admin pages, staff actions)."""

from __future__ import annotations

import math
import time
import unicodedata
from functools import wraps
from typing import Any, Callable, Optional, TypeVar, cast
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import UserMixin, current_user, login_required, login_user, logout_user

from console import accounts, audit
from console.context import context
from console.forms import ChangePasswordForm, LoginForm
from console.throttle import Verdict, client_key
from handoff import queue as handoff_queue

blueprint = Blueprint("auth", __name__)
View = TypeVar("View", bound=Callable[..., Any])


class SessionUser(UserMixin):
    """The signed-in account, as Flask-Login sees it."""

    def __init__(self, account: accounts.Account) -> None:
        """Wraps an account."""
        self.account = account

    def get_id(self) -> str:
        """The session cookie holds the id and the account's current session token."""
        return f"{self.account.id}:{self.account.session_token}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        """Disabled accounts cannot sign in."""
        return self.account.active

    @property
    def username(self) -> str:
        """The account's username."""
        return self.account.username

    @property
    def is_admin(self) -> bool:
        """Whether the account has the admin role."""
        return self.account.is_admin

    @property
    def can_act(self) -> bool:
        """Whether the account may act on conversations (staff or admin, not viewer)."""
        return self.account.can_act


def admin_required(view: View) -> View:
    """Lets only signed-in admins through; others get 403."""

    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return cast(View, wrapper)


def staff_required(view: View) -> View:
    """Lets only signed-in staff and admins through; viewers get 403."""

    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.can_act:
            abort(403, description="Your account can read the console but not change anything.")
        return view(*args, **kwargs)

    return cast(View, wrapper)


def audit_request(action: str, target: str = "", detail: str = "", username: Optional[str] = None) -> None:
    """Writes an audit entry for the current user and client address."""
    who = username or (current_user.username if current_user.is_authenticated else "-")
    audit.record(context().engine, who, action, target, detail, request.remote_addr or "")


def same_site_path(target: Optional[str]) -> Optional[str]:
    """Returns ``target`` when it is a path on this site, else None.

    Browsers drop tabs and newlines inside a URL and read a backslash as a slash, so
    "/<tab>/evil.example" or "/<backslash>evil.example" would leave the site: any whitespace, control
    character or backslash refuses the target, as do a scheme, a host and "//".
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(char.isspace() or unicodedata.category(char).startswith("C") for char in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def _safe_next(target: Optional[str]) -> str:
    return same_site_path(target) or url_for("dashboard.dashboard")


def client() -> str:
    """The client's throttle and lockout key (its address as ProxyFix resolved it)."""
    return client_key(request.remote_addr or "")


def _sign_in_failed() -> str:
    """The one answer to every failed sign-in, so it tells nothing about the username."""
    settings = context().settings
    return (
        "Wrong username or password, or too many failed sign-ins from this address: try again, "
        f"wait {settings.console.lockout_minutes} minutes, or ask an admin."
    )


def _throttled(verdict: Verdict) -> Any:
    """Answers 429 to an address over the sign-in limit, without looking at the form."""
    settings = context().settings
    if verdict.first_refusal:
        audit_request(
            "login_throttled",
            target=f"over {settings.console.login_attempts} in {settings.console.login_window_seconds} s",
            username="-",
        )
    minutes = math.ceil(verdict.retry_after / 60)
    error = (
        f"Too many sign-in attempts from this address. Try again in {minutes} minute{'s' * (minutes > 1)}."
    )
    page = render_template("login.html", form=LoginForm(), error=error, no_users=False)
    return page, 429, {"Retry-After": str(verdict.retry_after)}


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The sign-in page."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    ctx = context()
    if request.method == "POST":
        verdict = ctx.login_throttle.attempt(client())
        if not verdict.allowed:
            return _throttled(verdict)
    form = LoginForm()
    error, status = None, 200
    if form.validate_on_submit():
        username = form.username.data or ""
        result = accounts.sign_in(
            ctx.engine,
            username,
            form.password.data or "",
            client(),
            ctx.settings.console.max_failed_logins,
            ctx.settings.console.lockout_minutes,
        )
        if result.outcome == "ok" and result.account is not None:
            login_user(SessionUser(result.account))
            session.permanent = True
            audit_request("login", username=result.account.username)
            return redirect(_safe_next(request.args.get("next")))
        # The audit log tells admins what happened; the page says the same in every case.
        error, status = _sign_in_failed(), 401
        audit_request(
            "locked" if result.outcome == "locked" else "login_failed", target=username[:64], username="-"
        )
    elif request.method == "POST":
        error, status = "Enter your username and password.", 400
    no_users = accounts.count_users(ctx.engine) == 0
    return render_template("login.html", form=form, error=error, no_users=no_users), status


@blueprint.route("/logout", methods=["POST"])
@login_required
def logout() -> Any:
    """Signs out, ending every session of this account."""
    audit_request("logout")
    engine = context().engine
    # Signed out, they cannot answer: stop offering them to patients now, not after the presence timeout.
    if current_user.can_act:
        handoff_queue.set_presence(engine, current_user.username, False, time.time())
    accounts.end_sessions(engine, current_user.account.id)
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@blueprint.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> Any:
    """Lets the signed-in user change their password."""
    ctx = context()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        check = accounts.sign_in(
            ctx.engine,
            current_user.username,
            form.current.data or "",
            client(),
            ctx.settings.console.max_failed_logins,
            ctx.settings.console.lockout_minutes,
        )
        if check.outcome != "ok":
            form.current.errors = ["The current password is wrong."]
        else:
            try:
                accounts.set_password(ctx.engine, current_user.username, form.password.data or "")
            except accounts.AccountError as error:
                form.password.errors = [str(error)]
            else:
                audit_request("user_updated", target=current_user.username, detail="changed own password")
                logout_user()
                session.clear()
                flash("Password changed. Sign in with the new password.", "info")
                return redirect(url_for("auth.login"))
    return render_template("password.html", form=form)
