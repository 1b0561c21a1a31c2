"""Ratings on the dashboard, the "Questions we could not answer" page, and the weekly summary.

A console served for real (waitress, real HTTP) over a SQLite tracker store filled with
Rasa's own event classes; the grouping's purity is measured on labelled paraphrases.
"""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Iterator

import pytest
import requests
import sqlalchemy as sa

from console import accounts, unanswered
from console.schema import annotations_table, ensure_schema, messages
from console.timeutil import today
from core.database import audit_log, make_engine
from tests.console.conftest import STAFF, Console, start_console
from tests.console.learning_support import (
    ASKED,
    clinic_week,
    figures,
    groups_of,
    labelled_questions,
    purity,
    store,
)
from tooling.postgres import PostgresService

VIEWER = ("console-viewer", "viewer password for tests")
WAIT_FOR_VECTORS = 90


def test_grouping_puts_paraphrases_together_and_different_questions_apart() -> None:
    groups, singletons = labelled_questions()
    truth = [name for name, texts in groups.items() for _ in texts] + [
        f"single-{i}" for i in range(len(singletons))
    ]
    texts = [text for texts in groups.values() for text in texts] + singletons
    misses = [
        unanswered.Miss(index, index, float(index), text, text.lower(), ("cannot_answer",))
        for index, text in enumerate(texts)
    ]
    vectors = dict(enumerate(unanswered.sentence_vectors.embed(texts)))
    found = unanswered.cluster(misses, vectors)
    predicted = [0] * len(texts)
    for number, group in enumerate(found):
        for miss in group.misses:
            predicted[miss.event_id] = number
    pure, complete = purity(truth, predicted)
    summary = f"{len(texts)} questions into {len(found)} groups"
    print(f"\ngrouping {summary}: purity {pure:.3f}, inverse purity {complete:.3f}")
    assert pure >= 0.8
    assert complete >= 0.7


@pytest.fixture(scope="module")
def learning_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    folder = tmp_path_factory.mktemp("learning-console")
    url = f"sqlite:///{folder / 'tracker.db'}"
    store(url, clinic_week(time.time()))
    engine = make_engine(url)
    ensure_schema(engine)
    accounts.create_user(engine, *VIEWER, "viewer")
    engine.dispose()
    running = start_console(Path(folder), url)
    try:
        yield running
    finally:
        running.service.stop()


@pytest.fixture(scope="module")
def staff(learning_console: Console) -> requests.Session:
    return learning_console.login(*STAFF)


@pytest.fixture(scope="module")
def page(learning_console: Console, staff: requests.Session) -> str:
    """The unanswered page once every message has its sentence vector (the background thread's work)."""
    deadline = time.monotonic() + WAIT_FOR_VECTORS
    while True:
        html = learning_console.get(staff, "/unanswered").text
        if 'id="waiting-vectors"' not in html or time.monotonic() > deadline:
            return html
        time.sleep(1)


def test_the_dashboard_shows_ratings_per_topic_as_counts(
    learning_console: Console, staff: requests.Session
) -> None:
    html = learning_console.get(staff, "/dashboard").text
    values = figures(html)
    assert values[("atrophy_causes", "topic_answers")] == 3
    assert (values[("atrophy_causes", "topic_helpful")], values[("atrophy_causes", "topic_rated")]) == (1, 2)
    assert values[("recovery_time", "topic_helpful")] == values[("recovery_time", "topic_rated")] == 1
    assert re.search(
        r'data-topic="atrophy_causes">.*?1</span> of <span data-figure="topic_rated">2</span> rated',
        html,
        re.S,
    )
    assert (values[(None, "helpful")], values[(None, "rated")]) == (2, 3)
    asked = sum(len(labelled_questions()[0][name]) for name in ASKED) + 3
    assert values[(None, "questions")] == asked + 3  # and the three typed questions answered
    assert values[(None, "answered")] == 3
    assert values[(None, "cannot_answer")] == len(labelled_questions()[0]["parking"])
    # Every conversation but the parking ones and the request for a person ended well.
    conversations = values[(None, "learning_conversations")]
    assert values[(None, "ended_well")] == conversations - len(labelled_questions()[0]["parking"]) - 1
    assert 'data-channel="whatsapp"' in html and 'data-language="ms"' in html

    malay = figures(learning_console.get(staff, "/dashboard", language="ms").text)
    assert (None, "topic_answers") not in malay and ("atrophy_causes", "topic_answers") not in malay
    assert malay[("recovery_time", "topic_answers")] == 1 and malay[(None, "conversations")] == 1


