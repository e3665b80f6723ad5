"""Ingest throughput through the local runner on the embedded emulator (prints figures; never pass/fail).

    .venv/bin/python tests/bench/ingest_throughput.py [N] [RESULT_FILE_NAME]

Uploads N copies of the 31 s stereo µ-law sample under distinct keys, lets S3 notifications and
the runner drive the real ingest handler, and reports objects/s and ms per object (download,
SHA-256, full decode, metadata, conditional write, transcribe message) with the machine's cores.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
logging.getLogger("werkzeug").setLevel(logging.ERROR)

SAMPLE = (
    Path(__file__).resolve().parents[2]
    / "events/samples/recordings/in-202-+14155550123-20261120-113000-1795174200.15.wav"
)


def main(count: int, out_name: str = "ingest.json") -> None:
    from callsight.local.emulator import EmbeddedEmulator

    with EmbeddedEmulator() as emulator:
        os.environ["CALLSIGHT_AWS_ENDPOINT"] = emulator.endpoint
        from callsight.config import get_settings
        from callsight.local.runner import LocalRunner
        from callsight.storage import aws
        from callsight.storage.provisioning import provision

        settings = get_settings()
        provision(settings)
        s3 = aws.client("s3", settings)
        body = SAMPLE.read_bytes()
        for i in range(count):
            key = f"{settings.recordings_prefix}in-202-+14155550123-20261120-1130{i % 60:02d}-1795174200.{i}.wav"
            s3.put_object(Bucket=settings.name("recordings"), Key=key, Body=body)
        from callsight.resources import INGEST_QUEUE

        runner = LocalRunner(settings, queues=(INGEST_QUEUE,))  # ingest only: transcription is not timed here
        started = time.perf_counter()
        runner.drain(max_seconds=600)
        elapsed = time.perf_counter() - started
    stats = runner.stats["ingest"]
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, embedded moto emulator")
    print(f"objects: {count} × {len(body) / 1024:.0f} KiB (31.2 s stereo µ-law 8 kHz)")
    print(
        f"ingest: {elapsed:.2f} s → {count / elapsed:.1f} objects/s, {1000 * elapsed / count:.1f} ms/object"
    )
    print(f"invocations: {stats.invocations}, failed: {stats.failed}")
    out = SAMPLE.parents[3] / "tests" / "bench" / "results" / out_name
    record = {
        "machine": f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, embedded moto emulator",
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "objects": count,
        "object_kib": round(len(body) / 1024),
        "seconds": round(elapsed, 2),
        "objects_per_s": round(count / elapsed, 1),
        "ms_per_object": round(1000 * elapsed / count, 1),
        "invocations": stats.invocations,
        "failed": stats.failed,
    }
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100, *sys.argv[2:3])
