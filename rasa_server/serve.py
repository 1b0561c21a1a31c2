"""Runs Rasa's command line with the project's Rasa-side hooks installed.

``python -m rasa_server.serve run ...`` is ``rasa run ...`` plus
:mod:`rasa_server.action_server_calls` (bounded action calls, an apology when the action server
fails), :mod:`rasa_server.admission` (a bounded number of messages in handling at once),
:mod:`core.http_guard` (malformed HTTP framing refused with 400) and
:func:`rasa_server.tracker_store.install` (a database failure fails the message instead of
Rasa silently answering from an empty, unsaved conversation) and
:mod:`rasa_server.paused_conversations` (the emergency reply while a person has the conversation)
and :mod:`rasa_server.erasure` (a conversation erased at the patient's request).
:func:`tooling.launcher.rasa_server` starts the server this way.
"""

from __future__ import annotations

from core import http_guard
from core.settings import get_settings
from rasa_server import action_server_calls, admission, erasure, paused_conversations, tracker_store


def main() -> None:
    """Installs the hooks, then hands over to Rasa's own command line."""
    if get_settings().rasa.hooks:
        action_server_calls.install()
        admission.install()
        http_guard.install()
        tracker_store.install()
        paused_conversations.install()
        erasure.install()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
