"""Mono speaker separation on mono mixes of the bundled stereo samples (the channels are the truth).

    .venv/bin/python tests/bench/diarization_benchmark.py [--threads 2] [--out diarization.json]

Per sample: the speaker separation's outcome and confidence, word-level DER against the channels
(missed + false alarm + confusion over reference speech, 10 ms frames, no collar; "unknown" counts as
confusion), the share of words given the right speaker, the separation's own time in seconds per
minute of audio (speaker VAD + encoder + clustering; Whisper not counted), and the analysis it leads
to: talk ratio, agent checkpoints and customer sentiment for mono without separation ("before"),
mono with it ("after") and the stereo original. Never pass/fail.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(REPO / "layers"), str(REPO), str(HERE)]

from bench_common import machine, machine_line, quiet_logs, write_result  # noqa: E402


def analysis_view(analyzer: Any, transcript: Any) -> dict[str, Any]:
    analysis = analyzer.analyze(transcript)
    return {
        "talk_listen_ratio": analysis.metrics.talk_listen_ratio,
        "checkpoints": analysis.checkpoints,
        "customer_sentiment": analysis.sentiment.customer if analysis.sentiment else None,
        "overall_sentiment": analysis.sentiment.overall if analysis.sentiment else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="diarization.json")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    quiet_logs()
    import torch
    from callsight.analysis.analyzer import Analyzer
    from callsight.analysis.rules import load_rules
    from callsight.asr.audio import decode_channels
    from callsight.asr.engine import AsrEngine, EngineConfig
    from callsight.asr.transcriber import Transcriber, TranscriptionOptions
    from callsight.config import Settings

    from tests.asr.conftest import SAMPLE_LIST
    from tests.asr.diarization_truth import as_mono, score

    torch.set_num_threads(args.threads)
    settings = Settings(asr_device="cpu", asr_cpu_threads=args.threads)
    transcriber = Transcriber(AsrEngine(EngineConfig.from_settings(settings)))
    analyzer = Analyzer(load_rules(), "RU", lambda phone: phone[-4:])
    samples = []
    for sample in SAMPLE_LIST:
        if sample.manifest["channels"] != 2:
            continue
        stereo = decode_channels(sample.path)
        language = sample.manifest["language"]
        on = TranscriptionOptions.from_settings(settings, language=language)
        off = TranscriptionOptions.from_settings(settings, language=language, diarize=False)
        after = transcriber.transcribe_audio(as_mono(stereo), on)
        before = transcriber.transcribe_audio(as_mono(stereo), off)
        original = transcriber.transcribe_audio(stereo, on)
        info = after.diarization
        assert info is not None
        result = score(after.words, stereo)
        row = {
            "sample": sample.name,
            "script": sample.manifest["script"],
            "language": language,
            "rate_hz": sample.manifest["sample_rate"],
            "audio_s": after.duration_s,
            "outcome": info.outcome,
            "confidence": info.confidence,
            "figures": info.model_dump(exclude={"outcome", "detail"}),
            "detail": info.detail,
            "der": result.der,
            "missed": result.missed,
            "false_alarm": result.false_alarm,
            "confusion": result.confusion,
            "words_right": result.words_right,
            "stereo_words_right": score(original.words, stereo).words_right,
            "separation_s_per_audio_min": round(info.processing_s / after.duration_s * 60, 3),
            "analysis": {
                "mono_before": analysis_view(analyzer, before),
                "mono_after": analysis_view(analyzer, after),
                "stereo": analysis_view(analyzer, original),
            },
        }
        samples.append(row)
        print(
            f"{sample.name[:34]:34s} {row['outcome']:15s} conf {row['confidence']!s:6s} DER {row['der']:.3f} "
            f"(confusion {row['confusion']:.3f}) words right {row['words_right']:.1%} "
            f"{row['separation_s_per_audio_min']:.2f} s/audio-min",
            flush=True,
        )
    info = machine()
    write_result(args.out, {"machine": info, "threads": args.threads, "samples": samples, "at": time.time()})
    print(machine_line(info))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
