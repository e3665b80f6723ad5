"""How much Whisper's output moves with the CPU's instruction set: the figures behind the ASR tests.

CTranslate2's int8 kernels differ by instruction set (GENERIC, AVX, AVX2, AVX512), so the same
model on the same audio writes different words on an AVX2-only AMD EPYC than on an AVX-512 Intel
Xeon. ``CT2_FORCE_CPU_ISA`` reproduces each set on one machine (it must be set before ctranslate2
is imported, so every ISA runs in a fresh process). For each ISA this script transcribes every
bundled sample with the pipeline's defaults and prints what the tests in ``tests/asr`` assert on:
language and its probability, WER per sample, pooled WER per language, WER per stereo turn,
turn order, the hotword effect and the batched pipeline's WER. The thresholds in
``tests/asr/test_recognition.py`` are the worst value over every ISA plus a margin.

    python tests/bench/asr_isa_spread.py [--isa GENERIC,AVX,AVX2,AVX512] [--json out.json]

Never pass/fail: it prints a table (and optionally JSON) to read.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
ALL_ISAS = ("GENERIC", "AVX", "AVX2", "AVX512")


def measure_here() -> dict[str, Any]:
    """Everything measured in this process (its ISA was fixed by the environment)."""
    sys.path.insert(0, str(REPO))
    from callsight.asr.engine import AsrEngine, EngineConfig
    from callsight.asr.transcriber import Transcriber, TranscriptionOptions
    from callsight.config import Settings
    from callsight.models.transcript import Vocabulary

    from tests.asr.conftest import SAMPLE_LIST
    from tests.asr.scoring import pooled_word_error_rate, word_error_rate

    settings = Settings(asr_device="cpu", asr_cpu_threads=2)
    transcriber = Transcriber(AsrEngine(EngineConfig.from_settings(settings)))
    options = TranscriptionOptions.from_settings(settings)
    result: dict[str, Any] = {"isa": os.environ.get("CT2_FORCE_CPU_ISA", "native"), "samples": {}}
    pooled: dict[str, list[tuple[str, str]]] = {}
    for sample in SAMPLE_LIST:
        transcript = transcriber.transcribe_file(sample.path, options)
        language = sample.manifest["language"]
        hypothesis = " ".join(turn.text for turn in transcript.turns)
        pooled.setdefault(language, []).append((sample.reference, hypothesis))
        entry: dict[str, Any] = {
            "language": transcript.language.code,
            "probability": transcript.language.probability,
            "wer": word_error_rate(sample.reference, hypothesis, language),
            "turns": [turn.speaker.value for turn in transcript.turns],
            "turn_texts": [turn.text for turn in transcript.turns],
            "script_turns": [speaker for speaker, _ in sample.script],
        }
        if sample.manifest["channels"] == 2 and len(transcript.turns) == len(sample.script):
            entry["turn_wer"] = [
                round(word_error_rate(text, turn.text, language), 3)
                for turn, (_, text) in zip(transcript.turns, sample.script, strict=True)
            ]
        result["samples"][sample.name] = entry
    result["pooled_wer"] = {lang: pooled_word_error_rate(pairs, lang) for lang, pairs in pooled.items()}

    en_16k = next(
        s for s in SAMPLE_LIST if s.manifest["sample_rate"] == 16000 and s.manifest["language"] == "en"
    )
    plain = transcriber.transcribe_file(
        en_16k.path, TranscriptionOptions.from_settings(settings, language="en")
    )
    tuned = transcriber.transcribe_file(
        en_16k.path,
        TranscriptionOptions.from_settings(
            settings, language="en", vocabulary=Vocabulary(hotwords="Callsight Electronics")
        ),
    )
    result["hotwords"] = {
        "without": {
            "brand": "callsight" in plain.text.lower(),
            "wer": _wer(en_16k, plain, word_error_rate),
            "text": plain.text,
        },
        "with": {
            "brand": "callsight" in tuned.text.lower(),
            "wer": _wer(en_16k, tuned, word_error_rate),
            "text": tuned.text,
        },
    }
    batched_settings = settings.model_copy(update={"asr_batched": True, "asr_batch_size": 4})
    batched = Transcriber(AsrEngine(EngineConfig.from_settings(batched_settings)))
    transcript = batched.transcribe_file(en_16k.path, TranscriptionOptions.from_settings(batched_settings))
    result["batched_wer"] = _wer(en_16k, transcript, word_error_rate)
    return result


def _wer(sample: Any, transcript: Any, word_error_rate: Any) -> float:
    hypothesis = " ".join(turn.text for turn in transcript.turns)
    return float(word_error_rate(sample.reference, hypothesis, sample.manifest["language"]))


def run_isa(isa: str) -> dict[str, Any]:
    env = os.environ | {"CT2_FORCE_CPU_ISA": isa, "PYTHONPATH": str(REPO / "layers")}
    completed = subprocess.run(
        [sys.executable, __file__, "--child"], env=env, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        return {"isa": isa, "error": completed.stderr.strip().splitlines()[-1:]}
    return dict(json.loads(completed.stdout.strip().splitlines()[-1]))


def print_table(results: list[dict[str, Any]]) -> None:
    ok = [r for r in results if "error" not in r]
    for failed in (r for r in results if "error" in r):
        print(f"{failed['isa']}: not run ({failed['error']})")
    if not ok:
        return
    print("WER per sample (language probability)")
    print(f"{'sample':32}" + "".join(f"{r['isa']:>16}" for r in ok))
    for name in ok[0]["samples"]:
        cells = [
            f"{r['samples'][name]['wer']:.3f} ({r['samples'][name]['probability'] or 0:.2f})" for r in ok
        ]
        print(f"{name[:32]:32}" + "".join(f"{c:>16}" for c in cells))
    for language in ok[0]["pooled_wer"]:
        print(f"{'pooled ' + language:32}" + "".join(f"{r['pooled_wer'][language]:>16.3f}" for r in ok))
    print(
        f"{'hotwords: brand without/with':32}"
        + "".join(
            f"{str(r['hotwords']['without']['brand'])[0]}/{str(r['hotwords']['with']['brand'])[0]}".rjust(16)
            for r in ok
        )
    )
    print(
        f"{'hotwords: WER without -> with':32}"
        + "".join(
            f"{r['hotwords']['without']['wer']:.2f}->{r['hotwords']['with']['wer']:.2f}".rjust(16) for r in ok
        )
    )
    print(f"{'batched (batch 4) WER':32}" + "".join(f"{r['batched_wer']:>16.3f}" for r in ok))
    print("turn order matches the script:")
    for name in ok[0]["samples"]:
        flags = [
            "yes" if r["samples"][name]["turns"] == r["samples"][name]["script_turns"] else "NO" for r in ok
        ]
        print(f"  {name[:30]:30}" + "".join(f"{f:>16}" for f in flags))
    print("WER per stereo turn (max over turns of 4+ words):")
    for name in ok[0]["samples"]:
        cells = [str(r["samples"][name].get("turn_wer", "-")) for r in ok]
        print(f"  {name[:30]:30} " + " | ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--isa", default=",".join(ALL_ISAS))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure_here()))
        return
    results = []
    for isa in args.isa.split(","):
        print(f"transcribing every sample with CT2_FORCE_CPU_ISA={isa} ...", file=sys.stderr, flush=True)
        results.append(run_isa(isa))
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
