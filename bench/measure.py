"""Measures one Rasa server: start-up, latency at two concurrencies, history growth, memory."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

import requests

from bench.traffic import Run, topic_questions, virtual_users
from core.settings import get_settings
from tooling.launcher import Service, free_port, rasa_server

# Message indexes (0-based) compared for the growth of cost with history.
FIRST_FIVE = range(5)
HUNDREDTH = range(95, 100)


@dataclass(frozen=True)
class Plan:
    """How much traffic each measurement sends (bounded in count, so in time)."""

    warmup_conversations: int = 3
    c1_conversations: int = 12
    c20_users: int = 20
    c20_conversations: int = 3
    long_conversations: int = 3
    long_length: int = 100
    length: int = 10


@dataclass
class SystemUnderTest:
    """A Rasa server to measure: its model and the Rasa files it is started with."""

    name: str
    model: Path
    endpoints: Path
    credentials: Path
    environment: Dict[str, str] = field(default_factory=dict)


def process_tree_rss_mb(pid: int) -> float:
    """Returns the resident memory of ``pid`` and its descendants, in MiB (Linux /proc)."""
    total_kib, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children_files = Path(f"/proc/{current}/task").glob("*/children")
            for children in children_files:
                pending.extend(int(child) for child in children.read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total_kib += int(line.split()[1])
    return total_kib / 1024


def process_tree_cpu_s(pid: int) -> float:
    """Returns the CPU seconds (user + system) used so far by ``pid`` and its descendants."""
    total_ticks, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            for children in Path(f"/proc/{current}/task").glob("*/children"):
                pending.extend(int(child) for child in children.read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
        total_ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return total_ticks / os.sysconf("SC_CLK_TCK")


def first_answer(rasa_url: str, sender: str, timeout: float = 120.0) -> None:
    """Sends topic questions until one is answered (the model and actions are warm)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = requests.post(
                f"{rasa_url}/webhooks/rest/webhook",
                json={"sender": sender, "message": topic_questions()[0]},
                timeout=30,
            )
            if response.status_code == 200 and response.json():
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"no answer from {rasa_url} within {timeout:.0f} s")


def start_timed(system: SystemUnderTest, actions_port: int, log_dir: Path) -> tuple[Service, float]:
    """Starts the system's Rasa server; returns it and the seconds until its first answer."""
    port = free_port()
    service = rasa_server(
        get_settings(),
        port,
        actions_port,
        log_path=log_dir / f"rasa-{system.name}.log",
        model=str(system.model),
        endpoints=str(system.endpoints),
        credentials=str(system.credentials),
        **system.environment,
    )
    started = time.monotonic()
    service.start()
    try:
        service.wait_ready(timeout=300)
        first_answer(f"http://127.0.0.1:{port}", f"startup-{system.name}-{port}")
    except BaseException:
        service.stop()
        raise
    return service, time.monotonic() - started


@dataclass
class Measurement:
    """The figures of one system, and the raw latencies behind the plot."""

    figures: Dict[str, float]
    c1_ms: List[float]
    c20_ms: List[float]
    history_curve_ms: List[float]


def measure(system: SystemUnderTest, actions_port: int, log_dir: Path, plan: Plan) -> Measurement:
    """Starts the system's Rasa server, sends the plan's traffic and returns the figures.

    Figures are in ms (latency), messages per second (throughput), MiB (RSS) and seconds
    (start-up); errors counts messages that got no 200 with an answer.
    """
    service, startup_s = start_timed(system, actions_port, log_dir)
    url = service.ready_url.rsplit("/webhooks", 1)[0]
    runs: List[Run] = []
    try:
        tag = f"{system.name}-{int(time.time())}"
        warmup = asyncio.run(virtual_users(url, 1, plan.warmup_conversations, plan.length, f"w-{tag}"))
        pid = service.process.pid if service.process else 0
        rss_mb = process_tree_rss_mb(pid)
        c1 = asyncio.run(virtual_users(url, 1, plan.c1_conversations, plan.length, f"c1-{tag}"))
        cpu_before = process_tree_cpu_s(pid)
        c20 = asyncio.run(
            virtual_users(url, plan.c20_users, plan.c20_conversations, plan.length, f"c20-{tag}")
        )
        # CPU time per message: what a message costs, whatever else runs on the machine.
        cpu_ms_c20 = (process_tree_cpu_s(pid) - cpu_before) * 1000 / max(len(c20.samples), 1)
        # One after the other: the growth with history, without queueing behind other users.
        long = asyncio.run(
            virtual_users(url, 1, plan.long_conversations, plan.long_length, f"long-{tag}", timeout_s=300)
        )
        runs = [warmup, c1, c20, long]
    finally:
        service.stop()
    figures = {
        "p50_ms": c1.percentile(50),
        "p95_ms": c1.percentile(95),
        "p99_ms": c1.percentile(99),
        "p50_ms_c20": c20.percentile(50),
        "p95_ms_c20": c20.percentile(95),
        "p99_ms_c20": c20.percentile(99),
        "throughput_c20": c20.throughput,
        "rasa_cpu_ms_per_msg": cpu_ms_c20,
        "p50_ms_msg1_5": long.percentile(50, FIRST_FIVE),
        "p50_ms_msg100": long.percentile(50, HUNDREDTH),
        "rss_mb": rss_mb,
        "startup_s": startup_s,
        "errors": float(sum(run.errors for run in runs)),
        "messages": float(sum(len(run.samples) for run in runs)),
    }
    return Measurement(figures, c1.latencies(), c20.latencies(), long_conversation_curve(long))


def long_conversation_curve(run: Run) -> List[float]:
    """Returns the median latency at each message index of the long conversations."""
    length = max(sample.index for sample in run.samples) + 1
    return [run.percentile(50, [index]) for index in range(length)]
