"""Per-agent voice prints on the bundled samples: does an enrolled print name the right voice of a mono call?

    .venv/bin/python tests/bench/voice_print_benchmark.py [--threads 2] [--out voice_prints.json]

A print is enrolled from the agent channel of each stereo sample (as the transcriber does); each mono
call (the stereo samples mixed to mono, and the bundled mono call) is split in two voices; every print
is then matched against every call's two voices with the default thresholds. Pairs are grouped as the
same call, the same agent voice in another call (the case that matters), and another voice (the print's
owner is not in the call: it should name nobody). Truth: every sample call opens with the agent, so the
voice of the first speech window is the agent. No Whisper: the phrase side is in diarization.json.
Never pass/fail.
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

#: Synthesis voice of the agent per sample script (events/samples/generate.sh).
AGENT_VOICE = {
    "en_outbound_sale.txt": "espeak en-us",
    "en_late_delivery.txt": "espeak en-us+f3",
    "ru_price_callback.txt": "festival msu_ru",
    "ru_refund_warranty.txt": "festival msu_ru",
    "en_cancel_mono.txt": "espeak en-us+f3",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="voice_prints.json")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    quiet_logs()
    import torch
    from callsight.asr import diarization, voice_print
    from callsight.asr.audio import decode_channels
    from callsight.asr.speaker_embedding import embed_windows, speech_spans
    from callsight.config import Settings

    from tests.asr.conftest import SAMPLE_LIST
    from tests.asr.diarization_truth import as_mono

    torch.set_num_threads(args.threads)
    settings = Settings()
    vad = settings.asr_vad_threshold
    prints: dict[str, Any] = {}
    calls: dict[str, Any] = {}
    enroll_s = []
    for sample in SAMPLE_LIST:
        script = sample.manifest["script"].split("/")[-1]
        audio = decode_channels(sample.path)
        if len(audio.channels) == 2:
            started = time.perf_counter()
            enrollment = voice_print.enrollment_print(audio.channels[0], vad)  # agent on the left
            enroll_s.append((time.perf_counter() - started) / audio.duration_s * 60)
            assert enrollment is not None
            prints[script] = enrollment
            audio = as_mono(audio)
        samples = audio.channels[0]
        speech = speech_spans(samples, vad)
        windows, spans = diarization.analysis_windows(speech)
        embeddings = embed_windows(samples, windows, speech)
        fit = diarization.cluster_two(embeddings, spans)
        calls[script] = {
            "centres": voice_print.group_centres(embeddings, fit.labels),
            "agent_group": int(fit.labels[0]),
            "confidence": diarization.two_speaker_confidence(fit).confidence,
        }
    pairs = []
    for print_script, enrollment in prints.items():
        for call_script, call in calls.items():
            match = voice_print.match_print(
                call["centres"],
                enrollment.embedding,
                settings.voice_print_min_margin,
                settings.voice_print_min_similarity,
            )
            same_voice = AGENT_VOICE[print_script] == AGENT_VOICE[call_script]
            kind = (
                "same call"
                if print_script == call_script
                else ("same voice" if same_voice else "other voice")
            )
            truth = call["agent_group"]
            named = match.group
            verdict = "none" if named is None else ("right" if named == truth else "wrong")
            pairs.append({
                "print": print_script, "call": call_script, "kind": kind, "separated": call["confidence"] >= 0.5,
                "similarity_agent": match.similarities[truth], "similarity_other": match.similarities[1 - truth],
                "named": verdict,
            })  # fmt: skip
            print(
                f"{print_script:24s} -> {call_script:24s} {kind:11s} conf {call['confidence']:.2f} "
                f"agent {match.similarities[truth]:.3f} other {match.similarities[1 - truth]:.3f} {verdict}",
                flush=True,
            )
    info = machine()
    write_result(
        args.out,
        {
            "machine": info,
            "threads": args.threads,
            "min_margin": settings.voice_print_min_margin,
            "min_similarity": settings.voice_print_min_similarity,
            "enrollment_s_per_audio_min": round(sum(enroll_s) / len(enroll_s), 3),
            "pairs": pairs,
            "at": time.time(),
        },
    )
    print(machine_line(info))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
