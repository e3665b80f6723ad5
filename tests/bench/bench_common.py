"""Shared by the benchmarks: the machine they ran on, waiting for a quiet machine, percentiles, output.

Not a benchmark itself. Benchmarks print figures and write JSON to ``tests/bench/results/``; they
never pass or fail.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "tests" / "bench" / "results"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def machine() -> dict[str, Any]:
    """What the figures ran on: CPU model, cores this process may use, memory, Python, load now."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu_model(),
        "cores": cores,
        "memory_gib": memory_gib(),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "load_avg": load_avg(),
    }


def machine_line(info: dict[str, Any] | None = None) -> str:
    info = info or machine()
    return (
        f"{info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB, Python {info['python']}, "
        f"load average {'/'.join(str(x) for x in info['load_avg'])} (1/5/15 min)"
    )


def load_avg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def wait_for_quiet(
    threshold: float = 0.8, poll_s: float = 30.0, max_wait_s: float = 900.0, label: str = ""
) -> dict[str, Any]:
    """Wait until the 1-minute load average is below ``threshold`` (the machine is shared with
    other people's test runs). Returns what happened, to be recorded beside the figures."""
    started = time.monotonic()
    first = load_avg()
    while os.getloadavg()[0] >= threshold and time.monotonic() - started < max_wait_s:
        print(
            f"  waiting for a quiet machine{f' ({label})' if label else ''}: load {load_avg()[0]} ≥ {threshold}",
            file=sys.stderr,
            flush=True,
        )
        time.sleep(poll_s)
    now = load_avg()
    return {
        "threshold": threshold,
        "waited_s": round(time.monotonic() - started),
        "load_before_wait": first,
        "load_at_start": now,
        "quiet": now[0] < threshold,
    }


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in 0..100) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, round(p / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def peak_rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def rss_mb() -> int:
    """Current resident set size of this process (MiB)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return peak_rss_mb()


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / name
    out.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    return out


def quiet_logs() -> None:
    """Benchmarks time the code, not its logging."""
    import logging

    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
