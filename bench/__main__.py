"""``make bench``: the project against stock Rasa, trained on the same data, on this machine.

Trains both models (or reuses them when their inputs did not change), scores them on the
evaluation set, starts one action server, then starts and measures each Rasa server in
turn over the REST channel on loopback, and writes reports/bench.{json,md,png}.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from bench import models, report
from bench.intent_accuracy import evaluate
from bench.measure import Measurement, Plan, SystemUnderTest, measure
from core.cli_args import positive_number
from core.settings import PROJECT_ROOT
from tooling.launcher import ServiceGroup, action_server, free_port

WORK_DIR = PROJECT_ROOT / "var" / "bench"
QUICK = Plan(
    warmup_conversations=1,
    c1_conversations=2,
    c20_users=4,
    c20_conversations=1,
    long_conversations=1,
    long_length=20,
)

STOCK_ENDPOINTS = """\
action_endpoint:
  url: ${ACTION_ENDPOINT_URL}
tracker_store:
  type: SQL
  url: ${TRACKER_DB_URL}
"""
STOCK_CREDENTIALS = "rest:\n"


def stock_files(work_dir: Path) -> tuple[Path, Path, Path]:
    """Writes stock Rasa's config, endpoints and credentials; returns their paths."""
    config = models.stock_config(work_dir)
    endpoints = work_dir / "endpoints.yml"
    endpoints.write_text(STOCK_ENDPOINTS)
    credentials = work_dir / "credentials.yml"
    credentials.write_text(STOCK_CREDENTIALS)
    return config, endpoints, credentials


def parse_arguments() -> argparse.Namespace:
    """Reads the command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "reports", help="where the reports go")
    parser.add_argument("--quick", action="store_true", help="a few messages only, to try the bench itself")
    parser.add_argument("--ours-config", type=Path, default=PROJECT_ROOT / "config.yml", help="config to try")
    parser.add_argument("--ours-endpoints", type=Path, default=PROJECT_ROOT / "endpoints.yml")
    parser.add_argument("--ours-credentials", type=Path, default=PROJECT_ROOT / "credentials.yml")
    # Stock Rasa's transformer reads real patients' stories slowly: in session 9 it needed
    # about 3 minutes an epoch of its 100 on this 2-core machine (docs/performance.md).
    parser.add_argument(
        "--train-timeout-hours",
        type=positive_number,
        default=6.0,
        help="longest training allowed for each model",
    )
    return parser.parse_args()


def main() -> int:
    """Runs the benchmark and writes the reports."""
    arguments = parse_arguments()
    plan = QUICK if arguments.quick else Plan()
    info = report.machine()
    stock_dir, run_dir = WORK_DIR / "stock", WORK_DIR / "run"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    stock_config, stock_endpoints, stock_credentials = stock_files(stock_dir)

    print("Training (or reusing) both models ...", flush=True)
    timeout = arguments.train_timeout_hours * 3600
    trained = {
        "ours": models.train("ours", arguments.ours_config, run_dir / "train-ours.log", timeout),
        "stock": models.train("stock", stock_config, run_dir / "train-stock.log", timeout),
    }
    systems = [
        SystemUnderTest(
            "ours",
            trained["ours"].path,
            arguments.ours_endpoints,
            arguments.ours_credentials,
            {"TRACKER_DB_URL": f"sqlite:///{run_dir / 'ours.db'}"},
        ),
        SystemUnderTest(
            "stock",
            trained["stock"].path,
            stock_endpoints,
            stock_credentials,
            {"TRACKER_DB_URL": f"sqlite:///{run_dir / 'stock.db'}", "RASA_HOOKS": "false"},
        ),
    ]
    results: dict[str, Measurement] = {}
    actions_port = free_port()
    with ServiceGroup([action_server(actions_port, log_path=run_dir / "actions.log")]):
        for system in systems:
            print(f"Measuring {system.name} ...", flush=True)
            results[system.name] = measure(system, actions_port, run_dir, plan)
    figures = {}
    for name, measurement in results.items():
        print(f"Scoring {name} on the evaluation set ...", flush=True)
        figures[name] = {
            **measurement.figures,
            "train_s": trained[name].train_s,
            **evaluate(trained[name].path),
        }

    arguments.out.mkdir(parents=True, exist_ok=True)
    report.write_json(arguments.out / "bench.json", figures["ours"], figures["stock"], info)
    report.write_markdown(arguments.out / "bench.md", figures["ours"], figures["stock"], info)
    report.write_plot(arguments.out / "bench.png", results["ours"], results["stock"])
    print((arguments.out / "bench.md").read_text())
    return 0 if figures["ours"]["errors"] == 0 and figures["stock"]["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
