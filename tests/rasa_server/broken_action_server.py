"""An action server that answers badly on purpose, for the fault tests.

``python -m tests.rasa_server.broken_action_server PORT``. The patient's latest message
chooses the fault: it contains one of the ``FAULTS`` keys; any other message gets a
well-formed answer, ``HEALTHY_REPLY``.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Awaitable, Callable, Dict

from aiohttp import web

HEALTHY_REPLY = "A well-formed answer from the test action server."


def _healthy() -> web.Response:
    return web.json_response({"events": [], "responses": [{"text": HEALTHY_REPLY}]})


async def _hang() -> web.Response:
    await asyncio.sleep(60)
    return _healthy()


async def _respond(response: web.Response) -> web.Response:
    return response


FAULTS: Dict[str, Callable[[], Awaitable[web.Response]]] = {
    "zznotjson": lambda: _respond(web.Response(text="<html>not json</html>", content_type="text/html")),
    "zzerror500": lambda: _respond(web.Response(status=500, text="Internal Server Error")),
    "zzbad400": lambda: _respond(web.Response(status=400, text="not json either")),
    "zzbadschema": lambda: _respond(web.json_response({"events": "nope", "responses": 5})),
    "zzbadevent": lambda: _respond(web.json_response({"events": [{"event": "slot"}], "responses": []})),
    "zzunknownevent": lambda: _respond(
        web.json_response({"events": [{"event": "no_such_event"}], "responses": []})
    ),
    "zzlist": lambda: _respond(web.json_response(["events"])),
    "zztruncated": lambda: _respond(web.Response(text='{"events": [', content_type="application/json")),
    "zzhang": _hang,
}


async def webhook(request: web.Request) -> web.Response:
    """Answers the action call according to the fault named in the latest message."""
    body = await request.json()
    text = (body.get("tracker", {}).get("latest_message") or {}).get("text") or ""
    for marker, fault in FAULTS.items():
        if marker in text:
            return await fault()
    return _healthy()


async def health(_request: web.Request) -> web.Response:
    """Tells the launcher the server is up."""
    return web.json_response({"status": "ok"})


def main() -> None:
    """Serves on 127.0.0.1 at the port given on the command line."""
    app = web.Application()
    app.router.add_post("/webhook", webhook)
    app.router.add_get("/health", health)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)


if __name__ == "__main__":
    main()
