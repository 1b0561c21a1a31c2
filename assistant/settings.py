"""The one place that reads the environment.

Every other module asks :func:`get_settings` instead of touching ``os.environ``, so the
full list of knobs an operator can turn is visible here. Rasa's own YAML files
(``endpoints.yml``, ``credentials.yml``) read their ``${VAR}`` values themselves.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional

from pydantic import BaseSettings, Field

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TWILIO_API_DEFAULT = "https://api.twilio.com"
WHATSAPP_API_DEFAULT = "https://graph.facebook.com/v20.0"
# The ${NAME}s in credentials.yml. Rasa refuses to start when one of them is undefined,
# so the launcher passes every one to the Rasa server: set, defaulted, or empty.
CHANNEL_VARIABLES = (
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_WHATSAPP_NUMBER",
    "TWILIO_API_BASE_URL",
    "PUBLIC_BASE_URL",
    "WHATSAPP_VERIFY_TOKEN",
    "WHATSAPP_APP_SECRET",
    "WHATSAPP_ACCESS_TOKEN",
    "WHATSAPP_PHONE_NUMBER_ID",
    "WHATSAPP_API_BASE_URL",
    "SENDER_HASH_KEY",
)


class Settings(BaseSettings):
    """Runtime configuration, each field overridable by the environment variable named."""

    rasa_port: int = Field(default=5005, env="RASA_PORT")
    actions_port: int = Field(default=5055, env="ACTIONS_PORT")
    demo_port: int = Field(default=8080, env="DEMO_PORT")
    console_port: int = Field(default=8090, env="CONSOLE_PORT")

    clinic_config: Path = Field(default=PROJECT_ROOT / "clinic.yml", env="CLINIC_CONFIG")
    clinic_name: Optional[str] = Field(default=None, env="CLINIC_NAME")
    clinic_website: Optional[str] = Field(default=None, env="CLINIC_WEBSITE")
    clinic_phone: Optional[str] = Field(default=None, env="CLINIC_PHONE")
    clinic_whatsapp: Optional[str] = Field(default=None, env="CLINIC_WHATSAPP")
    clinic_address: Optional[str] = Field(default=None, env="CLINIC_ADDRESS")
    clinic_hours: Optional[str] = Field(default=None, env="CLINIC_HOURS")
    clinic_booking_url: Optional[str] = Field(default=None, env="CLINIC_BOOKING_URL")
    clinic_article_url: Optional[str] = Field(default=None, env="CLINIC_ARTICLE_URL")

    # WhatsApp channels (channels/, credentials.yml): a channel missing any of its values
    # stays off and its webhook answers 503. PUBLIC_BASE_URL is the https address Twilio
    # calls, which its signatures cover.
    twilio_account_sid: Optional[str] = Field(default=None, env="TWILIO_ACCOUNT_SID")
    twilio_auth_token: Optional[str] = Field(default=None, env="TWILIO_AUTH_TOKEN")
    twilio_whatsapp_number: Optional[str] = Field(default=None, env="TWILIO_WHATSAPP_NUMBER")
    twilio_api_base_url: str = Field(default=TWILIO_API_DEFAULT, env="TWILIO_API_BASE_URL")
    public_base_url: Optional[str] = Field(default=None, env="PUBLIC_BASE_URL")
    whatsapp_verify_token: Optional[str] = Field(default=None, env="WHATSAPP_VERIFY_TOKEN")
    whatsapp_app_secret: Optional[str] = Field(default=None, env="WHATSAPP_APP_SECRET")
    whatsapp_access_token: Optional[str] = Field(default=None, env="WHATSAPP_ACCESS_TOKEN")
    whatsapp_phone_number_id: Optional[str] = Field(default=None, env="WHATSAPP_PHONE_NUMBER_ID")
    whatsapp_api_base_url: str = Field(default=WHATSAPP_API_DEFAULT, env="WHATSAPP_API_BASE_URL")
    # Key of the HMAC that turns a phone number into the conversation id stored in the
    # tracker; both WhatsApp channels stay off without it.
    sender_hash_key: Optional[str] = Field(default=None, env="SENDER_HASH_KEY")
    # Key that signs the web chat's session tokens and hashes them into the stored
    # conversation ids (channels/web_sessions.py), 32 characters or more; when unset, one
    # is generated into var/web-session.key.
    web_session_key: Optional[str] = Field(default=None, env="WEB_SESSION_KEY")

    tracker_db_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'tracker.db'}", env="TRACKER_DB_URL"
    )
    # Web origins allowed to call the Rasa server from a browser (the clinic's site and
    # the demo page), comma-separated.
    cors_origins: str = Field(default="", env="CORS_ORIGINS")
    model_path: Path = Field(default=PROJECT_ROOT / "models" / "current.tar.gz", env="RASA_MODEL")

    # Longest patient message accepted, in characters (the widget enforces the same).
    max_message_chars: int = Field(default=1000, env="MAX_MESSAGE_CHARS")
    # Largest HTTP request body the Rasa server reads (Sanic's SANIC_REQUEST_MAX_SIZE);
    # bigger ones get 413 before any parsing.
    request_max_bytes: int = Field(default=64 * 1024, env="REQUEST_MAX_BYTES")

    # Performance and resilience of the Rasa server (docs/performance.md).
    # Events of a conversation loaded per message (assistant/tracker_store.py).
    tracker_window_events: int = Field(default=30, env="TRACKER_WINDOW_EVENTS")
    # SQLite tracker store only: NORMAL survives a server crash, FULL also a power cut
    # (an fsync per message).
    sqlite_synchronous: str = Field(default="NORMAL", env="SQLITE_SYNCHRONOUS")
    # Longest wait for the action server before the patient gets "can't look that up".
    action_timeout_s: float = Field(default=1.5, env="ACTION_TIMEOUT_S")
    # Messages handled at once by one Rasa server; more wait their turn (assistant/admission.py).
    max_concurrent_messages: int = Field(default=8, env="MAX_CONCURRENT_MESSAGES")
    # Messages that may wait for one of those places, and for how long; past either the
    # message is refused as "busy, try again" before anything is stored.
    max_waiting_messages: int = Field(default=200, env="MAX_WAITING_MESSAGES")
    admission_wait_s: float = Field(default=30.0, env="ADMISSION_WAIT_S")
    # One web chat socket: a burst of messages, then this many a minute; at most
    # socket_max_pending of its messages handled or waiting (the rest get "slow down").
    socket_burst_messages: int = Field(default=5, env="SOCKET_BURST_MESSAGES")
    socket_messages_per_minute: int = Field(default=20, env="SOCKET_MESSAGES_PER_MINUTE")
    socket_max_pending: int = Field(default=2, env="SOCKET_MAX_PENDING")
    # Off only to measure stock Rasa (make bench): the Rasa server then runs as plain `rasa run`.
    rasa_hooks: bool = Field(default=True, env="RASA_HOOKS")

    knowledge_file: Path = Field(default=PROJECT_ROOT / "knowledge" / "knowledge.yml", env="KNOWLEDGE_FILE")

    # Staff console (console/). Loopback by default: expose it through a TLS proxy only.
    console_host: str = Field(default="127.0.0.1", env="CONSOLE_HOST")
    # Signs the session cookies; when unset, one is generated into console_secret_file.
    console_secret_key: Optional[str] = Field(default=None, env="CONSOLE_SECRET_KEY")
    console_secret_file: Path = Field(
        default=PROJECT_ROOT / "var" / "console-secret.key", env="CONSOLE_SECRET_FILE"
    )
    # The address staff open the console at, e.g. https://console.clinic.example; when it
    # is https, the session cookie is Secure.
    console_public_url: Optional[str] = Field(default=None, env="CONSOLE_PUBLIC_URL")
    # Overrides what CONSOLE_PUBLIC_URL implies: true sends cookies only over HTTPS, false also in clear.
    console_secure_cookies: Optional[bool] = Field(default=None, env="CONSOLE_SECURE_COOKIES")
    # Reverse proxies in front of the console whose X-Forwarded-For and -Proto are believed
    # (1 behind nginx); 0 ignores those headers, so a forged one changes nothing.
    console_trusted_proxies: int = Field(default=0, env="CONSOLE_TRUSTED_PROXIES")
    # Sign-in attempts allowed per client address per window; more are answered 429.
    console_login_attempts: int = Field(default=20, env="CONSOLE_LOGIN_ATTEMPTS")
    console_login_window_seconds: int = Field(default=300, env="CONSOLE_LOGIN_WINDOW_SECONDS")
    console_session_hours: int = Field(default=8, env="CONSOLE_SESSION_HOURS")
    console_max_failed_logins: int = Field(default=5, env="CONSOLE_MAX_FAILED_LOGINS")
    console_lockout_minutes: int = Field(default=15, env="CONSOLE_LOCKOUT_MINUTES")
    # Password for `make staff-user` when it must not prompt (scripts, CI); never a default.
    console_user_password: Optional[str] = Field(default=None, env="CONSOLE_USER_PASSWORD")
    # A message whose intent confidence is below this is flagged "low confidence".
    console_low_confidence: float = Field(default=0.6, env="CONSOLE_LOW_CONFIDENCE")
    console_timezone: str = Field(default="Asia/Kuala_Lumpur", env="CONSOLE_TIMEZONE")
    # PDPA retention: `make purge` deletes conversations idle for longer than this.
    retention_days: int = Field(default=180, env="RETENTION_DAYS")
    audit_retention_days: int = Field(default=365, env="AUDIT_RETENTION_DAYS")

    class Config:
        """Pydantic settings: values come from the process environment only."""

        case_sensitive = False

    def allowed_origins(self) -> List[str]:
        """Returns the configured browser origins plus the local demo page's."""
        demo = [f"http://localhost:{self.demo_port}", f"http://127.0.0.1:{self.demo_port}"]
        configured = [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]
        return demo + configured


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Returns the settings, read once per process."""
    return Settings()


def clinic_overrides(settings: Settings) -> dict:
    """Returns the clinic fields set in the environment, keyed as in ``clinic.yml``."""
    fields: List[str] = [
        "name",
        "website",
        "phone",
        "whatsapp",
        "address",
        "hours",
        "booking_url",
        "article_url",
    ]
    values = {field: getattr(settings, f"clinic_{field}") for field in fields}
    return {field: value for field, value in values.items() if value}


def child_environment(**overrides: str) -> Dict[str, str]:
    """Returns this process's environment plus ``overrides``, for a service to start with."""
    environment = dict(os.environ)
    environment.update(overrides)
    return environment


def channel_environment(settings: Settings) -> Dict[str, str]:
    """Returns every variable ``credentials.yml`` refers to, empty when not configured."""
    return {name: str(getattr(settings, name.lower()) or "") for name in CHANNEL_VARIABLES}
