"""Measures the staff console's page load times on a large tracker store (not a test).

    python scripts/bench_console.py                      # SQLite, 10,000 conversations
    python scripts/bench_console.py --postgres           # the same in a throwaway PostgreSQL
    python scripts/bench_console.py --screenshots reports/console
    python scripts/bench_console.py --screenshots reports --shots learning

Generates the tracker store with scripts/generate_conversations.py when it is empty (or
with --fresh), indexes it, reads the unanswered questions with the sentence model (what
the console's background thread does), serves the console (waitress, as `make run` does)
and times each page over real HTTP: its first load after the console started, then the
median and worst of repeated loads. Results go to reports/console-bench-<database>.md.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any, Dict, List, Tuple

import requests
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from console import accounts, retraining, unanswered, unanswered_marks
from console.indexer import Indexer
from console.schema import conversations, ensure_schema, events, messages
from console.timeutil import today
from core.cli_args import at_least
from core.database import make_engine
from core.settings import PROJECT_ROOT, get_settings
from tooling.launcher import BIN_DIR, ServiceGroup, console_server, free_port
from tooling.postgres import postgres_server

BENCH_DIR = PROJECT_ROOT / "var" / "bench"
REPORTS = PROJECT_ROOT / "reports"
USER = ("bench", "console timing passphrase")


def pages(sample_id: int, sample_text: str) -> List[Tuple[str, str]]:
    """Returns (name, path) of every page measured."""
    last = today()
    month, year = (last - timedelta(days=30)).isoformat(), (last - timedelta(days=365)).isoformat()
    return [
        ("Dashboard, last 30 days", "/dashboard"),
        ("Dashboard, a whole year", f"/dashboard?from={year}&to={last}"),
        ("Dashboard, WhatsApp (Twilio) in Malay", "/dashboard?channel=twilio&language=ms"),
        ("Unanswered questions, last 30 days", "/unanswered"),
        ("Unanswered questions, a whole year (2,000 grouped)", f"/unanswered?from={year}&to={last}"),
        ("Weekly summary", "/summary"),
        ("Weekly summary, HTML file", "/summary.html"),
        ("Weekly summary, CSV", "/summary.csv"),
        ("Conversations, page 1", "/conversations"),
        ("Conversations, page 100", "/conversations?page=100"),
        ("Filter: fallback / low confidence", "/conversations?flag=fallback"),
        ("Filter: emergency + channel", "/conversations?flag=emergency&channel=socketio"),
        ("Filter: topic", "/conversations?topic=recovery_time"),
        (
            "Filter: date range (a month) + booking/human",
            f"/conversations?from={month}&to={last}&flag=handoff",
        ),
        ("Filter: free text", f"/conversations?q={sample_text}"),
        ("Transcript", f"/conversations/{sample_id}"),
        ("Annotations", "/annotations"),
        ("Audit log (admin)", "/admin/audit"),
        ("Export CSV, fallback filter", "/conversations/export.csv?flag=fallback"),
        ("Export JSONL, all conversations", "/conversations/export.jsonl"),
        ("Export CSV, all conversations", "/conversations/export.csv"),
    ]


def login(url: str) -> requests.Session:
    """Signs in as the benchmark's admin."""
    import re

    session = requests.Session()
    page = session.get(f"{url}/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    assert token
    response = session.post(
        f"{url}/login", data={"username": USER[0], "password": USER[1], "csrf_token": token.group(1)}
    )
    response.raise_for_status()
    return session


def measure(session: requests.Session, url: str, repeat: int) -> Tuple[float, float, float, int]:
    """Returns the first load's seconds, the median and worst of ``repeat`` more, and bytes."""
    started = time.perf_counter()
    session.get(url).raise_for_status()
    first = time.perf_counter() - started
    times = []
    size = 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = session.get(url)
        size = len(response.content)
        times.append(time.perf_counter() - started)
        response.raise_for_status()
    return first, statistics.median(times), max(times), size


def dress_for_screenshots(db_url: str) -> None:
    """Adds what a clinic would have after a while: colleagues, and a few annotations."""
    engine = make_engine(db_url)
    for username, role in (("nurul.aina", "staff"), ("dr.lim", "admin"), ("reception", "staff")):
        if accounts.find_user(engine, username) is None:
            accounts.create_user(engine, username, "a colleague's passphrase", role)
    with engine.connect() as connection:
        misses = connection.execute(
            sa.select(messages.c.event_id, messages.c.text)
            .where(messages.c.unanswered.is_(True))
            .order_by(messages.c.event_id.desc())
            .limit(40)
        ).fetchall()
    labels = {
        "physio session cost": "book_appointment",
        "insurance": "contact_human",
        "parking": "contact_human",
    }
    for event_id, text in misses:
        intent = next((label for key, label in labels.items() if key in text), None)
        if intent:
            retraining.save(engine, event_id, intent, "nurul.aina")
    last = today()
    groups = unanswered.group(engine, last - timedelta(days=29), last).groups
    for group in groups[1:3]:
        unanswered_marks.mark(engine, group, "dr.lim")
    if len(groups) > 3:
        unanswered_marks.label(engine, groups[3], "book_appointment", "nurul.aina")
    engine.dispose()


# What learning from conversations looks like: (file, page, element to capture or "" for the page).
LEARNING_SHOTS = [
    ("console-dashboard-ratings.png", "/dashboard", "#learning"),
    ("console-unanswered.png", "/unanswered", ""),
    ("console-summary.png", "/summary", ""),
]


def learning_screenshots(page: Any, url: str, target: Path) -> List[Path]:
    """Saves the dashboard's answers and ratings, the unanswered page and the weekly summary."""
    saved = []
    for name, path, selector in LEARNING_SHOTS:
        page.goto(f"{url}{path}")
        if selector:
            # From the top of the whole page, so the sticky top bar does not cover the element.
            box = page.locator(selector).bounding_box()
            page.screenshot(path=str(target / name), clip=box, full_page=True)
        else:
            height = min(2400, page.evaluate("document.documentElement.scrollHeight"))
            clip = {"x": 0, "y": 0, "width": 1440, "height": height}
            page.screenshot(path=str(target / name), clip=clip, full_page=True)
        saved.append(target / name)
    return saved


def screenshots(url: str, target: Path, sample_id: int, only_learning: bool = False) -> List[Path]:
    """Saves screenshots of the console's pages with headless system Chromium."""
    from playwright.sync_api import sync_playwright

    target.mkdir(parents=True, exist_ok=True)
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    shots = [
        ("console-login.png", "/login", False),
        ("console-dashboard.png", "/dashboard", True),
        ("console-conversations.png", "/conversations", False),
        ("console-conversations-fallback.png", "/conversations?flag=fallback", False),
        ("console-transcript.png", f"/conversations/{sample_id}", True),
        ("console-annotations.png", "/annotations", False),
        ("console-users.png", "/admin/users", False),
        ("console-audit.png", "/admin/audit", False),
    ]
    saved = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.goto(f"{url}/login")
        page.screenshot(path=str(target / shots[0][0]))
        page.fill("#username", USER[0])
        page.fill("#password", USER[1])
        page.click("button[type=submit]")
        page.wait_for_load_state()
        for name, path, full in [] if only_learning else shots[1:]:
            page.goto(f"{url}{path}")
            page.screenshot(path=str(target / name), full_page=full)
            saved.append(target / name)
        saved += learning_screenshots(page, url, target)
        browser.close()
    return saved


def read_unanswered(engine: Engine) -> str:
    """Computes the sentence vectors of every unanswered question, as the console's background thread does."""
    started = time.monotonic()
    computed = 0
    while done := unanswered.prepare(engine, budget=60.0, limit=5000):
        computed += done
    seconds = time.monotonic() - started
    return f"- sentence vectors of {computed:,} unanswered questions (background work): {seconds:.0f} s"


def run(db_url: str, label: str, count: int, repeat: int, shots: Path | None, only_learning: bool) -> str:
    """Fills (if empty), indexes, serves and measures; returns the report in Markdown."""
    engine = make_engine(db_url)
    ensure_schema(engine)
    with engine.connect() as connection:
        has_events = (
            sa.inspect(engine).has_table("events")
            and connection.execute(sa.select(sa.func.count()).select_from(events)).scalar()
        )
    lines = [f"# Staff console page loads: {label}", ""]
    if not has_events:
        started = time.monotonic()
        subprocess.run(
            [str(BIN_DIR / "python"), "-m", "scripts.generate_conversations", "--db-url", db_url,
             "--conversations", str(count)],
            cwd=PROJECT_ROOT,
            check=True,
        )  # fmt: skip
        lines.append(f"- generating {count:,} conversations: {time.monotonic() - started:.0f} s")
    started = time.monotonic()
    indexer = Indexer(engine, get_settings().console.low_confidence)
    while not indexer.catch_up(budget=600):
        pass
    lines.append(f"- first indexing of the tracker store by the console: {time.monotonic() - started:.1f} s")
    lines.append(read_unanswered(engine))
    if accounts.find_user(engine, USER[0]) is None:
        accounts.create_user(engine, USER[0], USER[1], "admin")
    with engine.connect() as connection:
        total_events = connection.execute(sa.select(sa.func.count()).select_from(events)).scalar()
        total = connection.execute(
            sa.select(sa.func.count()).select_from(conversations).where(conversations.c.user_messages > 0)
        ).scalar()
        sample = connection.execute(
            sa.select(conversations.c.id).order_by(conversations.c.user_messages.desc()).limit(1)
        ).scalar()
    engine.dispose()
    lines.append(f"- {total:,} conversations, {total_events:,} events")
    lines += ["", "| Page | first load | median | worst | size |", "|---|---:|---:|---:|---:|"]

    port = free_port()
    service = console_server(
        get_settings(),
        port,
        log_path=BENCH_DIR / f"console-{label}.log",
        TRACKER_DB_URL=db_url,
        CONSOLE_SECRET_FILE=str(BENCH_DIR / "console-secret.key"),
    )
    url = f"http://127.0.0.1:{port}"
    results: Dict[str, Tuple[float, float, float, int]] = {}
    with ServiceGroup([service]):
        session = login(url)
        for name, path in pages(int(sample or 1), "frozen shoulder"):
            # Exports of all 10,000 conversations take seconds: fewer repeats.
            results[name] = measure(session, f"{url}{path}", 1 if "all conversations" in name else repeat)
            first, median, worst, size = results[name]
            times = " | ".join(f"{seconds * 1000:,.0f} ms" for seconds in (first, median, worst))
            lines.append(f"| {name} | {times} | {size / 1024:,.0f} KiB |")
            print(lines[-1], flush=True)
        if shots is not None:
            dress_for_screenshots(db_url)
            for shot in screenshots(url, shots, int(sample or 1), only_learning):
                print(f"screenshot: {shot}")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Parses the command line and runs the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=at_least(1), default=10000)
    parser.add_argument("--repeat", type=at_least(1), default=5)
    parser.add_argument("--postgres", action="store_true", help="use a throwaway PostgreSQL server")
    parser.add_argument("--screenshots", type=Path, help="also save screenshots of the pages here")
    parser.add_argument("--shots", choices=["all", "learning"], default="all", help="which screenshots")
    parser.add_argument("--fresh", action="store_true", help="generate a new SQLite tracker store")
    args = parser.parse_args()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    REPORTS.mkdir(exist_ok=True)
    with ExitStack() as stack:
        if args.postgres:
            data_dir = Path(tempfile.mkdtemp(prefix="bench-pg-"))
            stack.callback(shutil.rmtree, data_dir, True)
            server = postgres_server(data_dir, free_port(), log_path=BENCH_DIR / "postgres.log")
            stack.enter_context(ServiceGroup([server]))
            db_url, label = server.create_database("bench"), "postgresql"
        else:
            db_file = BENCH_DIR / f"tracker-{args.conversations}.db"
            if args.fresh:
                for stale in BENCH_DIR.glob(f"{db_file.name}*"):
                    stale.unlink()
            db_url, label = f"sqlite:///{db_file}", "sqlite"
        only_learning = args.shots == "learning"
        report = run(db_url, label, args.conversations, args.repeat, args.screenshots, only_learning)
    target = REPORTS / f"console-bench-{label}.md"
    target.write_text(report, encoding="utf-8")
    print(report)
    print(f"Written to {target}")


if __name__ == "__main__":
    main()
