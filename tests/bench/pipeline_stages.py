"""End-to-end latency per call, split by stage, and peak memory per stage, through the local runner
over the bundled sample recordings (prints figures; never pass/fail).

    .venv/bin/python tests/bench/pipeline_stages.py [--repeat 1]

The embedded emulator and the local runner run in this process with the real handlers, exactly as
``callsight local demo`` does. Nothing under ``layers/`` reports stage timings, so they are measured
from outside: the services' entry points and the storage/ASR/analysis calls they make are wrapped in
this process only (class attributes replaced by timing wrappers), and each timing is attributed to
the call being handled. Queue waits come from the call records' ``status_history`` (RECEIVED written
by ingest → the transcribe handler starting; TRANSCRIBED → the analyze handler starting), so they
include the local runner's polling and the calls ahead in the queue (it handles one message at a time).

Stages: ingest (download, hash, probe, metadata, conditional write), transcribe-queue wait, download,
decode, ASR (Whisper, including turn building), transcribe writes (transcript to S3, status, analyze
message), analyze-queue wait, analyze read, analysis (rules, sentiment, entities, index terms),
analyze writes (analysis to S3, index entries, status, event, alerts). Peak memory: the process's
RSS sampled every 20 ms, maximum while each stage ran (the process is shared, so a stage's peak
includes what earlier stages left loaded, e.g. the Whisper model; the first call also pays loading).
Writes ``results/pipeline.json``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench_common import REPO, machine, machine_line, quiet_logs, rss_mb, wait_for_quiet, write_result

SAMPLES = REPO / "events" / "samples" / "recordings"
STAGES = (
    "ingest", "transcribe_queue_wait", "download", "decode", "asr", "transcribe_writes",
    "analyze_queue_wait", "analyze_read", "analysis", "analyze_writes",
)  # fmt: skip


class StageClock:
    """Per-call stage durations and per-stage peak RSS (a sampler thread)."""

    def __init__(self) -> None:
        self.local = threading.local()
        self.durations: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.handler_start: dict[tuple[str, str], float] = {}
        self.peak: dict[str, int] = defaultdict(int)
        self.active: list[str] = []
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def start(self) -> None:
        self._sampler.start()

    def stop(self) -> None:
        self._stop.set()
        self._sampler.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            rss = rss_mb()
            for stage in list(self.active):
                self.peak[stage] = max(self.peak[stage], rss)

    @contextmanager
    def stage(self, name: str) -> Any:
        call = getattr(self.local, "call", None) or "?"
        self.active.append(name)
        self.peak[name] = max(self.peak[name], rss_mb())
        started = time.perf_counter()
        try:
            yield
        finally:
            self.durations[call][name] += time.perf_counter() - started
            self.active.remove(name)

    def wrap(self, owner: Any, attribute: str, stage: str) -> None:
        original = getattr(owner, attribute)
        clock = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            with clock.stage(stage):
                return original(*args, **kwargs)

        setattr(owner, attribute, timed)

    def wrap_entry(self, owner: Any, attribute: str, kind: str, call_id_of: Callable[..., str]) -> None:
        """A service entry point: sets the call being handled and notes when its handling began."""
        original = getattr(owner, attribute)
        clock = self

        def entry(*args: Any, **kwargs: Any) -> Any:
            call_id = call_id_of(*args, **kwargs)
            clock.local.call = call_id
            clock.handler_start[(kind, call_id)] = time.time()
            try:
                if kind != "ingest":
                    return original(*args, **kwargs)
                with clock.stage("ingest"):  # filed under the id the outcome names (ingest pins the version)
                    outcome = original(*args, **kwargs)
                clock.durations[outcome.call_id]["ingest"] += clock.durations.pop(call_id, {}).get(
                    "ingest", 0.0
                )
                return outcome
            finally:
                clock.local.call = None

        setattr(owner, attribute, entry)


def instrument(clock: StageClock) -> None:
    from callsight.analysis.analyzer import Analyzer
    from callsight.asr import transcriber as transcriber_module
    from callsight.asr.transcriber import Transcriber
    from callsight.stages.analyze.service import AnalyzeService
    from callsight.stages.ingest.call_id import derive_call_id
    from callsight.stages.ingest.service import IngestService
    from callsight.stages.transcribe.service import TranscribeService
    from callsight.storage.analyses import AnalysisStore
    from callsight.storage.call_repository import CallRepository
    from callsight.storage.notifications import AlertPublisher, EventPublisher, HourlyCounter
    from callsight.storage.queues import StageQueue
    from callsight.storage.recordings import RecordingStore
    from callsight.storage.search_index import SearchIndex
    from callsight.storage.transcripts import TranscriptStore

    clock.wrap_entry(
        IngestService, "ingest_recording", "ingest",
        lambda self, source: derive_call_id(source.bucket, source.key, source.version_id, source.etag),
    )  # fmt: skip
    clock.wrap_entry(TranscribeService, "handle", "transcribe", lambda self, request: request.call_id)
    clock.wrap_entry(AnalyzeService, "handle", "analyze", lambda self, request: request.call_id)
    clock.wrap(RecordingStore, "download", "download")
    clock.wrap(transcriber_module, "decode_channels", "decode")
    clock.wrap(Transcriber, "transcribe_audio", "asr")
    clock.wrap(TranscriptStore, "put", "transcribe_writes")
    clock.wrap(
        StageQueue, "send", "transcribe_writes"
    )  # the analyze message (ingest's send is inside ingest)
    clock.wrap(TranscriptStore, "get", "analyze_read")
    clock.wrap(Analyzer, "analyze", "analysis")
    clock.wrap(Analyzer, "search_terms", "analysis")
    for owner, attribute in (
        (AnalysisStore, "put"), (SearchIndex, "replace_call"), (EventPublisher, "publish"),
        (AlertPublisher, "publish"), (HourlyCounter, "increment"),
    ):  # fmt: skip
        clock.wrap(owner, attribute, "analyze_writes")
    original_transition = CallRepository.transition

    def transition(self: Any, call_id: str, new_status: Any, **kwargs: Any) -> Any:
        stage = {"TRANSCRIBED": "transcribe_writes", "ANALYZED": "analyze_writes"}.get(new_status.value)
        if stage is None:
            return original_transition(self, call_id, new_status, **kwargs)
        with clock.stage(stage):
            return original_transition(self, call_id, new_status, **kwargs)

    CallRepository.transition = transition  # type: ignore[method-assign]


def queue_waits(clock: StageClock, calls: list[Any]) -> None:
    """Transcribe- and analyze-queue waits from the records' status history and the handler starts."""
    for call in calls:
        history = {change.status.value: change.at.timestamp() for change in call.status_history}
        durations = clock.durations[call.call_id]
        started = clock.handler_start.get(("transcribe", call.call_id))
        if started and "RECEIVED" in history:
            durations["transcribe_queue_wait"] = max(0.0, started - history["RECEIVED"])
        started = clock.handler_start.get(("analyze", call.call_id))
        if started and "TRANSCRIBED" in history:
            durations["analyze_queue_wait"] = max(0.0, started - history["TRANSCRIBED"])


