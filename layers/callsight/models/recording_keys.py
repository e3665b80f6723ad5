"""How a recording's sidecar is named in the recordings bucket (pure: ingest reads sidecars by these
names, erasure and retention delete every object under them, the reconciler skips them)."""

from __future__ import annotations

from pathlib import PurePosixPath

#: The extension that marks a key as a sidecar rather than a recording.
SIDECAR_SUFFIX = ".json"


def sidecar_keys_for(audio_key: str) -> tuple[str, str]:
    """Where a recording's sidecar may live: ``<key>.json`` first, then ``<stem>.json``."""
    path = PurePosixPath(audio_key)
    return audio_key + SIDECAR_SUFFIX, str(path.with_suffix(SIDECAR_SUFFIX))


def is_sidecar_key(key: str) -> bool:
    return key.lower().endswith(SIDECAR_SUFFIX)
