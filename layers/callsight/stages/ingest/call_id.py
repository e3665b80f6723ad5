"""Deterministic call ids: the same S3 object version always yields the same ``call_id``.

Duplicate or concurrent deliveries of one event therefore address one record. An object
overwritten in an unversioned bucket has a new ETag and so becomes a new call.
"""

from __future__ import annotations

import uuid

#: Fixed namespace for Callsight call ids (uuid5 over ``bucket/key#version``).
CALL_ID_NAMESPACE = uuid.UUID("6f1c3a52-8f0e-5d8e-9b7a-3c2f1e0d4b11")


def derive_call_id(bucket: str, key: str, version_id: str | None, etag: str | None) -> str:
    """``call_id`` from the object's identity: version id when the bucket is versioned, else ETag."""
    if version_id and version_id != "null":
        revision = f"v:{version_id}"
    elif etag:
        revision = f"e:{etag.strip(chr(34))}"
    else:
        revision = "-"
    return str(uuid.uuid5(CALL_ID_NAMESPACE, f"{bucket}/{key}#{revision}"))
