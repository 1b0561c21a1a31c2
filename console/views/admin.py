"""Admin pages: users (create, roles, passwords, lockouts) and the audit log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from console import accounts, audit, lockout
from console.context import context
from console.forms import USER_ACTIONS, CreateUserForm, ResetPasswordForm, UserActionForm
from console.queries import clean_arg
from console.views.auth import admin_required, audit_request
from console.views.conversations import page_arg

blueprint = Blueprint("admin", __name__, url_prefix="/admin")
AUDIT_PER_PAGE = 50
ROLE_ACTIONS = {"make_admin": "admin", "make_staff": "staff", "make_viewer": "viewer"}


@blueprint.route("/users", methods=["GET", "POST"])
@admin_required
def users() -> Any:
    """Lists users; the form on the page creates one."""
    engine = context().engine
    form = CreateUserForm()
    if form.validate_on_submit():
        try:
            created = accounts.create_user(
                engine, form.username.data or "", form.password.data or "", form.role.data
            )
        except accounts.AccountError as error:
            form.username.errors = [str(error)]
        else:
            audit_request("user_created", target=created.username, detail=f"role={created.role}")
            flash(f"Created {created.role} {created.username}. Give them the password in person.", "success")
            return redirect(url_for("admin.users"))
    page = render_template(
        "users.html",
        form=form,
        users=accounts.list_users(engine),
        locks=lockout.active_locks(engine),
        actions=USER_ACTIONS,
        reset_form=ResetPasswordForm(formdata=None),
        action_form=UserActionForm(formdata=None),
    )
    return page, (400 if form.errors else 200)


@blueprint.route("/users/<int:user_id>/action", methods=["POST"])
@admin_required
def user_action(user_id: int) -> Any:
    """Changes a user's role, enables, disables or unlocks them."""
    engine = context().engine
    account = accounts.get_user(engine, user_id)
    form = UserActionForm()
    if account is None:
        abort(404)
    if form.validate_on_submit():
        action = form.action.data
        try:
            if action in ROLE_ACTIONS:
                accounts.set_role(engine, account.username, ROLE_ACTIONS[action])
            elif action in ("disable", "enable"):
                if action == "disable" and account.id == current_user.account.id:
                    raise accounts.AccountError("You cannot disable yourself.")
                accounts.set_active(engine, account.username, action == "enable")
            else:
                accounts.unlock(engine, account.username)
        except accounts.AccountError as error:
            flash(str(error), "warning")
        else:
            audit_request("user_updated", target=account.username, detail=USER_ACTIONS[action])
            flash(f"{USER_ACTIONS[action]}: {account.username}.", "success")
    else:
        flash("Choose a change first.", "warning")
    return redirect(url_for("admin.users"))


@blueprint.route("/users/<int:user_id>/password", methods=["POST"])
@admin_required
def reset_password(user_id: int) -> Any:
    """Sets a new password for a user (and ends their sessions)."""
    engine = context().engine
    account = accounts.get_user(engine, user_id)
    if account is None:
        abort(404)
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        flash(f"The password must have at least {accounts.MIN_PASSWORD_LENGTH} characters.", "warning")
        return redirect(url_for("admin.users"))
    try:
        accounts.set_password(engine, account.username, form.password.data or "")
    except accounts.AccountError as error:
        flash(str(error), "warning")
    else:
        audit_request("user_updated", target=account.username, detail="password reset by admin")
        flash(f"New password set for {account.username}; their sessions have ended.", "success")
    return redirect(url_for("admin.users"))


@blueprint.route("/audit")
@admin_required
def audit_log() -> Any:
    """The audit log, newest first, filterable by user and action."""
    engine = context().engine
    username = clean_arg(request.args.get("user"), 64) or None
    action = clean_arg(request.args.get("action"), 32) or None
    page = page_arg()
    entries, total = audit.entries(engine, page, AUDIT_PER_PAGE, username=username, action=action)
    return render_template(
        "audit.html",
        entries=entries,
        total=total,
        page=page,
        pages=max(1, -(-total // AUDIT_PER_PAGE)),
        usernames=audit.usernames(engine),
        actions=audit.ACTIONS,
        selected_user=username or "",
        selected_action=action or "",
    )
