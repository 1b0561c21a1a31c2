"""Serves the staff console with waitress (`make run` starts it on CONSOLE_PORT, 8090)."""

from __future__ import annotations

import argparse
import threading
import time

import waitress  # type: ignore[import-untyped]

from console import accounts, unanswered
from console.app import create_app
from console.context import context
from console.indexer import Indexer
from core.settings import get_settings

INDEX_INTERVAL_SECONDS = 2.0
# How long one pass may spend computing sentence vectors before indexing again.
VECTOR_SECONDS = 5.0


def _index_forever(indexer: Indexer) -> None:
    """Indexes new conversations in the background, so pages rarely wait for it.

    Then reads the new unanswered questions with the sentence model, so the "Questions
    we could not answer" page groups them without running the model itself.
    """
    while True:
        try:
            done = indexer.catch_up(budget=20.0)
            if done and unanswered.prepare(indexer.engine, budget=VECTOR_SECONDS):
                done = False
        except Exception as error:  # a database hiccup must not end the thread
            print(f"Console indexer: {type(error).__name__}; retrying.", flush=True)
            done = True
        if done:
            time.sleep(INDEX_INTERVAL_SECONDS)


def main() -> None:
    """Parses the command line and serves until stopped."""
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m console", description=__doc__)
    parser.add_argument("--host", default=settings.console.host)
    parser.add_argument("--port", type=int, default=settings.ports.console)
    args = parser.parse_args()

    app = create_app(settings)
    with app.app_context():
        console = context()
    if accounts.count_users(console.engine) == 0:
        print(
            "The staff console has no user yet. Create the first admin with:\n"
            "  make staff-user NAME=<your name> ROLE=admin\n"
            "(it asks for the password; there is no default password).",
            flush=True,
        )
    threading.Thread(target=_index_forever, args=(console.indexer,), name="indexer", daemon=True).start()
    shown = "localhost" if args.host in ("127.0.0.1", "0.0.0.0") else args.host  # noqa: S104
    print(f"Staff console: http://{shown}:{args.port}/", flush=True)
    waitress.serve(
        app,
        host=args.host,
        port=args.port,
        threads=8,
        ident="staff-console",
        # waitress drops X-Forwarded-* itself unless told otherwise; with trusted proxies
        # the app's ProxyFix reads them (and ignores what the client wrote).
        clear_untrusted_proxy_headers=settings.console.trusted_proxies == 0,
        _quiet=True,
    )


if __name__ == "__main__":
    main()
