"""Runs rasa-sdk's action server on loopback, behind the Rasa server's HTTP framing guard.

``python -m actions.serve_rasa_sdk --actions actions --port 5055`` is ``python -m rasa_sdk``
with two changes. It listens on ``--host``, 127.0.0.1 unless told otherwise (rasa-sdk
itself listens on every interface unless ``SANIC_HOST`` says otherwise), and every request
passes :mod:`core.http_guard` first, so ``Content-Length: -1`` gets a 400 instead of
blocking the server. Client errors keep their own status: rasa-sdk's catch-all handler would
answer them 500. The systemd unit and :func:`tooling.launcher.action_server` both start
the action server this way.

rasa-sdk imports every module of the ``actions`` package to find the actions; importing
this one does nothing.
"""

from __future__ import annotations

import argparse
import os
from typing import Any, List, Optional

from rasa_sdk import endpoint
from rasa_sdk.__main__ import main_from_args
from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from core import http_guard

DEFAULT_HOST = "127.0.0.1"
_INSTALLED = "_assistant_http_guard"


async def answer_client_error(request: Request, error: SanicException) -> HTTPResponse:
    """Answers a refused request with the error's own status (400, 404, 413, ...)."""
    return response.json({"error": str(error)}, status=error.status_code)


def install() -> None:
    """Makes rasa-sdk's app factory guard every app it builds (once per process)."""
    if getattr(endpoint, _INSTALLED, False):
        return
    create_app = endpoint.create_app

    def create_guarded_app(*args: Any, **kwargs: Any) -> Sanic:
        app = http_guard.guard(create_app(*args, **kwargs))
        app.exception(SanicException)(answer_client_error)
        return app

    endpoint.create_app = create_guarded_app
    setattr(endpoint, _INSTALLED, True)


def argument_parser() -> argparse.ArgumentParser:
    """Returns rasa-sdk's command line plus ``--host``."""
    parser = endpoint.create_argument_parser()
    parser.prog = "python -m actions.serve_rasa_sdk"
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    parser.set_defaults(actions="actions")
    return parser


def main(argv: Optional[List[str]] = None) -> None:
    """Installs the guard, then hands over to rasa-sdk's own start-up."""
    args = argument_parser().parse_args(argv)
    install()
    # rasa-sdk's run() reads the address to listen on from here only.
    os.environ["SANIC_HOST"] = args.host
    main_from_args(args)


if __name__ == "__main__":
    main()
