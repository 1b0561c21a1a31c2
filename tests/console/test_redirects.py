"""The login page sends a signed-in user only to paths on this site, whatever ``next`` says."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from console.views.auth import same_site_path
from tests.console.conftest import STAFF, Console

BYPASSES = [
    "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example", "/\t/evil.example",
    "/\n/evil.example", "/\r\n/evil.example", "/ /evil.example", "https://evil.example", "http:evil.example",
    "javascript:alert(1)", "evil.example", "/\x00/evil.example", "/\u2028/evil.example",
    "/x\r\nSet-Cookie: a=b",
    "//evil.example/%2f..", "/%5cevil.example", "",
]  # fmt: skip


@pytest.mark.parametrize("target", BYPASSES)
def test_anything_that_could_leave_the_site_is_refused(target: str) -> None:
    # "/%5cevil.example" is a path here: browsers send %5c on as it is, to this site.
    assert same_site_path(target) in (None, "/%5cevil.example")


@pytest.mark.parametrize("target", ["/conversations", "/conversations?channel=rest&page=2", "/review#top"])
def test_paths_on_this_site_are_kept(target: str) -> None:
    assert same_site_path(target) == target


def stays_on_site(location: str) -> bool:
    """Whether a browser following ``location`` stays on this site."""
    parts = urlsplit(location)
    return not parts.scheme and not parts.netloc and same_site_path(location) == location


@pytest.mark.parametrize("target", [*BYPASSES, "/%09/evil.example", "/%0a/x"])
def test_a_signed_in_login_never_redirects_off_site(console: Console, target: str) -> None:
    session = console.login(*STAFF)
    response = session.get(f"{console.url}/login", params={"next": target}, allow_redirects=False, timeout=60)
    assert response.status_code == 302, f"{target!r}: {response.status_code}"
    assert stays_on_site(response.headers["Location"]), response.headers["Location"]


def test_signing_in_redirects_to_a_tab_bypass_only_on_this_site(console: Console) -> None:
    session = console.session()
    response = session.post(
        f"{console.url}/login",
        params={"next": "/\t/evil.example"},
        data={"username": STAFF[0], "password": STAFF[1], "csrf_token": console.token(session, "/login")},
        allow_redirects=False,
        timeout=60,
    )
    assert response.status_code == 302
    assert stays_on_site(response.headers["Location"])
    assert "evil" not in response.headers["Location"]
