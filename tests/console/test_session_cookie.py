"""The session cookie is Secure whenever the console's public address is https."""

from __future__ import annotations

from typing import Callable, Dict

import pytest
from flask import Flask

from tests.console.conftest import STAFF, post_login

HTTPS = "https://console.clinic.example"


@pytest.mark.parametrize(
    ("environment", "secure"),
    [
        ({"CONSOLE_PUBLIC_URL": HTTPS}, True),
        ({"CONSOLE_PUBLIC_URL": "HTTPS://console.clinic.example/staff/"}, True),
        ({"CONSOLE_PUBLIC_URL": "http://localhost:8090"}, False),
        ({}, False),
        ({"CONSOLE_PUBLIC_URL": HTTPS, "CONSOLE_SECURE_COOKIES": "false"}, False),  # explicit override
        ({"CONSOLE_SECURE_COOKIES": "true"}, True),
    ],
)
def test_the_session_cookie_is_secure_when_the_public_url_is_https(
    console_app: Callable[..., Flask], environment: Dict[str, str], secure: bool
) -> None:
    response = post_login(console_app(**environment).test_client(), *STAFF)
    assert response.status_code == 302
    (cookie,) = [
        value for value in response.headers.getlist("Set-Cookie") if value.startswith("console_session=")
    ]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert ("secure" in attributes) is secure, cookie
    assert {"httponly", "samesite"} <= attributes
