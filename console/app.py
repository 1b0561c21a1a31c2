"""The console's Flask application: configuration, security headers, login, blueprints."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any, Optional
from urllib.parse import urlsplit

from flask import Flask, g, render_template, request
from flask.globals import request_ctx
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from console import accounts
from console.context import ConsoleContext, context
from console.indexer import Indexer
from console.schema import ensure_schema
from console.template_helpers import register_helpers
from console.throttle import LoginThrottle
from console.views import admin, auth, conversations, dashboard, live, review, summary, unanswered
from console.views.auth import SessionUser
from core.database import make_engine
from core.key_files import generated_key
from core.settings import Settings, get_settings
from handoff import schema as handoff_schema
from handoff.staff_link import StaffLink

# Strict: only the console's own scripts, styles and images; no inline code at all.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
MIN_SECRET_LENGTH = 32


def secret_key(settings: Settings) -> str:
    """Returns CONSOLE_SECRET_KEY, or a key generated once into a private file under var/.

    Raises:
        ValueError: If the configured key is too short to sign cookies safely.

    """
    if settings.console.secret_key:
        if len(settings.console.secret_key) < MIN_SECRET_LENGTH:
            raise ValueError(f"CONSOLE_SECRET_KEY must have at least {MIN_SECRET_LENGTH} characters")
        return settings.console.secret_key
    return generated_key(settings.console.secret_file)


def secure_cookies(settings: Settings) -> bool:
    """Whether cookies go over HTTPS only: CONSOLE_SECURE_COOKIES, else CONSOLE_PUBLIC_URL is https."""
    if settings.console.secure_cookies is not None:
        return settings.console.secure_cookies
    return urlsplit((settings.console.public_url or "").strip()).scheme.lower() == "https"


def _security_headers(response: Any) -> Any:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if request.endpoint != "static":
        # Pages show health data: never keep them in a browser or proxy cache.
        response.headers["Cache-Control"] = "no-store"
    return response


def _error_page(error: HTTPException) -> Any:
    if request_ctx.url_adapter is None:
        # The request could not be bound to this site (werkzeug's BadHost for a Host header
        # it cannot encode): no link can be built, so the page's template cannot render.
        return error.get_response()
    return render_template("error.html", error=error), error.code or 500


def _csrf_error(error: CSRFError) -> Any:
    message = (
        "The form was not sent from this console or has expired. Go back, reload the page and try again."
    )
    return render_template("error.html", error=error, message=message), 400


def _catch_up() -> None:
    """Indexes new conversations before a signed-in page is rendered."""
    # The live feeds are polled every second and read Rasa's events themselves: the
    # background indexer is enough for them.
    if request.endpoint in (None, "static", *live.FEEDS) or not current_user.is_authenticated:
        return
    g.indexing_behind = not context().indexer.catch_up(budget=2.0)


def create_app(settings: Optional[Settings] = None) -> Flask:
    """Builds the console for ``settings`` (the environment's by default)."""
    settings = settings or get_settings()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key(settings),
        SESSION_COOKIE_NAME="console_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure_cookies(settings),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.console.session_hours),
        WTF_CSRF_TIME_LIMIT=settings.console.session_hours * 3600,
        # Over HTTPS, a form must also come with a Referer from this very site.
        WTF_CSRF_SSL_STRICT=True,
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    if settings.console.trusted_proxies > 0:
        # Behind nginx: the client's address and scheme are the ones the trusted proxies
        # report (the last hops of X-Forwarded-For); what a client wrote itself is ignored.
        hops = settings.console.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    engine = make_engine(settings.core.tracker_db_url)
    ensure_schema(engine)
    handoff_schema.ensure_schema(engine)
    app.extensions["console"] = ConsoleContext(
        settings=settings,
        engine=engine,
        indexer=Indexer(engine, settings.console.low_confidence),
        login_throttle=LoginThrottle(settings.console.login_attempts, settings.console.login_window_seconds),
        staff_link=StaffLink.from_settings(settings),
    )

    CSRFProtect(app)
    login_manager = LoginManager(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see the console."
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def _load_user(user_id: str) -> Optional[SessionUser]:
        identifier, _, token = user_id.partition(":")
        if not identifier.isdigit():
            return None
        account = accounts.get_user(engine, int(identifier))
        if account is None or not account.active or not secrets.compare_digest(token, account.session_token):
            return None
        return SessionUser(account)

    for blueprint in (
        auth.blueprint,
        conversations.blueprint,
        dashboard.blueprint,
        review.blueprint,
        unanswered.blueprint,
        summary.blueprint,
        live.blueprint,
        admin.blueprint,
    ):
        app.register_blueprint(blueprint)
    register_helpers(app)
    app.before_request(_catch_up)
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _error_page)
    return app
