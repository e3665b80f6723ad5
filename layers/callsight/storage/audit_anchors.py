"""Audit anchors in the Object-Lock bucket: one write-once object per anchoring, never overwritten.

Keys are ``audit-anchors/<day>/<at>-<random>.json``. Every *version* of every object is read back,
so a writer who puts a new version over an anchor adds an anchor but cannot hide the locked one.
With ``Settings.audit_anchor_dir`` (local mode) each anchor is also written to that directory
under the same key and read back from there too: the embedded emulator keeps its state in memory
only, and the files let ``audit verify`` notice an audit log that a restart took with it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from callsight.compliance.audit import AuditAnchor
from callsight.config import Settings
from callsight.resources import AUDIT_ANCHORS_BUCKET
from callsight.storage import aws

PREFIX = "audit-anchors/"


class AuditAnchorStore:
    def __init__(self, settings: Settings) -> None:
        self.bucket = AUDIT_ANCHORS_BUCKET.physical(settings)
        self.s3 = aws.client("s3", settings)
        self.mirror = settings.audit_anchor_dir / settings.prefix if settings.audit_anchor_dir else None

    def put(self, anchor: AuditAnchor) -> str:
        key = f"{PREFIX}{anchor.day.isoformat()}/{anchor.at.strftime('%Y%m%dT%H%M%S%fZ')}-{uuid.uuid4().hex[:8]}.json"
        body = anchor.model_dump_json().encode()
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")
        if self.mirror is not None:
            path = self.mirror / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
        return key

    def for_day(self, day: date) -> list[AuditAnchor]:
        anchors: list[AuditAnchor] = []
        pages = self.s3.get_paginator("list_object_versions").paginate(
            Bucket=self.bucket, Prefix=f"{PREFIX}{day.isoformat()}/"
        )
        for page in pages:
            for version in page.get("Versions", []):
                body = self.s3.get_object(
                    Bucket=self.bucket, Key=version["Key"], VersionId=version["VersionId"]
                )
                anchors.append(_parse(body["Body"].read(), day, version["LastModified"]))
        if self.mirror is not None:
            for path in sorted((self.mirror / PREFIX / day.isoformat()).glob("*.json")):
                anchor = _parse(path.read_bytes(), day, datetime.fromtimestamp(path.stat().st_mtime, UTC))
                if anchor not in anchors:
                    anchors.append(anchor)
        return sorted(anchors, key=lambda a: a.at)


def _parse(body: bytes, day: date, written: datetime) -> AuditAnchor:
    try:
        return AuditAnchor.model_validate_json(body)
    except ValueError:  # not an anchor at all: reported as an unsealed one
        return AuditAnchor(day=day, at=written, mac="unreadable")
