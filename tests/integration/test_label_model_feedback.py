"""QA corrections become the deployment's own label model (issue 17 item 4), on the emulator.

``callsight train --from-feedback`` reads the reviewed calls (masked, as QA sees them), audits the
export, fits on a small slice of the real corpus plus the corrections (kept small so the test stays
quick; the full corpus takes minutes), stores the model in the transcripts bucket, and the analyze
function's loader picks it up; ``CALLSIGHT_LABEL_MODEL`` chooses tenant / shipped / off, and a
damaged stored model stops the loader with a clear error instead of analysing with half a model.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from callsight.analysis.learned.examples import split_of
from callsight.analysis.learned.model import LabelModel, LabelModelError
from callsight.auth.tokens import Role
from callsight.cli import app
from callsight.storage.audit_log import AuditLog
from callsight.storage.label_models import PREFIX, LabelModelStore, label_model_for
from chalice.test import Client
from typer.testing import CliRunner

from tests.integration.conftest import Stack
from tests.integration.test_api import api_module, bearer
from tests.integration.test_api_labels import GOOD, TEAM, put, team_call
from tests.unit.analysis.test_learned import small_corpus


@pytest.fixture
def client(env: Stack) -> Iterator[Any]:
    with Client(api_module().app) as test_client:
        yield test_client


def test_qa_corrections_train_the_deployments_model_and_the_analyzer_loads_it(
    env: Stack, client: Client, tmp_path: Path
) -> None:
    # Given two analysed calls that QA corrected through the API
    qa = bearer(env, Role.QA, teams=[TEAM])
    reviewed = [team_call(env, code_word=word) for word in ("alpha", "bravo")]
    for call in reviewed:
        assert put(client, call.call_id, qa, GOOD)[0] == 200
    assert LabelModelStore(env.settings).get() is None
    assert label_model_for(env.settings) is not None  # no tenant model yet: the shipped one

    # When the deployment's model is trained from them
    corpus = small_corpus(tmp_path / "corpus", {"train": 25, "dev": 10, "test": 8})
    empty = tmp_path / "none"
    empty.mkdir()
    args = ["train", "--from-feedback", "--corpus", str(corpus), "--extra-train", str(empty)]
    refused = CliRunner().invoke(app, args)
    # a model from 40-odd calls scores below the shipped one (fitted on the whole corpus): refused
    assert refused.exit_code == 1, refused.output
    assert "the new model is worse" in refused.output and "different dev calls" in refused.output
    assert LabelModelStore(env.settings).get() is None
    result = CliRunner().invoke(app, [*args, "--force"])

    # Then it is stored as the deployment's, says what it learned from, and the export is audited
    assert result.exit_code == 0, result.output
    assert "2 QA-corrected calls added" in result.output
    tenant = LabelModelStore(env.settings).get()
    learned_from = [c for c in reviewed if split_of(c.call_id) in ("train", "dev")]  # test: measured only
    assert tenant is not None and tenant.metadata["training_examples"] == 25 + 10 + len(learned_from)
    assert ("feedback" in tenant.metadata["sources"]) == bool(learned_from)
    exports = [e for e in AuditLog(env.settings).for_target("label-model") if e.action == "labels.export"]
    assert len(exports) == 2 and all(e.details["calls"] == 2 for e in exports)
    # ... and the analyze function's loader takes it, unless told otherwise
    assert label_model_for(env.settings).version == tenant.version  # type: ignore[union-attr]
    shipped = env.settings.model_copy(update={"label_model": "shipped"})
    assert label_model_for(shipped).version == LabelModel.shipped().version  # type: ignore[union-attr]
    assert label_model_for(env.settings.model_copy(update={"label_model": "off"})) is None


def test_a_damaged_stored_model_stops_the_loader_with_a_clear_error(env: Stack) -> None:
    store = LabelModelStore(env.settings)
    store.put(LabelModel.shipped())
    env.s3.put_object(Bucket=store.bucket, Key=f"{PREFIX}.npz", Body=b"not a model")
    with pytest.raises(LabelModelError, match="damaged or incomplete"):
        label_model_for(env.settings)
