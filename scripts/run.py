"""Starts the whole product (`make run`) or a terminal chat (`make shell`); Ctrl-C stops it."""

from __future__ import annotations

import argparse
import subprocess
import sys

from assistant.launcher import (
    BIN_DIR,
    ServiceGroup,
    action_server,
    console_server,
    demo_server,
    rasa_server,
    serve_until_interrupted,
)
from assistant.settings import PROJECT_ROOT, get_settings


def run_product() -> int:
    """Starts every service, prints where to reach them, and waits for Ctrl-C."""
    settings = get_settings()
    (PROJECT_ROOT / "var").mkdir(exist_ok=True)
    services = [
        action_server(settings.actions_port),
        rasa_server(settings, settings.rasa_port, settings.actions_port),
        # After Rasa, which creates the tracker store's tables the console reads.
        console_server(settings, settings.console_port),
        demo_server(settings.demo_port, f"http://localhost:{settings.rasa_port}"),
    ]
    return serve_until_interrupted(
        ServiceGroup(services),
        lambda _: "\nThe assistant is running:\n"
        f"  REST:      curl -s -X POST http://localhost:{settings.rasa_port}/webhooks/rest/webhook "
        '-H "Content-Type: application/json" -d \'{"sender": "me", "message": "hello"}\'\n'
        f"  socket.io: http://localhost:{settings.rasa_port}/socket.io\n"
        f"  actions:   http://localhost:{settings.actions_port}/health\n"
        f"  staff console: http://localhost:{settings.console_port}/\n"
        f"  demo page (website chat): http://localhost:{settings.demo_port}/\n"
        "Press Ctrl-C to stop.",
    )


def run_shell() -> int:
    """Starts the action server and chats with the model in the terminal."""
    settings = get_settings()
    with ServiceGroup([action_server(settings.actions_port, log_path=PROJECT_ROOT / "var" / "actions.log")]):
        environment = rasa_server(settings, settings.rasa_port, settings.actions_port).environment
        command = [str(BIN_DIR / "rasa"), "shell", "--model", str(settings.model_path)]
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
