"""The deployment's own label model (``callsight train --from-feedback``) in the transcripts bucket.

Two objects, ``models/labels/label-model.npz`` and ``.json``, written json last so that a reader never
sees a new json beside an old npz for long; a reader that finds them inconsistent gets a clear error.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from botocore.exceptions import ClientError

from callsight.analysis.learned.model import LabelModel
from callsight.config import Settings
from callsight.resources import TRANSCRIPTS_BUCKET
from callsight.storage import aws

PREFIX = "models/labels/label-model"


class LabelModelStore:
    def __init__(self, settings: Settings) -> None:
        self._s3 = aws.client("s3", settings)
        self.bucket = TRANSCRIPTS_BUCKET.physical(settings)

    def put(self, model: LabelModel) -> str:
        """Stores ``model`` as the deployment's; returns its s3:// location (without suffix)."""
        with tempfile.TemporaryDirectory() as folder:
            npz, meta = model.save(Path(folder) / "label-model")
            self._s3.upload_file(str(npz), self.bucket, f"{PREFIX}.npz")
            self._s3.upload_file(str(meta), self.bucket, f"{PREFIX}.json")
        return f"s3://{self.bucket}/{PREFIX}"

    def get(self) -> LabelModel | None:
        """The deployment's model, or None when none was trained."""
        with tempfile.TemporaryDirectory() as folder:
            stem = Path(folder) / "label-model"
            try:
                self._s3.download_file(self.bucket, f"{PREFIX}.json", str(stem.with_suffix(".json")))
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                    return None
                raise
            self._s3.download_file(self.bucket, f"{PREFIX}.npz", str(stem.with_suffix(".npz")))
            return LabelModel.load(stem)


def label_model_for(settings: Settings) -> LabelModel | None:
    """The label model the analyzer runs with, per ``settings.label_model``."""
    if settings.label_model == "off":
        return None
    if settings.label_model == "tenant":
        tenant = LabelModelStore(settings).get()  # a damaged model stops the function: LabelModelError
        if tenant is not None:
            return tenant
    return LabelModel.shipped()
