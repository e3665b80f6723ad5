"""``make bench``: run every benchmark (or some), then print ONE table of all figures with the machine
they ran on and write ``tests/bench/results/summary.json`` (never pass/fail).

    .venv/bin/python tests/bench/run_all.py [--quick] [--only asr,diarization,analysis,ingest,pipeline,api,search]
        [--skip ...] [--summary-only]

Each benchmark runs in its own process and writes its own JSON under ``results/``; this script
then reads them all (also those of benchmarks not run this time, marked with their file's age), so
``--summary-only`` just reprints the table. Without ``--quick`` it waits before each benchmark until
the 1-minute load average is below 0.8 (at most 15 minutes; the load is recorded either way) and
uses the full sizes (API at 10k → 100k calls, search over 10k → 1M index entries: allow an hour or
two on 2 cores). ``--quick`` uses small sizes, skips the waiting and finishes in under 5 minutes;
its figures are for checking that everything runs, not for quoting.

The cost per audio hour is computed from the measured ASR real-time factor and documented prices
(see PRICES; every price names its source, and what could not be verified is marked so).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench_common import RESULTS, load_avg, machine, machine_line, wait_for_quiet, write_result

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable

#: What each benchmark runs, full and quick (arguments after the script).
BENCHMARKS: dict[str, dict[str, Any]] = {
    "asr": {
        "script": "asr_benchmark.py",
        "full": ["--threads", "2"],
        "quick": ["--threads", "2", "--configs", "beam 5, VAD", "--out", "asr-cpu-quick.json"],
        "result": "asr-cpu.json",
        "quick_result": "asr-cpu-quick.json",
    },
    "diarization": {
        "script": "diarization_benchmark.py",
        "full": ["--threads", "2"],
        "quick": ["--threads", "2", "--out", "diarization-quick.json"],
        "result": "diarization.json",
        "quick_result": "diarization-quick.json",
    },
    "analysis": {
        "script": "analysis_benchmark.py",
        "full": ["--calls", "50"],
        "quick": ["--calls", "3", "--out", "analysis-quick.json"],
        "result": "analysis.json",
        "quick_result": "analysis-quick.json",
    },
    "ingest": {
        "script": "ingest_throughput.py",
        "full": ["100"],
        "quick": ["20", "ingest-quick.json"],
        "result": "ingest.json",
        "quick_result": "ingest-quick.json",
    },
    "pipeline": {
        "script": "pipeline_stages.py",
        "full": [],
        "quick": ["--no-wait", "--recordings", "1", "--out", "pipeline-quick.json"],
        "result": "pipeline.json",
        "quick_result": "pipeline-quick.json",
    },
    "api": {
        "script": "api_benchmark.py",
        "full": [
            "--calls",
            "100000",
            "--stages",
            "10000,100000",
            "--route-budget-s",
            "30",
            "--max-request-s",
            "60",
        ],
        "quick": [
            "--no-wait",
            "--calls",
            "2000",
            "--index-calls",
            "100",
            "--requests",
            "20",
            "--route-budget-s",
            "2",
            "--max-request-s",
            "5",
            "--emulator-modes",
            "fast",
            "--out",
            "api-quick.json",
        ],
        "result": "api.json",
        "quick_result": "api-quick.json",
    },
    "search": {
        "script": "search_scale.py",
        "full": ["--entries", "10000,100000,1000000", "--route-budget-s", "30", "--max-request-s", "90"],
        "quick": [
            "--no-wait",
            "--entries",
            "10000",
            "--requests",
            "10",
            "--route-budget-s",
            "2",
            "--max-request-s",
            "5",
            "--stock-max-entries",
            "0",
            "--out",
            "search-scale-quick.json",
        ],
        "result": "search-scale.json",
        "quick_result": "search-scale-quick.json",
    },
}

#: Prices (USD, us-east-1, on-demand) and where they come from. "verified": seen in a source text.
PRICES: dict[str, dict[str, Any]] = {
    "lambda_x86_gb_s": {
        "value": 0.0000166667,
        "source": "https://aws.amazon.com/lambda/pricing/ (x86, first tier; the same rate in artillery's "
        "prices.js, which cites that page)",
        "verified": True,
    },
    "lambda_requests_per_million": {
        "value": 0.20,
        "source": "https://aws.amazon.com/lambda/pricing/",
        "verified": True,
    },
    "lmi_management_fee": {
        "value": 0.15,
        "source": "Lambda Managed Instances: '15% premium on the EC2 on-demand instance price' + $0.20 per "
        "million requests (aws.amazon.com/lambda/pricing, as transcribed 2026-09-20 by api-evangelist/aws-lambda)",
        "verified": True,
    },
    "gpu_instance_per_hour": {
        "value": 1.006,
        "instance": "g5.xlarge (1 × NVIDIA A10G 24 GB, 4 vCPU)",
        "source": "EC2 on-demand, us-east-1, June 2026, as quoted by factualminds.com "
        "('a GPU g5.xlarge is $1.006/hr'); not read from AWS's own page",
        "verified": False,
    },
    "transcribe_standard_per_min": {
        "value": 0.024,
        "source": "Amazon Transcribe standard batch, tier 1 (as given in the issue brief): the stored copy of "
        "aws.amazon.com/transcribe/pricing renders prices client-side, so the number was not seen; it "
        "does say dual-channel audio is billed once (total duration, not per channel)",
        "verified": False,
    },
    "transcribe_call_analytics_per_min": {
        "value": 0.03,
        "source": "Amazon Transcribe Call Analytics (post-call), tier 1, as given in the issue brief; not verified",
        "verified": False,
    },
}
#: GPU throughput was not measured here (no GPU on this machine): cost is shown for these speeds.
GPU_SPEEDS_X_REALTIME = (20, 50, 100)
#: Lambda gives one vCPU per 1,769 MB: the measurement used 2 threads on 2 cores.
LAMBDA_MB_FOR_2_VCPU = 3538


def run_benchmark(name: str, quick: bool) -> dict[str, Any]:
    spec = BENCHMARKS[name]
    args = spec["quick" if quick else "full"]
    wait = {"skipped": "quick"} if quick else wait_for_quiet(label=name)
    started = time.perf_counter()
    print(f"\n=== {name}: {spec['script']} {' '.join(args)}", flush=True)
    completed = subprocess.run([PYTHON, str(HERE / spec["script"]), *args], cwd=HERE, check=False)
    return {
        "benchmark": name,
        "exit_code": completed.returncode,
        "seconds": round(time.perf_counter() - started, 1),
        "wait": wait,
        "load_avg_end": load_avg(),
    }


def _read(name: str) -> tuple[dict[str, Any] | None, str | None]:
    path = RESULTS / name
    if not path.exists():
        return None, None
    age_h = (time.time() - path.stat().st_mtime) / 3600
    return json.loads(path.read_text()), f"{name} ({age_h:.1f} h old)"


def _machine_of(data: dict[str, Any]) -> str:
    info = data.get("machine")
    if isinstance(info, dict):
        return f"{info.get('cpu')}, {info.get('cores')} cores"
    return str(info)


def _load_of(data: dict[str, Any], fallback: Any = None) -> str:
    for key in ("load_avg", "load_avg_start"):
        if key in data:
            return str(data[key][0])
    info = data.get("machine")
    if isinstance(info, dict) and "load_avg" in info:
        return str(info["load_avg"][0])
    return str(fallback) if fallback is not None else "?"


def figures(quick: bool) -> tuple[list[dict[str, Any]], dict[str, Any]]:  # noqa: C901 - one reader per result file
    rows: list[dict[str, Any]] = []

    def add(
        group: str, name: str, value: Any, unit: str, data: dict[str, Any], source: str, load: Any = None
    ) -> None:
        rows.append({"group": group, "figure": name, "value": value, "unit": unit, "machine": _machine_of(data),
                     "load_1min": load if load is not None else _load_of(data), "source": source})  # fmt: skip

    def result(name: str) -> tuple[dict[str, Any] | None, str | None]:
        return _read(BENCHMARKS[name]["quick_result" if quick else "result"])

    asr, src = result("asr")
    if asr:
        for r in asr["results"]:
            add("ASR (CPU int8, 2 threads)", f"{r['config']}: RTF", r["rtf"], "× audio time", asr, src)
            add("ASR (CPU int8, 2 threads)", f"{r['config']}: peak RSS", r["peak_rss_mb"], "MB", asr, src)
    gpu, gsrc = _read("asr-cuda.json")
    if gpu:
        for r in gpu["results"]:
            add("ASR (GPU)", f"{r['config']}: RTF", r["rtf"], "× audio time", gpu, gsrc)
    diarization, src = result("diarization")
    if diarization:
        group = "mono speaker separation (2 threads)"
        for r in diarization["samples"]:
            name = f"{r['script'].split('/')[-1].removesuffix('.txt')} ({r['outcome']})"
            add(group, f"{name}: DER / words right", f"{r['der']} / {r['words_right']}", "", diarization, src)
            add(group, f"{name}: separation time", r["separation_s_per_audio_min"], "s per audio min",
                diarization, src)  # fmt: skip
    analysis, src = result("analysis")
    if analysis:
        for lang in ("ru", "en"):
            add("analysis (1 core)", f"{lang.upper()} 5-min call, median", analysis[lang]["ms_per_5min_call_median"],
                "ms", analysis, src)  # fmt: skip
    ingest, src = result("ingest")
    if ingest:
        add("ingest (local runner)", "throughput", ingest["objects_per_s"], "objects/s", ingest, src)
        add("ingest (local runner)", "per object", ingest["ms_per_object"], "ms", ingest, src)
    pipeline, src = result("pipeline")
    if pipeline:
        for stage, value in pipeline["median_stage_s"].items():
            add("pipeline per call (median)", stage, value, "s", pipeline, src)
        for stage, value in pipeline["peak_rss_mb_by_stage"].items():
            add("pipeline peak RSS", stage, value, "MB", pipeline, src)
        ends = [c["end_to_end_s"] for c in pipeline["calls"] if c["status"] == "ANALYZED"]
        if ends:
            add("pipeline per call (median)", "end to end (stages summed)", sorted(ends)[len(ends) // 2], "s",
                pipeline, src)  # fmt: skip
    api, src = result("api")
    if api and api.get("stages"):
        stage = api["stages"][-1]
        group = f"API at {stage['calls']:,} calls"
        for r in stage["routes"]:
            label = f"{r['route']} ({r['role']}, {r['emulator']})"
            load = r.get("load_avg_start", [None])[0]
            if r.get("extrapolated"):
                add(group, f"{label} p50 (extrapolated)", r["p50_ms"], "ms", api, src, load)
                continue
            add(group, f"{label} p50 / p95", f"{r['p50_ms']} / {r['p95_ms']}", "ms", api, src, load)
            if r["emulator"] == "fast":
                add(group, f"{r['route']} ({r['role']}): DynamoDB requests / items read / RCU",
                    f"{r['ddb_requests']} / {r['items_read']} / {r['rcu']}", "per request", api, src, load)  # fmt: skip
    search, src = result("search")
    if search:
        for stage in search["stages"]:
            group = f"search at {stage['index_entries']:,} index entries"
            for r in stage["routes"]:
                if r["p50_ms"] is None:
                    continue
                label = f"{r['route']} ({r['role']}, {r['emulator']}{', extrapolated' if r.get('extrapolated') else ''})"
                add(
                    group,
                    f"{label} p50",
                    r["p50_ms"],
                    "ms",
                    search,
                    src,
                    (r.get("load_avg_start") or [None])[0],
                )
                if r["emulator"] == "fast":
                    add(group, f"{r['route']} ({r['role']}): items read / DynamoDB requests",
                        f"{r['items_read']} / {r['ddb_requests']}", "per search", search, src)  # fmt: skip
    cost = cost_per_audio_hour(asr)
    for name, value in cost.get("usd_per_audio_hour", {}).items():
        add("cost per audio hour", name, value, "USD", {"machine": "computed"}, "summary.json", "-")
    return rows, cost


def cost_per_audio_hour(asr: dict[str, Any] | None) -> dict[str, Any]:
    """USD per hour of call audio: CPU Lambda from the measured RTF, GPU Lambda Managed Instances at
    assumed speeds, Amazon Transcribe list prices."""
    p = {k: v["value"] for k, v in PRICES.items()}
    out: dict[str, Any] = {"prices": PRICES, "assumptions": [], "usd_per_audio_hour": {}}
    if asr:
        default = next((r for r in asr["results"] if r["config"] == "beam 5, VAD"), asr["results"][0])
        gb = LAMBDA_MB_FOR_2_VCPU / 1024
        seconds = default["rtf"] * 3600
        cpu = seconds * gb * p["lambda_x86_gb_s"] + p["lambda_requests_per_million"] / 1e6
        out["usd_per_audio_hour"][
            f"CPU Lambda, {LAMBDA_MB_FOR_2_VCPU} MB (2 vCPU), RTF {default['rtf']} measured"
        ] = round(cpu, 4)
        out["assumptions"] += [
            f"CPU: the measured RTF of '{default['config']}' (the production default: beam 5, VAD) with 2 threads on "
            f"this machine's cores equals the RTF on a {LAMBDA_MB_FOR_2_VCPU} MB Lambda (2 vCPU); one invocation "
            "per call; model load (~0.5 s) and download not counted.",
            "The template's default CPU size (10,240 MB, 6 vCPU) costs the same per audio hour if Whisper scales "
            "linearly from 2 to 6 threads, and up to 2.9× more if it does not scale at all (not measured).",
        ]  # fmt: skip
    instance = p["gpu_instance_per_hour"] * (1 + p["lmi_management_fee"])
    for speed in GPU_SPEEDS_X_REALTIME:
        out["usd_per_audio_hour"][f"GPU LMI g5.xlarge at {speed}× real time (assumed)"] = round(
            instance / speed, 4
        )
    out["assumptions"].append(
        f"GPU: not measured (no GPU here). g5.xlarge ${p['gpu_instance_per_hour']}/h + 15 % LMI fee = ${instance:.3f}/h; "
        f"cost = that / (audio hours per instance hour), shown for {', '.join(map(str, GPU_SPEEDS_X_REALTIME))}× "
        "real time, fully utilised (LMI keeps 3 instances warm by default: idle time is paid too)."
    )
    out["usd_per_audio_hour"]["Amazon Transcribe standard (list, tier 1)"] = round(
        p["transcribe_standard_per_min"] * 60, 2
    )
    out["usd_per_audio_hour"]["Amazon Transcribe Call Analytics (list, tier 1)"] = round(
        p["transcribe_call_analytics_per_min"] * 60, 2
    )
    return out


def print_table(rows: list[dict[str, Any]], info: dict[str, Any]) -> None:
    print(f"\nCallsight benchmarks — this machine: {machine_line(info)}")
    width = max((len(r["figure"]) for r in rows), default=20)
    group = None
    for r in rows:
        if r["group"] != group:
            group = r["group"]
            print(f"\n{group}  [{r['machine']}]")
        print(f"  {r['figure']:<{width}}  {r['value']!s:>22} {r['unit']:<14} load {r['load_1min']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, no waiting, < 5 minutes")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {','.join(BENCHMARKS)}")
    parser.add_argument("--skip", default="")
    parser.add_argument("--summary-only", action="store_true", help="run nothing, reprint from results/")
    args = parser.parse_args()
    chosen = [
        b for b in (args.only.split(",") if args.only else BENCHMARKS) if b and b not in args.skip.split(",")
    ]
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))}")
    info = machine()
    runs = [] if args.summary_only else [run_benchmark(name, args.quick) for name in chosen]
    rows, cost = figures(args.quick)
    print_table(rows, info)
    for line in cost["assumptions"]:
        print(f"  * {line}")
    summary = {"machine": info, "quick": args.quick, "runs": runs, "figures": rows, "cost": cost,
               "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}  # fmt: skip
    out = write_result("summary-quick.json" if args.quick else "summary.json", summary)
    print(f"\nwritten to {out}")
    failed = [r["benchmark"] for r in runs if r["exit_code"] != 0]
    if failed:
        print(f"benchmarks that did not finish: {', '.join(failed)}")


if __name__ == "__main__":
    main()