def sample_dir(count: int, workdir: Path) -> Path:
    """The bundled recordings (and their sidecars), or the first ``count`` of them."""
    if count <= 0:
        return SAMPLES
    import shutil

    recordings = sorted(p for p in SAMPLES.iterdir() if not p.name.endswith(".json"))[:count]
    for path in recordings:
        for item in (path, path.with_name(path.name + ".json")):
            if item.exists():
                shutil.copy2(item, workdir / item.name)
    return workdir


def run_once(clock: StageClock, samples: Path) -> dict[str, Any]:
    from callsight.cli.calls import recording_files, upload
    from callsight.config import get_settings, reset_settings
    from callsight.local.emulator import EmbeddedEmulator
    from callsight.local.runner import LocalRunner
    from callsight.storage import aws
    from callsight.storage.call_repository import CallRepository
    from callsight.storage.provisioning import provision

    with EmbeddedEmulator() as emulator:
        os.environ["CALLSIGHT_AWS_ENDPOINT"] = emulator.endpoint
        reset_settings()
        aws.reset_clients()
        settings = get_settings()
        provision(settings)
        runner = LocalRunner(settings, visibility_timeout_s=30)
        started = time.perf_counter()
        keys = upload(settings, recording_files([samples]))
        drained = runner.drain(max_seconds=1800)
        wall = time.perf_counter() - started
        calls = list(CallRepository(settings).recent(100))
    queue_waits(clock, calls)
    return {"objects": len(keys), "calls": calls, "drained": drained, "wall_s": wall}


