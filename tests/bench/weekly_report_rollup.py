"""Weekly report over generated calls: read live (every call of the week) vs from the daily rollup
(cells of the closed days), for an admin and a QA user of one team (prints figures).

    .venv/bin/python tests/bench/weekly_report_rollup.py [--calls 10000] [--repeats 3]
        [--emulator-mode fast|stock] [--out weekly-report-rollup.json]

One process: the embedded moto emulator, ``--calls`` generated calls (``data_generator``: production
items, bulk-written over the last 60 days), the statistics rollup of the measured weeks' closed days
(what the hourly schedule does), then ``weekly_report_for`` — what ``GET /reports/weekly`` and the
scheduled function call — for the last complete week and the current one (today read live), live
and from the rollup, ``--repeats`` times each. Both answers are compared (they must be equal but for
``generated_at``). Without a rollup-aware ``weekly_report_for`` (the code before it) only the live
figures are taken. Figures depend on the machine and its load: both are recorded.
"""

from __future__ import annotations

import argparse
import inspect
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench_common import load_avg, machine, machine_line, quiet_logs, write_result
from emulator_process import _moto_mode, _moto_size_check


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--emulator-mode", default="fast", choices=("fast", "stock"))
    parser.add_argument("--out", default="weekly-report-rollup.json")
    args = parser.parse_args()
    quiet_logs()

    from callsight.auth.tokens import Principal, Role
    from callsight.config import get_settings, reset_settings
    from callsight.local.emulator import EmbeddedEmulator
    from callsight.reports.weekly import last_complete_week, week_start
    from callsight.storage import aws
    from callsight.storage.call_repository import CallRepository
    from callsight.storage.daily_stats import DailyStatsStore
    from callsight.storage.provisioning import provision
    from callsight.sweeps import weekly_reports
    from callsight.sweeps.stats_rollup import StatsRollup
    from data_generator import load

    emulator = EmbeddedEmulator()
    os.environ["CALLSIGHT_AWS_ENDPOINT"] = emulator.start()
    reset_settings()
    aws.reset_clients()
    settings = get_settings()
    results: dict[str, Any] = {"benchmark": "weekly_report_rollup", "machine": machine(), "weeks": {}}
    try:
        provision(settings)
        print(f"machine: {machine_line()}", flush=True)
        _moto_size_check(True)
        started = time.perf_counter()
        _, loaded = load(settings, args.calls, threads=3)
        _moto_size_check(False)
        results["load"] = {"calls": loaded.calls, "seconds": round(time.perf_counter() - started, 1)}
        _moto_mode(args.emulator_mode)
        results["emulator_mode"] = args.emulator_mode
        today = datetime.now(UTC).date()
        weeks = [last_complete_week(today), f"{today.isocalendar()[0]}-W{today.isocalendar()[1]:02d}"]
        closed = sorted({week_start(w) + timedelta(days=n) for w in weeks for n in range(7)} - {today})
        closed = [d for d in closed if d < today]
        started = time.perf_counter()
        rolled = StatsRollup(settings).run(days=closed)
        results["rollup"] = {"days": len(rolled.rolled_up), "calls": rolled.calls, "cells": rolled.cells,
                             "seconds": round(time.perf_counter() - started, 1)}  # fmt: skip
        print(f"loaded {loaded.calls} calls; rollup {results['rollup']}", flush=True)

        calls, store = CallRepository(settings), DailyStatsStore(settings)
        rollup_aware = "store" in inspect.signature(weekly_reports.weekly_report_for).parameters
        principals = {
            "admin": Principal(subject="bench-admin", role=Role.ADMIN),
            "qa support": Principal(subject="bench-qa", role=Role.QA, teams=["support"]),
        }
        for week in weeks:
            figures: dict[str, Any] = {}
            for name, principal in principals.items():
                ways: dict[str, Any] = {
                    "live": lambda p=principal, w=week: weekly_reports.weekly_report_for(calls, p, w)
                }
                if rollup_aware:
                    ways["rollup"] = lambda p=principal, w=week: weekly_reports.weekly_report_for(
                        calls, p, w, store=store
                    )
                answers, times = {}, {}
                for way, fn in ways.items():
                    runs = []
                    for _ in range(args.repeats):
                        t0 = time.perf_counter()
                        answers[way] = fn().model_dump(exclude={"generated_at"})
                        runs.append(time.perf_counter() - t0)
                    times[way] = {"median_ms": round(1000 * statistics.median(runs)),
                                  "min_ms": round(1000 * min(runs)), "max_ms": round(1000 * max(runs))}  # fmt: skip
                figures[name] = {"calls": answers["live"]["calls"], **times, "load_avg": load_avg()}
                if rollup_aware:
                    figures[name]["equal"] = answers["live"] == answers["rollup"]
                print(f"{week} {name}: {figures[name]}", flush=True)
            results["weeks"][week] = figures
        results["machine"]["load_avg_end"] = load_avg()
        print(f"wrote {write_result(args.out, results)}")
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
