"""Expands tests/hostile/corpus.yml into concrete cases for each entry point.

An entry point plugs in by turning the corpus into :class:`HttpCase` objects (an HTTP
request and what must come back) or its own kind of case (socket.io events) and running
them with the helpers here. Every case must end without a 5xx and with the server alive.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional
from urllib.parse import urlsplit

import yaml

from core.settings import get_settings

CORPUS_FILE = Path(__file__).with_name("corpus.yml")
ACCEPT, REJECT, EITHER = "accept", "reject", "either"


@dataclass(frozen=True)
class Text:
    """A hostile string and what a message field and a sender field should do with it."""

    id: str
    category: str
    value: str
    message: str
    sender: str


@dataclass(frozen=True)
class Body:
    """A raw request body for an endpoint that takes JSON."""

    id: str
    data: bytes
    expect: str


@dataclass(frozen=True)
class RawRequest:
    """A whole HTTP request, to be sent byte for byte, with placeholders to fill."""

    id: str
    template: str
    expect: str


@dataclass
class HttpCase:
    """One request to an entry point and the outcome it must have."""

    id: str
    method: str
    path: str
    expect: str
    body: bytes = b""
    headers: Dict[str, str] = field(default_factory=dict)
    raw: Optional[bytes] = None


_RELATIVE = re.compile(r"limit(?:/(\d+))?(?:\+(\d+))?")


def _times(times: Any) -> int:
    """A count, or ``limit[/N][+M]``: MAX_MESSAGE_CHARS, divided by N, plus M."""
    relative = _RELATIVE.fullmatch(str(times).replace(" ", ""))
    if relative is None:
        return int(times)
    divisor, extra = relative.groups()
    return get_settings().core.max_message_chars // int(divisor or 1) + int(extra or 0)


def _expand(spec: Dict[str, Any]) -> str:
    if "repeat" in spec:
        piece, times = spec["repeat"]
        core = piece * _times(times)
    else:
        core = spec.get("text", "")
    return f"{spec.get('prefix', '')}{core}{spec.get('suffix', '')}"


@lru_cache(maxsize=1)
def _spec() -> Dict[str, Any]:
    return yaml.safe_load(CORPUS_FILE.read_text(encoding="utf-8"))


def texts() -> List[Text]:
    """Returns the hostile strings."""
    return [
        Text(spec["id"], spec["category"], _expand(spec), spec["message"], spec.get("sender", REJECT))
        for spec in _spec()["texts"]
    ]


def sample(per_category: int = 2) -> List[Text]:
    """Returns the first texts of each category, for entry points where every case is slow."""
    chosen: List[Text] = []
    for text in texts():
        if sum(other.category == text.category for other in chosen) < per_category:
            chosen.append(text)
    return chosen


def bodies() -> List[Body]:
    """Returns the raw bodies for JSON endpoints."""
    result = []
    for spec in _spec()["bodies"]:
        data = bytes.fromhex(spec["hex"]) if "hex" in spec else _expand(spec).encode("utf-8", "surrogatepass")
        result.append(Body(spec["id"], data, spec.get("expect", REJECT)))
    return result


def raw_requests() -> List[RawRequest]:
    """Returns the header-abuse requests."""
    return [RawRequest(spec["id"], spec["request"], spec["expect"]) for spec in _spec()["headers"]]


def json_bytes(document: Any) -> bytes:
    """Encodes ``document`` as JSON, keeping lone surrogates as JSON escapes."""
    return json.dumps(document).encode("utf-8")


def fill(request: RawRequest, path: str, host: str, body: bytes) -> bytes:
    """Returns the raw request's bytes for ``path`` on ``host`` with a small valid ``body``."""
    values = {
        "path": path,
        "host": host,
        "body": body.decode(),
        "length": str(len(body)),
        "junk8k": "j" * 8192,
        "junk100k": "j" * 102400,
        "many_headers": "".join(f"X-H{i}: {i}\r\n" for i in range(300)),
        "chunked_body": f"{len(body):x}\r\n{body.decode()}\r\n0\r\n\r\n",
    }
    text = request.template
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text.encode("utf-8", "surrogateescape")


def send_raw(server_url: str, data: bytes, timeout: float = 5.0) -> int:
    """Sends ``data`` to the server at ``server_url`` on a fresh connection; returns its status (0: none).

    A server may close the connection, or keep waiting for the rest of a request that never
    ends, without answering malformed bytes; that counts as 0, which is not a 5xx.
    """
    address = urlsplit(server_url)
    with socket.create_connection(
        (address.hostname or "127.0.0.1", address.port or 80), timeout=timeout
    ) as connection:
        with contextlib.suppress(OSError):
            connection.sendall(data)
        received = b""
        try:
            connection.settimeout(timeout)
            while b"\r\n" not in received:
                chunk = connection.recv(4096)
                if not chunk:
                    break
                received += chunk
        except OSError:
            pass
    status_line = received.split(b"\r\n", 1)[0].split()
    if len(status_line) >= 2 and status_line[1].isdigit():
        return int(status_line[1])
    return 0


def outcome_ok(expect: str, status: int, answered: bool) -> bool:
    """Whether a status (and whether the bot answered) meets the expectation. Never a 5xx."""
    if status >= 500:
        return False
    if expect == ACCEPT:
        return status == 200 and answered
    if expect == REJECT:
        return 400 <= status < 500 or status == 0
    return True
