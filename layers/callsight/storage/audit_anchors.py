"""Audit anchors in the Object-Lock bucket: one write-once object per anchoring, never overwritten.

Keys are ``audit-anchors/<day>/<at>-<random>.json``. Every *version* of every object is read back,
so a writer who puts a new version over an anchor adds an anchor but cannot hide the locked one.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from callsight.compliance.audit import AuditAnchor
from callsight.config import Settings
from callsight.resources import AUDIT_ANCHORS_BUCKET
from callsight.storage import aws

PREFIX = "audit-anchors/"


class AuditAnchorStore:
    def __init__(self, settings: Settings) -> None:
        self.bucket = AUDIT_ANCHORS_BUCKET.physical(settings)
        self.s3: Any = aws.client("s3", settings)

    def put(self, anchor: AuditAnchor) -> str:
        key = f"{PREFIX}{anchor.day.isoformat()}/{anchor.at.strftime('%Y%m%dT%H%M%S%fZ')}-{uuid.uuid4().hex[:8]}.json"
        self.s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=anchor.model_dump_json().encode(),
            ContentType="application/json",
        )
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
                try:
                    anchors.append(AuditAnchor.model_validate_json(body["Body"].read()))
                except ValueError:  # not an anchor at all: reported as an unsealed one
                    anchors.append(AuditAnchor(day=day, at=version["LastModified"], mac="unreadable"))
        return sorted(anchors, key=lambda a: a.at)
