"""Web chat sessions: tokens the server issues and signs, and the ids stored for them.

A web chat session is a bearer token: whoever holds it may continue the conversation and
receive its replies. So the client never chooses it, and it is never stored:

* the token is ``ws2.<nonce>.<issued>.<signature>``: 32 random URL-safe characters, the
  time it was issued (Unix seconds) and the HMAC-SHA256 of both under the server's key
  (128 bits, in hex). A client that presents a token this server signed less than
  ``WEB_SESSION_HOURS`` ago keeps it (a reload or a reconnection continues the
  conversation); anything else (a client-chosen id, an altered or forged token, one signed
  with another key, an expired one) is replaced by a new token, so a copied token stops
  working after a day instead of for as long as the conversation is kept;
* the conversation id stored in the tracker store (in every event, shown to staff in the
  console and the exports) and the socket.io room the replies go to are ``web-`` plus a
  second keyed hash of the nonce. It cannot be turned back into the token, so knowing it
  does not let anyone join the conversation.

The key is ``WEB_SESSION_KEY`` (32 characters or more), or else one generated once into
``var/web-session.key``, which every server started from the same folder shares (the
console's secret key works the same way). Keep it stable: a new key makes every open
chat start a new conversation. Replicas on several hosts need the same key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from pathlib import Path
from typing import Any, Optional, Tuple

from core.key_files import generated_key
from core.message_rules import WEB_SENDER_PREFIX
from core.settings import PROJECT_ROOT, Settings, get_settings

# What the stored conversation ids of the web chat start with.
TOKEN_PREFIX = "ws2."  # noqa: S105 (a format marker, not a secret)
KEY_FILE = PROJECT_ROOT / "var" / "web-session.key"
MIN_KEY_LENGTH = 32
_NONCE_BYTES = 24  # 32 URL-safe characters
_SIGNATURE_HEX = 32
_TOKEN = re.compile(
    rf"{re.escape(TOKEN_PREFIX)}(?P<nonce>[A-Za-z0-9_-]{{32}})\.(?P<issued>[0-9]{{1,12}})"
    rf"\.(?P<signature>[0-9a-f]{{{_SIGNATURE_HEX}}})"
)
# Replicas' clocks may differ a little: a token up to this far in the future is still current.
_CLOCK_SKEW_S = 300
# Separate purposes of the one key: a signature is never a stored id, nor the reverse.
_SIGNING = b"synapse web session token\x00"
_SENDER = b"synapse web session sender\x00"


def session_key(settings: Optional[Settings] = None, key_file: Path = KEY_FILE) -> bytes:
    """Returns the key that signs tokens and hashes them into stored ids.

    Raises:
        ValueError: If ``WEB_SESSION_KEY`` is set but too short to be a safe key.

    """
    configured = (settings or get_settings()).web.session_key
    if configured:
        if len(configured) < MIN_KEY_LENGTH:
            raise ValueError(f"WEB_SESSION_KEY must have at least {MIN_KEY_LENGTH} characters")
        return configured.encode("utf-8")
    return generated_key(key_file).encode("utf-8")


def _mac(key: bytes, purpose: bytes, message: str) -> str:
    return hmac.new(key, purpose + message.encode("ascii"), hashlib.sha256).hexdigest()


def issue_token(key: bytes, now: Optional[float] = None) -> str:
    """Returns a new session token signed with ``key``, issued at ``now`` (the clock if None)."""
    nonce = secrets.token_urlsafe(_NONCE_BYTES)
    issued = int(time.time() if now is None else now)
    signed = f"{nonce}.{issued}"
    return f"{TOKEN_PREFIX}{signed}.{_mac(key, _SIGNING, signed)[:_SIGNATURE_HEX]}"


def _signed_parts(token: Any, key: bytes) -> Optional[Tuple[str, int]]:
    """Returns the nonce and the issue time of a token signed with ``key``, else None."""
    if not isinstance(token, str):
        return None
    match = _TOKEN.fullmatch(token)
    if not match:
        return None
    expected = _mac(key, _SIGNING, f"{match['nonce']}.{match['issued']}")[:_SIGNATURE_HEX]
    if not hmac.compare_digest(expected, match["signature"]):
        return None
    return match["nonce"], int(match["issued"])


def is_issued_token(token: Any, key: Optional[bytes] = None) -> bool:
    """Whether ``token`` was issued by a server with ``key`` (the configured key if None)."""
    return _signed_parts(token, key if key is not None else session_key()) is not None


def is_current(token: Any, key: bytes, lifetime_s: float, now: Optional[float] = None) -> bool:
    """Whether ``token`` was signed with ``key`` less than ``lifetime_s`` seconds before ``now``."""
    parts = _signed_parts(token, key)
    if parts is None:
        return False
    age = (time.time() if now is None else now) - parts[1]
    return -_CLOCK_SKEW_S <= age < lifetime_s


def confirmed_token(requested: Any, key: bytes, lifetime_s: float) -> str:
    """Returns the token a ``session_request`` is confirmed with.

    The presented one if this server signed it less than ``lifetime_s`` seconds ago,
    otherwise a new one.
    """
    return requested if is_current(requested, key, lifetime_s) else issue_token(key)


def stored_sender(token: str, key: Optional[bytes] = None) -> str:
    """Returns the conversation id stored for a session token: a keyed hash, never the token.

    Args:
        token: A token issued with ``key``.
        key: The session key; the configured one if None.

    Raises:
        ValueError: If ``token`` is not a token signed with ``key``.

    """
    key = key if key is not None else session_key()
    parts = _signed_parts(token, key)
    if parts is None:
        raise ValueError("not a web session token issued with this key")
    return f"{WEB_SENDER_PREFIX}{_mac(key, _SENDER, parts[0])}"
