import json
import sys
from pathlib import Path

import numpy as np
import pytest

from adaptive.ml.artifacts import (
    ArtifactError,
    ArtifactIntegrityError,
    artifact_load,
    artifact_save,
    artifact_verify,
)
from adaptive.ml.bkt import BKTParams
from adaptive.ml.inference import artifact_load_model, windows_predict
from adaptive.ml.training import TrainResult

METADATA = {
    "skill_vocabulary": [10, 11, 12, 13, 14, 15],
    "hyperparameters": {"hidden_units": 16},
    "metrics": {"auc": 0.9},
    "data_cutoff": "2026-11-30T00:00:00+00:00",
}


def test_save_then_load_gives_identical_predictions(
    tmp_path: Path, trained_gru: TrainResult, planted_split: dict
):
    written = artifact_save(tmp_path / "v1", metadata=METADATA, model=trained_gru.model)
    loaded = artifact_load_model(tmp_path / "v1", expected_sha256=written["sha256"])
    before = windows_predict(trained_gru.model, planted_split["test"])
    after = windows_predict(loaded.model, planted_split["test"])
    assert np.array_equal(before, after)
    assert loaded.kind == "gru"
    assert loaded.metadata["skill_vocabulary"] == METADATA["skill_vocabulary"]
    assert loaded.metadata["encoding_version"] == 1
    assert sorted(loaded.metadata["files"]) == ["model.keras", "step_weights.npz"]


def test_a_tampered_model_file_is_refused(tmp_path: Path, trained_gru: TrainResult):
    artifact_save(tmp_path / "v1", metadata=METADATA, model=trained_gru.model)
    with (tmp_path / "v1" / "model.keras").open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ArtifactIntegrityError, match=r"model\.keras: sha256"):
        artifact_load(tmp_path / "v1")


def test_an_artifact_with_another_digest_than_expected_is_refused(tmp_path: Path):
    artifact_save(tmp_path / "b", metadata=METADATA, bkt=BKTParams.default(6))
    with pytest.raises(ArtifactIntegrityError, match="differs from the expected"):
        artifact_verify(tmp_path / "b", expected_sha256="0" * 64)


def test_tampered_bkt_parameters_are_refused(tmp_path: Path):
    artifact_save(tmp_path / "b", metadata=METADATA, bkt=BKTParams.default(6))
    params = json.loads((tmp_path / "b" / "bkt.json").read_text())
    params["slip"][0] = 0.45
    (tmp_path / "b" / "bkt.json").write_text(json.dumps(params))
    with pytest.raises(ArtifactIntegrityError):
        artifact_load(tmp_path / "b")


def test_bkt_artifact_round_trips(tmp_path: Path):
    params = BKTParams.default(6, prior=0.35)
    written = artifact_save(tmp_path / "b", metadata=METADATA, bkt=params)
    loaded = artifact_load(tmp_path / "b", expected_sha256=written["sha256"])
    assert loaded.kind == "bkt"
    assert loaded.bkt.as_dict() == params.as_dict()


def test_an_existing_path_is_never_overwritten(tmp_path: Path):
    artifact_save(tmp_path / "b", metadata=METADATA, bkt=BKTParams.default(6))
    with pytest.raises(ArtifactError, match="already exists"):
        artifact_save(tmp_path / "b", metadata=METADATA, bkt=BKTParams.default(6))


def test_a_missing_artifact_is_an_error(tmp_path: Path):
    with pytest.raises(ArtifactError, match=r"no metadata\.json"):
        artifact_load(tmp_path / "nothing")


def test_step_weights_load_without_keras(tmp_path: Path, trained_gru: TrainResult):
    import subprocess

    artifact_save(tmp_path / "v1", metadata=METADATA, model=trained_gru.model)
    code = (
        "import sys; from adaptive.ml.artifacts import artifact_load;"
        f"a = artifact_load({str(tmp_path / 'v1')!r});"
        "assert a.model is None and a.step_weights.hidden_units == 16;"
        "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[3],
        check=False,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr
