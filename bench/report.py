"""Writes the benchmark's results: reports/bench.json, reports/bench.md and a PNG plot."""

from __future__ import annotations

import json
import math
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List

import rasa

from bench.measure import Measurement

# (key, label, unit, lower is better)
METRICS = [
    ("p50_ms", "Latency p50, c=1", "ms", True),
    ("p95_ms", "Latency p95, c=1", "ms", True),
    ("p99_ms", "Latency p99, c=1", "ms", True),
    ("p50_ms_c20", "Latency p50, c=20", "ms", True),
    ("p95_ms_c20", "Latency p95, c=20", "ms", True),
    ("throughput_c20", "Throughput, c=20", "msg/s", False),
    ("rasa_cpu_ms_per_msg", "Rasa server CPU per message, c=20", "ms", True),
    ("p50_ms_msg1_5", "p50 of messages 1-5", "ms", True),
    ("p50_ms_msg100", "p50 of messages 96-100", "ms", True),
    ("rss_mb", "Rasa server RSS after warm-up", "MiB", True),
    ("startup_s", "Start-up to first answer", "s", True),
    ("train_s", "Training time", "s", True),
    ("eval_accuracy", "Eval-set intent accuracy", "", False),
    ("answered_accuracy", "Eval-set answered without fallback", "", False),
]


@dataclass(frozen=True)
class Target:
    """A goal of issue 7, checked against the figures of one run."""

    label: str
    check: Callable[[Dict[str, float], Dict[str, float]], bool]


TARGETS = [
    Target("p50 <= 0.5x stock and <= 15 ms", lambda o, s: o["p50_ms"] <= min(0.5 * s["p50_ms"], 15.0)),
    Target("throughput c=20 >= 2.5x stock", lambda o, s: o["throughput_c20"] >= 2.5 * s["throughput_c20"]),
    Target(
        "message-100 p50 <= 1.5x own messages 1-5",
        lambda o, s: o["p50_ms_msg100"] <= 1.5 * o["p50_ms_msg1_5"],
    ),
    Target("RSS <= 0.6x stock", lambda o, s: o["rss_mb"] <= 0.6 * s["rss_mb"]),
    Target("start-up <= 0.5x stock", lambda o, s: o["startup_s"] <= 0.5 * s["startup_s"]),
    Target("eval accuracy not lower", lambda o, s: o["eval_accuracy"] >= s["eval_accuracy"]),
]


def write_table(out: Path, name: str, lines: List[str], figures: Any) -> None:
    """Writes ``name``.md (the table's lines) and ``name``.json (its figures) to ``out``; prints the table."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.md").write_text("\n".join(lines) + "\n")
    (out / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")
    print("\n".join(lines))


def machine() -> Dict[str, Any]:
    """Describes where the benchmark ran."""
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line
        ]
        cpu = names[0] if names else cpu
    memory_kib = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        memory_kib = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "load_average_at_start": os.getloadavg(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "rasa": rasa.__version__,
    }


def ratio(ours: float, stock: float) -> float:
    """Returns ours / stock (NaN when stock is zero)."""
    return ours / stock if stock else float("nan")


def _rounded(figures: Dict[str, float]) -> Dict[str, float]:
    return {key: round(value, 4 if key.endswith("accuracy") else 2) for key, value in figures.items()}


def write_json(path: Path, ours: Dict[str, float], stock: Dict[str, float], info: Dict[str, Any]) -> None:
    """Writes the figures of both systems, their ratios and the targets met."""
    document = {
        "ours": _rounded(ours),
        "stock": _rounded(stock),
        "ratios": {key: round(ratio(ours[key], stock[key]), 3) for key, *_ in METRICS},
        "targets": {target.label: target.check(ours, stock) for target in TARGETS},
        "machine": info,
    }
    path.write_text(json.dumps(document, indent=2, allow_nan=True) + "\n")


def _cell(value: float, unit: str) -> str:
    if math.isnan(value):
        return "n/a"
    if not unit:
        return f"{value:.1%}"
    return f"{value:.1f} {unit}"


def write_markdown(path: Path, ours: Dict[str, float], stock: Dict[str, float], info: Dict[str, Any]) -> None:
    """Writes the table of both systems with ratios, and which targets are met."""
    load = ", ".join(f"{x:.2f}" for x in info["load_average_at_start"])
    lines = [
        "# Benchmark: this project vs stock Rasa",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB, Python {info['python']}, "
        f"Rasa {info['rasa']}; load average at start {load}.",
        "Stock Rasa: the config `rasa init` writes, trained on the same data and domain, same action server.",
        "",
        "| Metric | Ours | Stock | Ours / stock |",
        "|---|---:|---:|---:|",
    ]
    for key, label, unit, _ in METRICS:
        cells = f"{_cell(ours[key], unit)} | {_cell(stock[key], unit)} | {ratio(ours[key], stock[key]):.2f}"
        lines.append(f"| {label} | {cells} |")
    lines += ["", "| Target | Met |", "|---|---|"]
    lines += [f"| {target.label} | {'yes' if target.check(ours, stock) else 'no'} |" for target in TARGETS]
    lines += [
        "",
        f"Errors: ours {ours['errors']:.0f} of {ours['messages']:.0f} messages, "
        f"stock {stock['errors']:.0f} of {stock['messages']:.0f}.",
        "",
        "![latency](bench.png)",
        "",
    ]
    path.write_text("\n".join(lines))


def write_plot(path: Path, ours: Measurement, stock: Measurement) -> None:
    """Plots latency distributions at c=1 and c=20 and the latency along a long conversation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    series: List[tuple[str, Measurement, str]] = [("ours", ours, "tab:blue"), ("stock", stock, "tab:orange")]
    for axis, attribute, title in (
        (axes[0], "c1_ms", "Concurrency 1"),
        (axes[1], "c20_ms", "Concurrency 20"),
    ):
        for name, measurement, colour in series:
            values = sorted(getattr(measurement, attribute))
            if values:
                fractions = [(i + 1) / len(values) for i in range(len(values))]
                axis.plot(values, fractions, label=name, color=colour)
        axis.set_xscale("log")
        axis.set_xlabel("latency per message (ms, log)")
        axis.set_ylabel("fraction of messages")
        axis.set_title(f"{title}: latency CDF")
        axis.grid(alpha=0.3)
        axis.legend()
    for name, measurement, colour in series:
        curve = measurement.history_curve_ms
        axes[2].plot(range(1, len(curve) + 1), curve, label=name, color=colour)
    axes[2].set_xlabel("message number in one conversation")
    axes[2].set_ylabel("median latency (ms)")
    axes[2].set_title("Cost of history")
    axes[2].grid(alpha=0.3)
    axes[2].legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
