"""Serves the demo clinic page with the chat widget, under a strict Content-Security-Policy.

Run: ``python -m demo.server [--port 8080] [--rasa-url http://localhost:5005]``.
"""

from __future__ import annotations

import argparse
import html
import json
import string
from functools import lru_cache
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional
from urllib.parse import urlsplit

import yaml
from aiohttp import web

from core.clinic import Clinic, get_clinic
from core.settings import PROJECT_ROOT, get_settings

HERE = Path(__file__).resolve().parent
BUNDLE = PROJECT_ROOT / "widget" / "dist" / "synapse-chat.js"
STATIC = {"/demo.css": HERE / "demo.css", "/favicon.svg": HERE / "favicon.svg"}
LANGUAGES = ("en", "ms")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@lru_cache(maxsize=1)
def _page_text() -> Dict[str, Dict[str, str]]:
    return yaml.safe_load((HERE / "page.yml").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _template() -> string.Template:
    return string.Template((HERE / "page.html").read_text(encoding="utf-8"))


def socket_origins(rasa_url: str) -> List[str]:
    """Returns the http and ws origins of the Rasa server, for the page's connect-src."""
    parts = urlsplit(rasa_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"Not an http(s) URL: {rasa_url!r}")
    socket_scheme = "wss" if parts.scheme == "https" else "ws"
    return [f"{parts.scheme}://{parts.netloc}", f"{socket_scheme}://{parts.netloc}"]


def content_security_policy(rasa_url: str) -> str:
    """Returns the page's policy: only its own scripts and styles, sockets to Rasa only."""
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            f"connect-src {' '.join(socket_origins(rasa_url))}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def widget_config(rasa_url: str, language: str, clinic: Clinic) -> Dict[str, Any]:
    """Returns the widget's configuration object for the page."""
    contact = {"name": clinic.name, "website": clinic.website, "phone": clinic.phone}
    return {
        "server": rasa_url,
        "lang": language,
        "clinic": {key: value for key, value in contact.items() if value},
        "maxMessageChars": get_settings().core.max_message_chars,
    }


def json_for_script(value: Any) -> str:
    """Returns JSON that cannot close its <script> element or open a comment."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_page(rasa_url: str, language: str, clinic: Clinic) -> str:
    """Returns the demo page in ``language`` (en or ms)."""
    words = {key: value.format(clinic=clinic.name) for key, value in _page_text()[language].items()}
    items = []
    if clinic.website and clinic.website.startswith(("https://", "http://")):
        link = f'<a href="{html.escape(clinic.website)}">{html.escape(clinic.website)}</a>'
        items.append(f"<li>{html.escape(words['contact_website'])}: {link}</li>")
    if clinic.phone:
        items.append(f"<li>{html.escape(words['contact_phone'])}: {html.escape(clinic.phone)}</li>")
    values = {key: html.escape(value) for key, value in words.items()}
    values.update(
        lang=language,
        other_lang="ms" if language == "en" else "en",
        clinic=html.escape(clinic.name),
        contact_items="".join(items),
        config=json_for_script(widget_config(rasa_url, language, clinic)),
    )
    return _template().substitute(values)


def make_app(rasa_url: str, bundle: Path = BUNDLE) -> web.Application:
    """Returns the demo site: the page, the widget bundle, its stylesheet and /health."""
    policy = content_security_policy(rasa_url)
    clinic = get_clinic()

    headers = {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }

    @web.middleware
    async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as error:  # 404 and friends are raised, not returned
            error.headers.update(headers)
            raise
        response.headers.update(headers)
        return response

    async def page(request: web.Request) -> web.Response:
        language = request.query.get("lang", "en")
        if language not in LANGUAGES:
            language = "en"
        return web.Response(
            text=render_page(rasa_url, language, clinic),
            content_type="text/html",
            headers={"Cache-Control": "no-cache"},
        )

    def file_route(path: Path) -> Handler:
        async def serve(request: web.Request) -> web.StreamResponse:
            # FileResponse sends the .gz twin when the browser accepts gzip.
            return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

        return serve

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(middlewares=[security_headers])
    app.router.add_get("/", page)
    app.router.add_get("/health", health)
    app.router.add_get("/synapse-chat.js", file_route(bundle))
    for route, path in STATIC.items():
        app.router.add_get(route, file_route(path))
    return app


def main(argv: Optional[List[str]] = None) -> None:
    """Parses the command line and serves until stopped."""
    settings = get_settings()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=settings.ports.demo)
    parser.add_argument(
        "--rasa-url",
        default=f"http://localhost:{settings.ports.rasa}",
        help="the Rasa server's URL as the browser reaches it",
    )
    args = parser.parse_args(argv)
    if not BUNDLE.exists():
        parser.error(f"{BUNDLE} is missing: build the widget first (make widget)")
    web.run_app(make_app(args.rasa_url), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
