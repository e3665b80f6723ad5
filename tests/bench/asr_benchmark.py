"""Speech-recognition benchmark: real-time factor, model load time, peak memory, accuracy (prints figures).

    .venv/bin/python tests/bench/asr_benchmark.py [--threads 2] [--device cpu|cuda] [--model base|DIR]

Each configuration runs in a fresh process (so peak RSS is its own) over the same sample calls
(English 16 kHz stereo, Russian 8 kHz A-law stereo, English 8 kHz mono: 65 s of calls, 112 s of
channel audio). RTF = processing seconds / call seconds, language given, both channels decoded;
speed = 1 / RTF. WER against the scripts, numbers compared as digits. Results go to
``tests/bench/results/asr-<device>.json`` with the machine they ran on. Never pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "events" / "samples"
CALLS = (
    "out-14155550147-201-20261116-151500-1794842100.21.wav",
    "q-600-+79031234567-20261121-094500-1795254300.3.wav",
    "external-15035550188-+12125550199-20261125-163000-1795624200.41.wav",
)
CONFIGS: tuple[dict[str, object], ...] = (
    {"name": "beam 1, VAD", "beam": 1, "vad": True, "batched": False},
    {"name": "beam 5, VAD", "beam": 5, "vad": True, "batched": False},
    {"name": "beam 1, no VAD", "beam": 1, "vad": False, "batched": False},
    {"name": "beam 5, no VAD", "beam": 5, "vad": False, "batched": False},
    {"name": "batched beam 1 (batch 8)", "beam": 1, "vad": True, "batched": True},
    {"name": "batched beam 5 (batch 8)", "beam": 5, "vad": True, "batched": True},
)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {len(os.sched_getaffinity(0))} cores available, Python {platform.python_version()}"


def run_one(config: dict[str, object], device: str, threads: int, model: str) -> dict[str, object]:
    """Inside the child process: load, transcribe every call, measure."""
    sys.path.insert(0, str(REPO))
    from callsight.asr.engine import AsrEngine, EngineConfig
    from callsight.asr.transcriber import Transcriber, TranscriptionOptions
    from callsight.config import Settings

    from tests.asr.conftest import load_samples
    from tests.asr.scoring import word_error_rate

    settings = Settings(
        asr_model=model, asr_device=device, asr_cpu_threads=threads, asr_beam_size=int(str(config["beam"])),
        asr_vad_filter=bool(config["vad"]), asr_batched=bool(config["batched"]),
    )  # fmt: skip
    engine = AsrEngine(EngineConfig.from_settings(settings))
    transcriber = Transcriber(engine)
    samples = {s.name: s for s in load_samples()}
    audio_s = processing_s = 0.0
    wers: dict[str, float] = {}
    for name in CALLS:
        sample = samples[name]
        options = TranscriptionOptions.from_settings(settings, language=sample.manifest["language"])
        started = time.perf_counter()
        transcript = transcriber.transcribe_file(sample.path, options)
        processing_s += time.perf_counter() - started
        audio_s += transcript.duration_s
        hypothesis = " ".join(t.text for t in transcript.turns)
        wers[name[:24]] = round(word_error_rate(sample.reference, hypothesis, sample.manifest["language"]), 3)
    return {
        "config": config["name"],
        "model_id": engine.info.model_id,
        "device": engine.info.device,
        "compute_type": engine.info.compute_type,
        "threads": threads,
        "load_s": round(engine.load_s, 2),
        "audio_s": round(audio_s, 1),
        "processing_s": round(processing_s, 2),
        "rtf": round(processing_s / audio_s, 3),
        "speed_x_realtime": round(audio_s / processing_s, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "wer": wers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--model", default="base")
    parser.add_argument("--configs", default="", help="';'-separated configuration names (default: all)")
    parser.add_argument("--out", help="result file name under results/ (default: asr-<device>.json)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(json.loads(args.child), args.device, args.threads, args.model)))
        return
    results = []
    print(f"machine: {machine()}; model {args.model}, device {args.device}, {args.threads} threads")
    print(f"{'configuration':<26} {'load s':>6} {'RTF':>6} {'× RT':>6} {'RSS MB':>7}  WER per call")
    chosen = [c.strip() for c in args.configs.split(";") if c.strip()]
    for config in [c for c in CONFIGS if not chosen or c["name"] in chosen]:
        command = [sys.executable, __file__, "--child", json.dumps(config), "--threads", str(args.threads),
                   "--device", args.device, "--model", args.model]  # fmt: skip
        env = dict(os.environ, POWERTOOLS_LOG_LEVEL="WARNING")
        output = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
        result = json.loads(output.strip().splitlines()[-1])
        results.append(result)
        print(
            f"{result['config']:<26} {result['load_s']:>6} {result['rtf']:>6} {result['speed_x_realtime']:>6} "
            f"{result['peak_rss_mb']:>7}  {' '.join(str(v) for v in result['wer'].values())}"
        )
    out = REPO / "tests" / "bench" / "results" / (args.out or f"asr-{args.device}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {"machine": machine(), "load_avg": [round(x, 2) for x in os.getloadavg()], "calls": CALLS}
    out.write_text(json.dumps(record | {"results": results}, indent=2) + "\n")
    print(f"written to {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