def summarize(clock: StageClock, calls: list[Any]) -> dict[str, Any]:
    rows = []
    for call in sorted(calls, key=lambda c: c.source.key):
        durations = clock.durations.get(call.call_id, {})
        audio = call.audio.duration_s if call.audio else None
        total = sum(durations.get(s, 0.0) for s in STAGES)
        rows.append(
            {
                "recording": Path(call.source.key).name,
                "status": call.status.value,
                "audio_s": audio,
                "language": call.transcription.language if call.transcription else None,
                "stages_s": {s: round(durations.get(s, 0.0), 3) for s in STAGES},
                "end_to_end_s": round(total, 2),
                "upload_to_analyzed_s": _upload_to_done(call),
            }
        )
    done = [r for r in rows if r["status"] == "ANALYZED"]
    median = {s: round(statistics.median(r["stages_s"][s] for r in done), 3) for s in STAGES} if done else {}
    return {"calls": rows, "median_stage_s": median, "peak_rss_mb_by_stage": dict(clock.peak)}


def _upload_to_done(call: Any) -> float | None:
    analyzed = next((c.at for c in call.status_history if c.status.value == "ANALYZED"), None)
    uploaded = call.source.uploaded_at
    return round((analyzed - uploaded).total_seconds(), 2) if analyzed and uploaded else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-wait", action="store_true")
    parser.add_argument("--recordings", type=int, default=0, help="only the first N sample recordings")
    parser.add_argument("--out", default="pipeline.json", help="result file name under results/")
    args = parser.parse_args()
    quiet_logs()
    os.environ.setdefault("CALLSIGHT_ASR_CPU_THREADS", "2")
    wait = {"skipped": True} if args.no_wait else wait_for_quiet(label="pipeline stages")
    info = machine()
    clock = StageClock()
    instrument(clock)
    clock.start()
    with tempfile.TemporaryDirectory(prefix="callsight-bench-") as workdir:
        run = run_once(clock, sample_dir(args.recordings, Path(workdir)))
    clock.stop()
    result = summarize(clock, run["calls"]) | {
        "machine": info,
        "machine_end": machine(),
        "wait": wait,
        "objects_uploaded": run["objects"],
        "drained": run["drained"],
        "wall_s": round(run["wall_s"], 1),
        "asr_threads": os.environ["CALLSIGHT_ASR_CPU_THREADS"],
        "method": "timing wrappers in this process around the services and storage calls; queue waits "
        "from status_history; RSS sampled every 20 ms",
    }
    print(f"machine: {machine_line(info)}")
    print(
        f"{len(run['calls'])} calls from {run['objects']} objects in {result['wall_s']} s (one process, sequential)"
    )
    header = " ".join(f"{s[:12]:>12}" for s in STAGES)
    print(f"{'recording':<28} {'audio s':>7} {header} {'total':>7}")
    for row in result["calls"]:
        cells = " ".join(f"{row['stages_s'][s]:>12.2f}" for s in STAGES)
        print(f"{row['recording'][:28]:<28} {row['audio_s'] or 0:>7.1f} {cells} {row['end_to_end_s']:>7.2f}")
    print("peak RSS MB by stage:", {s: result["peak_rss_mb_by_stage"].get(s) for s in STAGES})
    out = write_result(args.out, result)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
