"""The one place that reads the environment, in one group per process that uses it.

Every other module asks :func:`get_settings` instead of touching ``os.environ``, so the
full list of knobs an operator can turn is visible here, each environment variable named
once. ``endpoints.yml`` reads its ``${VAR}`` values itself; ``credentials.yml`` only names
the channels, which read their own group here.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from pydantic import BaseModel, BaseSettings, Field
from pydantic.fields import ModelField

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class _FromEnvironment(BaseSettings):
    class Config:
        """Values come from the process environment only, names in any case."""

        case_sensitive = False


def _variable(field: ModelField) -> str:
    return next(iter(field.field_info.extra["env_names"])).upper()


def unset_variables(group: BaseSettings, *fields: str) -> List[str]:
    """Returns the environment variables of ``group``'s ``fields`` that are unset or empty."""
    return [_variable(group.__fields__[name]) for name in fields if not getattr(group, name)]


class CoreSettings(_FromEnvironment):
    """What every process reads: the knowledge, the tracker database, the longest message."""

    knowledge_file: Path = Field(default=PROJECT_ROOT / "knowledge" / "knowledge.yml", env="KNOWLEDGE_FILE")
    tracker_db_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'tracker.db'}", env="TRACKER_DB_URL"
    )
    # Longest patient message accepted on any channel, in characters (the widget enforces the same).
    # Real patients' stories run past 1,000 characters (docs/nlu.md), so the default allows 2,000.
    max_message_chars: int = Field(default=2000, env="MAX_MESSAGE_CHARS")


class PortSettings(_FromEnvironment):
    """The loopback ports of the four processes."""

    rasa: int = Field(default=5005, env="RASA_PORT")
    actions: int = Field(default=5055, env="ACTIONS_PORT")
    demo: int = Field(default=8080, env="DEMO_PORT")
    console: int = Field(default=8090, env="CONSOLE_PORT")


class Clinic(BaseModel):
    """The clinic's contact details, as in ``clinic.yml``; a field that is None is unknown and never shown."""

    name: str = "the clinic"
    website: Optional[str] = None
    phone: Optional[str] = None
    whatsapp: Optional[str] = None
    address: Optional[str] = None
    hours: Optional[str] = None
    booking_url: Optional[str] = None
    article_url: Optional[str] = None
    # The clinic's privacy notice (PDPA), linked from the greeting; left out when unset.
    privacy_notice_url: Optional[str] = None

    class Config:
        """Read once, never changed."""

        allow_mutation = False

    def contact_fields(self) -> List[Tuple[str, str]]:
        """Returns the (field, value) pairs a patient can use to reach the clinic."""
        order = ("phone", "whatsapp", "booking_url", "website", "address", "hours")
        return [(name, value) for name in order if (value := getattr(self, name))]


class ClinicSettings(Clinic, _FromEnvironment):
    """``clinic.yml`` (CLINIC_CONFIG) and the ``CLINIC_<FIELD>`` variables that override its fields."""

    config: Path = Field(default=PROJECT_ROOT / "clinic.yml", env="CLINIC_CONFIG")

    class Config:
        """Each field of :class:`Clinic` is overridden by CLINIC_ + its name."""

        env_prefix = "CLINIC_"

    def overrides(self) -> Dict[str, str]:
        """Returns the clinic fields set in the environment, keyed as in ``clinic.yml``."""
        return {
            field: value
            for field, value in self.dict(exclude_unset=True, exclude={"config"}).items()
            if value
        }


class RasaServerSettings(_FromEnvironment):
    """The Rasa server's performance and resilience (docs/performance.md)."""

    model_path: Path = Field(default=PROJECT_ROOT / "models" / "current.tar.gz", env="RASA_MODEL")
    # Largest HTTP request body the Rasa server reads (Sanic's SANIC_REQUEST_MAX_SIZE);
    # bigger ones get 413 before any parsing.
    request_max_bytes: int = Field(default=64 * 1024, env="REQUEST_MAX_BYTES")
    # Events of a conversation loaded per message (rasa_server/tracker_store.py).
    tracker_window_events: int = Field(default=30, env="TRACKER_WINDOW_EVENTS")
    # SQLite tracker store only: NORMAL survives a server crash, FULL also a power cut
    # (an fsync per message).
    sqlite_synchronous: str = Field(default="NORMAL", env="SQLITE_SYNCHRONOUS")
    # Longest wait for the action server before the patient gets "can't look that up".
    action_timeout_s: float = Field(default=1.5, env="ACTION_TIMEOUT_S")
    # Messages handled at once by one Rasa server; more wait their turn (rasa_server/admission.py).
    max_concurrent_messages: int = Field(default=8, env="MAX_CONCURRENT_MESSAGES")
    # Messages that may wait for one of those places, and for how long; past either the
    # message is refused as "busy, try again" before anything is stored.
    max_waiting_messages: int = Field(default=200, env="MAX_WAITING_MESSAGES")
    admission_wait_s: float = Field(default=30.0, env="ADMISSION_WAIT_S")
    # Off only to measure stock Rasa (make bench): the Rasa server then runs as plain `rasa run`.
    hooks: bool = Field(default=True, env="RASA_HOOKS")