def test_the_page_groups_paraphrases_and_shows_not_helpful_questions(page: str) -> None:
    assert 'id="waiting-vectors"' not in page
    groups = groups_of(page)
    paraphrases, singletons = labelled_questions()
    for name in ASKED:
        holding = {key for key, (_, examples) in groups.items() if set(examples) & set(paraphrases[name])}
        assert len(holding) == 1, (name, holding)
        assert set(groups[holding.pop()][1]) == set(paraphrases[name])
    not_helpful = next(
        body
        for body, examples in groups.values()
        if "why are my legs getting thinner after my stroke" in examples
    )
    assert "rated not helpful" in not_helpful
    # A rating is no question, and an answered question is no miss.
    assert "/rate_" not in page and "what causes muscle wasting" not in page


def test_staff_label_a_group_in_one_step_and_viewers_cannot(
    learning_console: Console, staff: requests.Session, page: str
) -> None:
    key = next(
        key for key, (_, examples) in groups_of(page).items() if "is there parking at the clinic" in examples
    )
    today_range = {
        "key": key,
        "first": (today() - timedelta(days=29)).isoformat(),
        "last": today().isoformat(),
    }
    form = {**today_range, "intent": "book_appointment"}

    viewer = learning_console.login(*VIEWER)
    refused = viewer.post(
        f"{learning_console.url}/unanswered/label",
        data={**form, "csrf_token": learning_console.token(viewer, "/unanswered")},
        allow_redirects=False,
    )
    assert refused.status_code == 403
    no_token = staff.post(f"{learning_console.url}/unanswered/label", data=form, allow_redirects=False)
    assert no_token.status_code == 400

    token = learning_console.token(staff, "/unanswered")
    done = staff.post(f"{learning_console.url}/unanswered/label", data={**form, "csrf_token": token})
    assert done.status_code == 200 and "Labelled 4 messages" in done.text
    engine = make_engine(learning_console.db_url)
    with engine.connect() as connection:
        labelled = connection.execute(
            sa.select(
                messages.c.text, annotations_table.c.intent, annotations_table.c.created_by
            ).select_from(
                annotations_table.join(messages, messages.c.event_id == annotations_table.c.event_id)
            )
        ).fetchall()
        audited = connection.execute(sa.select(audit_log.c.action, audit_log.c.username)).fetchall()
    engine.dispose()
    parking = labelled_questions()[0]["parking"]
    assert sorted(row.text for row in labelled if row.intent == "book_appointment") == sorted(parking)
    assert {row.created_by for row in labelled} == {STAFF[0]}
    assert ("unanswered_label", STAFF[0]) in {tuple(row) for row in audited}
    export = learning_console.get(staff, "/annotations/export.yml").text
    assert all(f"- {text}" in export for text in parking)
    assert "4 of 4 labelled book_appointment" in learning_console.get(staff, "/unanswered").text


