"""Call-analysis benchmark: time per 5-minute call and calls/second on one core (prints figures).

    .venv/bin/python tests/bench/analysis_benchmark.py [--calls 50]

Five-minute calls are assembled from the labelled fixture calls of one language (their turns laid
end to end with realistic pauses until 300 s), then analysed with the default rule pack: rules,
sentiment, entities, metrics, risk, the learned label model and the keyword-index terms — everything
the analyze function computes, without the AWS writes (the rules alone and the model alone are timed
too). The process is pinned to one core. Never pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def five_minute_call(calls: list[Any], language: str, offset: int) -> list[dict[str, Any]]:
    pool = [c for c in calls if c.language == language]
    turns: list[dict[str, Any]] = []
    clock = 0.0
    index = offset
    while clock < 300:
        call = pool[index % len(pool)]
        index += 1
        for turn in call.turns:
            length = float(turn["end"]) - float(turn["start"])
            turns.append(
                {"speaker": turn["speaker"], "start": clock, "end": clock + length, "text": turn["text"]}
            )
            clock += length + 0.6
    return turns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--out", default="analysis.json", help="result file name under results/")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    from callsight.analysis.analyzer import Analyzer
    from callsight.analysis.learned.features import SpokenTurn
    from callsight.analysis.learned.model import LabelModel
    from callsight.analysis.rules import load_rules

    from tests.analysis_fixtures import build_transcript, load_calls

    started = time.perf_counter()
    model = LabelModel.shipped()
    analyzer = Analyzer(load_rules(), "RU", lambda phone: phone[-4:], label_model=model)
    rules_only = Analyzer(load_rules(), "RU", lambda phone: phone[-4:])
    calls = load_calls()
    results: dict[str, Any] = {"machine": f"{platform.processor() or platform.machine()}, 1 core pinned"}
    for language in ("ru", "en"):
        transcripts = [
            build_transcript(five_minute_call(calls, language, i), language, 2) for i in range(args.calls)
        ]
        cold = time.perf_counter()
        analyzer.search_terms(transcripts[0], analyzer.analyze(transcripts[0]))  # loads models and lexicons
        cold_s = time.perf_counter() - cold
        timings = []
        for transcript in transcripts:
            t0 = time.perf_counter()
            analysis = analyzer.analyze(transcript)
            analyzer.search_terms(transcript, analysis)
            timings.append(time.perf_counter() - t0)
        words = statistics.fmean(len(t.words) for t in transcripts)
        rules_timings, model_timings = [], []
        for transcript in transcripts:
            t0 = time.perf_counter()
            rules_only.analyze(transcript)
            rules_timings.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            model.score([SpokenTurn(t.speaker.value, t.text) for t in transcript.turns])
            model_timings.append(time.perf_counter() - t0)
        results[language] = {
            "first_call_s": round(cold_s, 2),
            "ms_per_5min_call_median": round(statistics.median(timings) * 1000, 1),
            "ms_per_5min_call_p95": round(sorted(timings)[int(len(timings) * 0.95) - 1] * 1000, 1),
            "calls_per_second": round(1 / statistics.fmean(timings), 2),
            "rules_only_analyze_ms_median": round(statistics.median(rules_timings) * 1000, 1),
            "label_model_ms_median": round(statistics.median(model_timings) * 1000, 1),
            "words_per_call": round(words),
        }
    results["setup_s"] = round(time.perf_counter() - started, 2)
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    results["load_avg"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(results, indent=2, ensure_ascii=False))
    out = REPO / "tests" / "bench" / "results" / args.out
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
