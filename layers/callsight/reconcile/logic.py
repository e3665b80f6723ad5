"""The reconciliation rules, pure: an :class:`Inventory` and a clock in, a :class:`ReconcileReport` out.

* **One call per recording key, the newest version wins.** The newest version of every key under
  the recordings prefix (sidecar ``.json`` files excluded: they belong to a recording and make no
  call) must have exactly one call. An older version is a re-upload's predecessor: *superseded*,
  never lost (ingest makes no call for it once a newer one exists; a call made for it before is
  marked ``superseded_by`` the newer version's call). Without a call, the newest version is
  *awaiting ingest* while younger than the ingest queue's whole retry budget, *lost* after. Two
  live (not superseded, not deleted) calls for one key are duplicates.
* A call matches a version by version id; a call that has none (ingest found the key overwritten
  before it could pin the version, or the bucket is unversioned) matches by ETag.
* Every **call** must have its recording, unless the record explains why not: gone before ingest
  (QUARANTINED ``object_deleted_before_ingest``), removed by the masking sweep (``masked_at``), past
  its retention expiry (the sweep deletes it), or DELETED. Anything else is an *orphan*.
* Every call is in a **terminal** state (ANALYZED, QUARANTINED, FAILED, DELETED) or **in progress**
  with a reason and an age. An in-progress call is *stuck* when older than its stage's budget
  (visibility timeout x max receives of the queue that moves it), when a dead letter names it, or
  when the whole pipeline is idle and it has waited longer than the stall grace (nothing is left
  that could move it).
* Every **dead letter** is reported with the call ids it names.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

from callsight.models.call import CallStatus, QuarantineReason
from callsight.reconcile.models import (
    TERMINAL_STATUSES,
    CallEntry,
    CallRef,
    DuplicateCalls,
    InProgressCall,
    Inventory,
    MissingCall,
    ObjectVersion,
    OrphanCall,
    QueueDepth,
    ReconcileReport,
    Thresholds,
)
from callsight.resources import ANALYZE_QUEUE, INGEST_QUEUE, QUEUES, TRANSCRIBE_QUEUE, QueueSpec
from callsight.stages.ingest.call_id import derive_call_id

#: Which stage queue moves a call on from each in-progress status.
STAGE_QUEUE: dict[CallStatus, QueueSpec] = {
    CallStatus.RECEIVED: TRANSCRIBE_QUEUE,
    CallStatus.TRANSCRIBING: TRANSCRIBE_QUEUE,
    CallStatus.TRANSCRIBED: ANALYZE_QUEUE,
}

_WAITING = {
    CallStatus.RECEIVED: "waiting for transcription",
    CallStatus.TRANSCRIBING: "being transcribed (an interrupted attempt resumes when its message comes back)",
    CallStatus.TRANSCRIBED: "waiting for analysis",
}

#: A record is written a few milliseconds before its message is sent: the default stall grace.
DEFAULT_STALL_GRACE_S = 60.0


def retry_budget_s(queue: QueueSpec) -> float:
    """How long a message can keep coming back before SQS dead-letters it."""
    return float(queue.visibility_timeout_s * queue.max_receive_count)


def default_thresholds() -> Thresholds:
    """Thresholds from the declared queues (:mod:`callsight.resources`)."""
    return Thresholds(
        ingest_grace_s=retry_budget_s(INGEST_QUEUE),
        stuck_after_s={status: retry_budget_s(queue) for status, queue in STAGE_QUEUE.items()},
        stall_grace_s=DEFAULT_STALL_GRACE_S,
    )


def uniform_thresholds(seconds: float) -> Thresholds:
    """One threshold for everything (``--stuck-after``; ``0`` in tests that have drained the pipeline)."""
    return Thresholds(
        ingest_grace_s=seconds,
        stuck_after_s=dict.fromkeys(STAGE_QUEUE, seconds),
        stall_grace_s=seconds,
    )


def _version(version_id: str | None) -> str | None:
    return version_id if version_id and version_id != "null" else None


def _age(now: datetime, then: datetime) -> float:
    return max(0.0, round((now - then).total_seconds(), 3))


class _Matcher:
    """Finds the calls of a recording version: by version id, else (calls without one) by ETag."""

    def __init__(self, calls: list[CallEntry]) -> None:
        self.by_version: dict[tuple[str, str, str], list[CallEntry]] = defaultdict(list)
        self.by_etag: dict[tuple[str, str, str], list[CallEntry]] = defaultdict(list)
        for call in calls:
            version = _version(call.version_id)
            if version:
                self.by_version[(call.bucket, call.key, version)].append(call)
            elif call.etag:
                self.by_etag[(call.bucket, call.key, call.etag.strip('"'))].append(call)
        self.matched: set[str] = set()

    def calls_of(self, obj: ObjectVersion) -> list[CallEntry]:
        found: list[CallEntry] = []
        version = _version(obj.version_id)
        if version:
            found += self.by_version.get((obj.bucket, obj.key, version), [])
        if obj.etag:
            # An ETag-identified call stands for one version only: the first (newest) that matches.
            for call in self.by_etag.get((obj.bucket, obj.key, obj.etag.strip('"')), []):
                if call.call_id not in self.matched:
                    found.append(call)
        self.matched.update(call.call_id for call in found)
        return found


def _missing_source_reason(call: CallEntry, now: datetime) -> str | None:
    """Why a call may legitimately outlive its recording; ``None``: it may not (an orphan)."""
    if call.status is CallStatus.DELETED:
        return "deleted"
    if call.superseded_by:
        return "superseded by a newer upload of its key"
    if call.status is CallStatus.QUARANTINED and call.status_reason == QuarantineReason.OBJECT_DELETED.value:
        return "gone before ingest"
    if call.masked_at is not None or call.redacted_audio_key:
        return "original removed by the masking sweep"
    if call.expires_at is not None and call.expires_at <= now:
        return "past its retention expiry"
    return None


def _in_scope(call: CallEntry, inventory: Inventory) -> bool:
    return call.bucket == inventory.bucket and call.key.startswith(inventory.prefix)


def reconcile(inventory: Inventory, thresholds: Thresholds, now: datetime) -> ReconcileReport:
    """Check the snapshot; see the module documentation for the rules."""
    calls = [c for c in inventory.calls if _in_scope(c, inventory)]
    report = ReconcileReport(
        checked_at=now,
        bucket=inventory.bucket,
        prefix=inventory.prefix,
        thresholds=thresholds,
        objects=len(inventory.objects),
        calls=len(calls),
        calls_out_of_scope=len(inventory.calls) - len(calls),
        by_status=dict(sorted(Counter(c.status.value for c in calls).items())),
        dead_letters=list(inventory.dead_letters),
        dead_letters_complete=inventory.dead_letters_complete,
        queues=list(inventory.queues),
    )
    dead_keys = {key for letter in inventory.dead_letters for key in letter.keys}
    matcher = _Matcher(calls)
    newest = {}
    for obj in sorted(inventory.objects, key=lambda o: (o.last_modified, o.is_latest)):
        newest[(obj.bucket, obj.key)] = obj
    for obj in sorted(inventory.objects, key=lambda o: (o.key, o.last_modified)):
        found = matcher.calls_of(obj)
        if newest[(obj.bucket, obj.key)] is not obj:
            report.superseded_versions += 1
        if len(found) > 1:
            report.duplicates.append(
                DuplicateCalls(key=obj.key, version_id=obj.version_id, calls=[CallRef.of(c) for c in found])
            )
        elif not found and newest[(obj.bucket, obj.key)] is obj:
            missing = MissingCall(
                object=obj,
                expected_call_id=derive_call_id(obj.bucket, obj.key, obj.version_id, obj.etag),
                age_s=_age(now, obj.last_modified),
                dead_lettered=obj.key in dead_keys,
            )
            lost = missing.age_s > thresholds.ingest_grace_s or missing.dead_lettered
            (report.lost if lost else report.awaiting_ingest).append(missing)
    _check_sources(report, calls, matcher.matched, now)
    _check_one_call_per_key(report, calls)
    report.in_progress = _in_progress(calls, inventory, thresholds, now)
    return report


def _check_one_call_per_key(report: ReconcileReport, calls: list[CallEntry]) -> None:
    live: dict[str, list[CallEntry]] = defaultdict(list)
    for call in calls:
        if call.status is not CallStatus.DELETED and not call.superseded_by:
            live[call.key].append(call)
    reported = {(d.key, c.call_id) for d in report.duplicates for c in d.calls}
    for key, group in sorted(live.items()):
        if len(group) > 1 and not all((key, c.call_id) in reported for c in group):
            report.duplicates.append(
                DuplicateCalls(key=key, version_id=None, calls=[CallRef.of(c) for c in group])
            )


def _check_sources(report: ReconcileReport, calls: list[CallEntry], matched: set[str], now: datetime) -> None:
    explained: Counter[str] = Counter()
    unmatched: dict[tuple[str, str | None, str | None], list[CallEntry]] = defaultdict(list)
    for call in calls:
        if call.call_id in matched:
            continue
        reason = _missing_source_reason(call, now)
        if reason is not None:
            explained[reason] += 1
            continue
        unmatched[(call.key, _version(call.version_id), None if call.version_id else call.etag)].append(call)
    for (key, version, _), group in sorted(unmatched.items(), key=lambda item: item[0][0]):
        if len(group) > 1:
            report.duplicates.append(
                DuplicateCalls(key=key, version_id=version, calls=[CallRef.of(c) for c in group])
            )
        for call in group:
            report.orphans.append(
                OrphanCall(
                    call=CallRef.of(call),
                    detail=f"s3://{call.bucket}/{call.key} (version {call.version_id or call.etag or '?'}) "
                    "is not in the bucket and the call is not deleted, masked, expired or quarantined for it",
                )
            )
    report.explained_missing_sources = dict(sorted(explained.items()))


def _in_progress(
    calls: list[CallEntry], inventory: Inventory, thresholds: Thresholds, now: datetime
) -> list[InProgressCall]:
    depths = {q.queue: q for q in inventory.queues}
    pipeline_idle = all(
        depths.get(q.logical, QueueDepth(queue=q.logical, visible=0, in_flight=0)).idle for q in QUEUES
    )
    dead: dict[str, str] = {}
    for letter in inventory.dead_letters:
        for call_id in letter.call_ids:
            dead.setdefault(call_id, letter.queue)
    found: list[InProgressCall] = []
    for call in sorted(calls, key=lambda c: c.updated_at):
        if call.status in TERMINAL_STATUSES:
            continue
        queue = STAGE_QUEUE[call.status]
        age = _age(now, call.updated_at)
        threshold = thresholds.stuck_after_s.get(call.status, retry_budget_s(queue))
        depth = depths.get(queue.logical)
        if call.call_id in dead:
            stuck, reason = True, f"its message is in {dead[call.call_id]}: the pipeline gave up on it"
        elif age > threshold:
            stuck, reason = (
                True,
                f"{call.status.value} for {age:.0f} s, longer than {threshold:.0f} s "
                f"(the {queue.logical} queue's visibility timeout × max receives)",
            )
        elif pipeline_idle and age > thresholds.stall_grace_s:
            stuck, reason = (
                True,
                "stalled: every stage queue is idle and no dead letter names it, so nothing will move it "
                "(its message was lost)",
            )
        else:
            waiting = f"{depth.visible} waiting, {depth.in_flight} in flight" if depth else "depth unknown"
            stuck, reason = False, f"{_WAITING[call.status]}; {queue.logical} queue: {waiting}"
        found.append(
            InProgressCall(
                call=CallRef.of(call),
                stage_queue=queue.logical,
                age_s=age,
                threshold_s=threshold,
                stuck=stuck,
                reason=reason,
                dead_letter_queue=dead.get(call.call_id),
            )
        )
    return found
