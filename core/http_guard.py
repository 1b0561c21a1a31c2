"""Refuses malformed HTTP framing before Sanic 21.12 (Rasa 3.6's) reads the request body.

Found by the hostile-input corpus (tests/hostile/): with ``Content-Length: -1`` Sanic
21.12 spins for ever reading the body, blocking the whole server with one request;
``Content-Length: abc`` or a ``Transfer-Encoding`` other than ``chunked`` make it answer
500. A handler of Sanic's ``http.lifecycle.request`` signal, which runs after the headers
are parsed and before the body is read, answers such requests with 400 instead.
"""

from __future__ import annotations

import re
from typing import Any

from sanic import Sanic
from sanic.exceptions import InvalidUsage
from sanic.request import Request

_LENGTH = re.compile(r"[0-9]{1,15}")
_INSTALLED = "_assistant_http_guard"


async def check_framing(request: Request) -> None:
    """Raises a 400 unless the body's length is stated once, as digits, or chunked.

    Raises:
        InvalidUsage: For a bad or ambiguous ``Content-Length`` / ``Transfer-Encoding``.

    """
    lengths = request.headers.getall("content-length", [])
    encodings = request.headers.getall("transfer-encoding", [])
    if encodings and (lengths or [value.strip().lower() for value in encodings] != ["chunked"]):
        raise InvalidUsage("Unsupported or ambiguous Transfer-Encoding.")
    if lengths and (len(set(lengths)) != 1 or not _LENGTH.fullmatch(lengths[0].strip())):
        raise InvalidUsage("Content-Length must be one non-negative integer.")


def guard(app: Sanic) -> Sanic:
    """Adds :func:`check_framing` to ``app`` (before it starts)."""
    app.signal("http.lifecycle.request")(check_framing)
    return app


def install() -> None:
    """Makes Rasa's server factory guard every app it builds (once per process)."""
    import rasa.core.run

    if getattr(rasa.core.run, _INSTALLED, False):
        return
    configure_app = rasa.core.run.configure_app

    def configure_guarded_app(*args: Any, **kwargs: Any) -> Sanic:
        return guard(configure_app(*args, **kwargs))

    rasa.core.run.configure_app = configure_guarded_app
    setattr(rasa.core.run, _INSTALLED, True)