def test_a_group_marked_not_in_the_article_is_what_to_write_next(
    learning_console: Console, staff: requests.Session, page: str
) -> None:
    key = next(
        key
        for key, (_, examples) in groups_of(page).items()
        if "how much does one physio session cost" in examples
    )
    form = {"key": key, "first": (today() - timedelta(days=29)).isoformat(), "last": today().isoformat()}
    viewer = learning_console.login(*VIEWER)
    assert (
        viewer.post(
            f"{learning_console.url}/unanswered/mark",
            data={**form, "csrf_token": learning_console.token(viewer, "/unanswered")},
            allow_redirects=False,
        ).status_code
        == 403
    )
    token = learning_console.token(staff, "/unanswered")
    marked = staff.post(f"{learning_console.url}/unanswered/mark", data={**form, "csrf_token": token}).text
    write_next = marked.split('id="write-next"', 1)[1].split("</div>", 1)[0]
    assert "Nothing yet" not in write_next and "physio" in write_next and STAFF[0] in write_next
    rows = list(csv.DictReader(io.StringIO(learning_console.get(staff, "/summary.csv").text)))
    assert any(row["section"] == "write_next" for row in rows)
    assert any(row["section"] == "unanswered_group" and "not in the article" in row["note"] for row in rows)
    assert "Not in the article" in learning_console.get(staff, "/summary.html").text


def test_the_summary_shows_the_dashboards_figures(learning_console: Console, staff: requests.Session) -> None:
    last = today()
    first = last - timedelta(days=6)
    board = figures(
        learning_console.get(staff, "/dashboard", **{"from": first.isoformat(), "to": last.isoformat()}).text
    )
    html = learning_console.get(staff, "/summary.html", start=first.isoformat(), end=last.isoformat())
    assert html.headers["Content-Disposition"].startswith("attachment;")
    assert "<script" not in html.text and "<style" not in html.text and "style=" not in html.text
    page_figures = figures(
        learning_console.get(staff, "/summary", start=first.isoformat(), end=last.isoformat()).text
    )
    downloaded = figures(html.text)
    assert page_figures == downloaded
    for key, value in downloaded.items():
        if key[1] != "unanswered_messages":
            assert board[key] == value, key
    assert {key[0] for key in board if key[0]} == {key[0] for key in downloaded if key[0]}

    rows = list(
        csv.DictReader(
            io.StringIO(
                learning_console.get(
                    staff, "/summary.csv", start=first.isoformat(), end=last.isoformat()
                ).text
            )
        )
    )
    by_item = {(row["section"], row["item"]): row for row in rows}
    assert int(by_item[("conversations", "Conversations")]["count"]) == board[(None, "conversations")]
    for item, figure in (
        ("Quote given", "answered"),
        ("Clarifying question", "clarified"),
        ("Cannot answer", "cannot_answer"),
    ):
        assert int(by_item[("questions", item)]["count"]) == board[(None, figure)]
        assert int(by_item[("questions", item)]["of"]) == board[(None, "questions")]
    rated = by_item[("ratings", "Rated helpful")]
    assert (int(rated["count"]), int(rated["of"])) == (board[(None, "helpful")], board[(None, "rated")])
    causes = by_item[("topic_rated_helpful", "Causes of atrophy")]
    assert (int(causes["count"]), int(causes["of"])) == (1, 2)
    assert int(by_item[("emergencies", "Emergency conversations")]["count"]) == board[(None, "emergencies")]
    assert (
        int(by_item[("requests_for_a_person", "Requests for a person")]["count"])
        == board[(None, "person_requests")]
    )


def test_the_page_groups_on_postgresql(postgres: PostgresService, tmp_path: Path) -> None:
    url = postgres.create_database("unanswered")
    store(url, clinic_week(time.time()))
    running = start_console(tmp_path, url)
    try:
        session = running.login(*STAFF)
        deadline = time.monotonic() + WAIT_FOR_VECTORS
        html = running.get(session, "/unanswered").text
        while 'id="waiting-vectors"' in html and time.monotonic() < deadline:
            time.sleep(1)
            html = running.get(session, "/unanswered").text
        paraphrases = labelled_questions()[0]
        examples = [set(found) for _, found in groups_of(html).values()]
        assert all(set(paraphrases[name]) in examples for name in ASKED)
        values = figures(running.get(session, "/dashboard").text)
        assert (values[("atrophy_causes", "topic_helpful")], values[("atrophy_causes", "topic_rated")]) == (
            1,
            2,
        )
    finally:
        running.service.stop()