class WebChatSettings(_FromEnvironment):
    """The website chat (channels/socketio.py): browser origins, sessions, per-socket limits."""

    # Web origins allowed to call the Rasa server from a browser (the clinic's site), comma-separated.
    cors_origins: str = Field(default="", env="CORS_ORIGINS")
    # Signs the session tokens and hashes them into the stored conversation ids
    # (channels/web_sessions.py), 32 characters or more; unset, one is generated into
    # var/web-session.key.
    session_key: Optional[str] = Field(default=None, env="WEB_SESSION_KEY")
    # A session token is honoured this many hours after it was issued; later, the chat starts
    # a new conversation (a copied token does not open the conversation for months).
    session_hours: float = Field(default=24.0, gt=0, env="WEB_SESSION_HOURS")
    # One socket: a burst of messages, then this many a minute; at most max_pending of its
    # messages handled or waiting (the rest get "slow down").
    burst_messages: int = Field(default=5, env="SOCKET_BURST_MESSAGES")
    messages_per_minute: int = Field(default=20, env="SOCKET_MESSAGES_PER_MINUTE")
    max_pending: int = Field(default=2, env="SOCKET_MAX_PENDING")


class WhatsAppSettings(_FromEnvironment):
    """What both WhatsApp providers share: a provider missing any of its values stays off (503)."""

    # The https address Twilio calls, which its signatures cover.
    public_base_url: Optional[str] = Field(default=None, env="PUBLIC_BASE_URL")
    # Key of the HMAC that turns a phone number into the conversation id stored in the tracker.
    sender_hash_key: Optional[str] = Field(default=None, env="SENDER_HASH_KEY")


class TwilioSettings(_FromEnvironment):
    """WhatsApp through Twilio (channels/twilio_whatsapp.py)."""

    account_sid: Optional[str] = Field(default=None, env="TWILIO_ACCOUNT_SID")
    auth_token: Optional[str] = Field(default=None, env="TWILIO_AUTH_TOKEN")
    whatsapp_number: Optional[str] = Field(default=None, env="TWILIO_WHATSAPP_NUMBER")
    api_base_url: str = Field(default="https://api.twilio.com", env="TWILIO_API_BASE_URL")


class MetaSettings(_FromEnvironment):
    """WhatsApp through Meta's Cloud API (channels/whatsapp_cloud.py)."""

    verify_token: Optional[str] = Field(default=None, env="WHATSAPP_VERIFY_TOKEN")
    app_secret: Optional[str] = Field(default=None, env="WHATSAPP_APP_SECRET")
    access_token: Optional[str] = Field(default=None, env="WHATSAPP_ACCESS_TOKEN")
    phone_number_id: Optional[str] = Field(default=None, env="WHATSAPP_PHONE_NUMBER_ID")
    api_base_url: str = Field(default="https://graph.facebook.com/v20.0", env="WHATSAPP_API_BASE_URL")


class ConsoleSettings(_FromEnvironment):
    """The staff console (console/). Loopback by default: expose it through a TLS proxy only."""

    host: str = Field(default="127.0.0.1", env="CONSOLE_HOST")
    # Signs the session cookies; when unset, one is generated into secret_file.
    secret_key: Optional[str] = Field(default=None, env="CONSOLE_SECRET_KEY")
    secret_file: Path = Field(default=PROJECT_ROOT / "var" / "console-secret.key", env="CONSOLE_SECRET_FILE")
    # The address staff open the console at, e.g. https://console.clinic.example; when it
    # is https, the session cookie is Secure.
    public_url: Optional[str] = Field(default=None, env="CONSOLE_PUBLIC_URL")
    # Overrides what public_url implies: true sends cookies only over HTTPS, false also in clear.
    secure_cookies: Optional[bool] = Field(default=None, env="CONSOLE_SECURE_COOKIES")
    # Reverse proxies in front of the console whose X-Forwarded-For and -Proto are believed
    # (1 behind nginx); 0 ignores those headers, so a forged one changes nothing.
    trusted_proxies: int = Field(default=0, env="CONSOLE_TRUSTED_PROXIES")
    # Sign-in attempts allowed per client address per window; more are answered 429.
    login_attempts: int = Field(default=20, env="CONSOLE_LOGIN_ATTEMPTS")
    login_window_seconds: int = Field(default=300, env="CONSOLE_LOGIN_WINDOW_SECONDS")
    session_hours: int = Field(default=8, env="CONSOLE_SESSION_HOURS")
    max_failed_logins: int = Field(default=5, env="CONSOLE_MAX_FAILED_LOGINS")
    lockout_minutes: int = Field(default=15, env="CONSOLE_LOCKOUT_MINUTES")
    # Password for `make staff-user` when it must not prompt (scripts, CI); never a default.
    user_password: Optional[str] = Field(default=None, env="CONSOLE_USER_PASSWORD")
    # A message whose intent confidence is below this is flagged "low confidence".
    low_confidence: float = Field(default=0.6, env="CONSOLE_LOW_CONFIDENCE")
    timezone: str = Field(default="Asia/Kuala_Lumpur", env="CONSOLE_TIMEZONE")
    # PDPA retention: `make purge` deletes conversations idle for longer than this.
    retention_days: int = Field(default=180, env="RETENTION_DAYS")
    audit_retention_days: int = Field(default=365, env="AUDIT_RETENTION_DAYS")


