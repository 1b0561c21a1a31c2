"""Starts the whole product (`make run`) or a terminal chat (`make shell`); Ctrl-C stops it."""

from __future__ import annotations

import argparse
import subprocess
import sys

from core.settings import PROJECT_ROOT, get_settings
from tooling.launcher import (
    BIN_DIR,
    ServiceGroup,
    action_server,
    console_server,
    demo_server,
    rasa_server,
    serve_until_interrupted,
)


def run_product() -> int:
    """Starts every service, prints where to reach them, and waits for Ctrl-C."""
    settings = get_settings()
    (PROJECT_ROOT / "var").mkdir(exist_ok=True)
    services = [
        action_server(settings.ports.actions),
        rasa_server(settings, settings.ports.rasa, settings.ports.actions),
        # After Rasa, which creates the tracker store's tables the console reads.
        console_server(settings, settings.ports.console),
        demo_server(settings.ports.demo, f"http://localhost:{settings.ports.rasa}"),
    ]
    return serve_until_interrupted(
        ServiceGroup(services),
        lambda _: "\nThe assistant is running:\n"
        f"  REST:      curl -s -X POST http://localhost:{settings.ports.rasa}/webhooks/rest/webhook "
        '-H "Content-Type: application/json" -d \'{"sender": "me", "message": "hello"}\'\n'
        f"  socket.io: http://localhost:{settings.ports.rasa}/socket.io\n"
        f"  actions:   http://localhost:{settings.ports.actions}/health\n"
        f"  staff console: http://localhost:{settings.ports.console}/\n"
        f"  demo page (website chat): http://localhost:{settings.ports.demo}/\n"
        "Press Ctrl-C to stop.",
    )


def run_shell() -> int:
    """Starts the action server and chats with the model in the terminal."""
    settings = get_settings()
    with ServiceGroup([action_server(settings.ports.actions, log_path=PROJECT_ROOT / "var" / "actions.log")]):
        environment = rasa_server(settings, settings.ports.rasa, settings.ports.actions).environment
        command = [str(BIN_DIR / "rasa"), "shell", "--model", str(settings.rasa.model_path)]
        try:
            return subprocess.call(command, cwd=PROJECT_ROOT, env=environment)
        except KeyboardInterrupt:
            return 0


def main() -> None:
    """Parses the command line and runs."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shell", action="store_true", help="chat in the terminal instead of serving")
    args = parser.parse_args()
    sys.exit(run_shell() if args.shell else run_product())


if __name__ == "__main__":
    main()
