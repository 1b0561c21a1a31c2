"""Every view of patient data leaves an audit record; a free-text search is recorded, its text never."""

from __future__ import annotations

from typing import Callable, List

import pytest
import sqlalchemy as sa
from flask import Flask

from core.database import audit_log
from tests.console.conftest import STAFF, post_login

ADDRESS = "192.0.2.44"
# What a search may contain: a patient's name and phone number.
SEARCH = "Aminah binti Yusof 012-345 6789"


def audit_rows(app: Flask, after: int = 0) -> List[sa.engine.Row]:
    with app.extensions["console"].engine.connect() as connection:
        return list(
            connection.execute(sa.select(audit_log).where(audit_log.c.id > after).order_by(audit_log.c.id))
        )


def signed_in(console_app: Callable[..., Flask]) -> tuple:
    app = console_app()
    client = app.test_client()
    assert post_login(client, *STAFF, ADDRESS).status_code == 302
    return app, client, audit_rows(app)[-1].id


@pytest.mark.parametrize(
    ("path", "action", "detail"),
    [
        ("/dashboard?from=2025-01-01&to=2025-01-31", "view_dashboard", "2025-01-01 to 2025-01-31"),
        ("/conversations?flag=emergency&channel=rest&page=2", "view_conversation_list", "flag=emergency"),
        ("/annotations", "view_annotations", "page 1"),
    ],
)
def test_every_data_view_writes_an_audit_record(
    console_app: Callable[..., Flask], path: str, action: str, detail: str
) -> None:
    app, client, last = signed_in(console_app)
    assert client.get(path, environ_base={"REMOTE_ADDR": ADDRESS}).status_code == 200
    rows = audit_rows(app, last)
    assert [(row.username, row.action, row.remote_addr) for row in rows] == [(STAFF[0], action, ADDRESS)]
    assert detail in rows[0].detail


def test_a_search_is_audited_but_its_text_is_never_stored(console_app: Callable[..., Flask]) -> None:
    app, client, last = signed_in(console_app)
    environ = {"REMOTE_ADDR": ADDRESS}
    assert client.get("/conversations", query_string={"q": SEARCH}, environ_base=environ).status_code == 200
    export = client.get("/conversations/export.csv", query_string={"q": SEARCH}, environ_base=environ)
    export.get_data()
    rows = audit_rows(app, last)
    assert [row.action for row in rows] == ["view_conversation_list", "export_csv"]
    assert all("text search" in row.detail for row in rows)
    stored = " ".join(f"{row.target} {row.detail}" for row in audit_rows(app))
    for fragment in ("Aminah", "Yusof", "345", "6789"):
        assert fragment not in stored