class HandoffSettings(_FromEnvironment):
    """A person taking over a conversation from the console (handoff/, channels/staff.py)."""

    # A request for a person nobody takes within this time goes back to the assistant.
    timeout_minutes: float = Field(default=10.0, env="HANDOFF_TIMEOUT_MINUTES")
    # A staff member counts as available while marked so and seen in the console this recently.
    presence_seconds: int = Field(default=90, env="HANDOFF_PRESENCE_SECONDS")
    # Where the console reaches the Rasa server (the load balancer in cluster mode).
    rasa_url: Optional[str] = Field(default=None, env="HANDOFF_RASA_URL")
    # Shared by the console and the Rasa server to sign staff messages, 32 characters or
    # more; unset, one is generated into key_file (both run on the same machine).
    api_key: Optional[str] = Field(default=None, env="HANDOFF_API_KEY")
    key_file: Path = Field(default=PROJECT_ROOT / "var" / "handoff-api.key", env="HANDOFF_KEY_FILE")


class RedisSettings(_FromEnvironment):
    """Cluster mode's Redis (deploy/endpoints-cluster.yml reads the same variables for the lock store)."""

    host: Optional[str] = Field(default=None, env="REDIS_HOST")
    port: int = Field(default=6379, env="REDIS_PORT")
    db: int = Field(default=1, env="REDIS_DB")
    password: Optional[str] = Field(default=None, env="REDIS_PASSWORD")

    def url(self) -> Optional[str]:
        """Returns the redis:// address, or None when no Redis is configured (a single server)."""
        if not self.host:
            return None
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}{self.host}:{self.port}/{self.db}"


class Settings(BaseModel):
    """Runtime configuration, one group per process (or channel) that reads it."""

    core: CoreSettings = Field(default_factory=CoreSettings)
    ports: PortSettings = Field(default_factory=PortSettings)
    clinic: ClinicSettings = Field(default_factory=ClinicSettings)
    rasa: RasaServerSettings = Field(default_factory=RasaServerSettings)
    web: WebChatSettings = Field(default_factory=WebChatSettings)
    whatsapp: WhatsAppSettings = Field(default_factory=WhatsAppSettings)
    twilio: TwilioSettings = Field(default_factory=TwilioSettings)
    meta: MetaSettings = Field(default_factory=MetaSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    handoff: HandoffSettings = Field(default_factory=HandoffSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)

    def allowed_origins(self) -> List[str]:
        """Returns the configured browser origins plus the local demo page's."""
        demo = [f"http://localhost:{self.ports.demo}", f"http://127.0.0.1:{self.ports.demo}"]
        configured = [origin.strip() for origin in self.web.cors_origins.split(",") if origin.strip()]
        return demo + configured

    def rasa_url(self) -> str:
        """Returns where the console reaches the Rasa server: HANDOFF_RASA_URL, else this machine's."""
        return (self.handoff.rasa_url or f"http://127.0.0.1:{self.ports.rasa}").rstrip("/")


def environment_variables() -> List[str]:
    """Returns every environment variable the settings read, group by group."""
    groups = [field.type_ for field in Settings.__fields__.values()]
    return [_variable(field) for group in groups for field in group.__fields__.values()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Returns the settings, read once per process."""
    return Settings()


def child_environment(**overrides: str) -> Dict[str, str]:
    """Returns this process's environment plus ``overrides``, for a service to start with."""
    environment = dict(os.environ)
    environment.update(overrides)
    return environment
