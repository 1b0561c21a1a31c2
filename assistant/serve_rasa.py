"""Runs Rasa's command line with the project's Rasa-side hooks installed.

``python -m assistant.serve_rasa run ...`` is ``rasa run ...`` plus
:mod:`assistant.action_calls` (bounded action calls, an apology when the action server
fails), :mod:`assistant.admission` (a bounded number of messages in handling at once),
:mod:`assistant.http_guard` (malformed HTTP framing refused with 400) and
:func:`assistant.tracker_store.install` (a database failure fails the message instead of
Rasa silently answering from an empty, unsaved conversation).
:func:`assistant.launcher.rasa_server` starts the server this way.
"""

from __future__ import annotations

from assistant import action_calls, admission, http_guard, tracker_store
from assistant.settings import get_settings


def main() -> None:
    """Installs the hooks, then hands over to Rasa's own command line."""
    if get_settings().rasa_hooks:
        action_calls.install()
        admission.install()
        http_guard.install()
        tracker_store.install()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
