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
    file_sha256,
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
    loaded = artifact_load_model(tmp_path / "v1", manifest_sha256=written.manifest_sha256)
    before = windows_predict(trained_gru.model, planted_split["test"])
    after = windows_predict(loaded.model, planted_split["test"])
    assert np.array_equal(before, after)
    assert loaded.kind == "gru"
    assert loaded.metadata["skill_vocabulary"] == METADATA["skill_vocabulary"]
    assert loaded.metadata["encoding_version"] == 1
    manifest = json.loads((tmp_path / "v1" / "manifest.json").read_text())
    assert sorted(manifest["files"]) == ["metadata.json", "model.keras", "step_weights.npz"]


def flip_last_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("name", ["model.keras", "step_weights.npz", "metadata.json"])
def test_each_tampered_gru_file_is_refused(tmp_path: Path, trained_gru: TrainResult, name: str):
    written = artifact_save(tmp_path / "v1", metadata=METADATA, model=trained_gru.model)
    artifact_verify(tmp_path / "v1", written.manifest_sha256)
    flip_last_byte(tmp_path / "v1" / name)
    with pytest.raises(ArtifactIntegrityError, match=rf"{name}: sha256"):
        artifact_verify(tmp_path / "v1", written.manifest_sha256)
    with pytest.raises(ArtifactIntegrityError):
        artifact_load(tmp_path / "v1", manifest_sha256=written.manifest_sha256)


@pytest.mark.parametrize("name", ["bkt.json", "metadata.json"])
def test_each_tampered_bkt_file_is_refused(tmp_path: Path, name: str):
    written = artifact_save(tmp_path / "b", metadata=METADATA, bkt=BKTParams.default(6))
    path = tmp_path / "b" / name
    content = json.loads(path.read_text())
    if name == "bkt.json":
        content["slip"][0] = 0.45
    else:
        content["emission"] = {"guess": [0.0] * 6}
    path.write_text(json.dumps(content))
    with pytest.raises(ArtifactIntegrityError, match=rf"{name}: sha256"):
        artifact_load(tmp_path / "b", manifest_sha256=written.manifest_sha256)


def test_a_rewritten_manifest_is_refused(tmp_path: Path):
    # given an attacker who edits bkt.json AND records its new hash in the manifest
    written = artifact_save(tmp_path / "b", metadata=METADATA, bkt=BKTParams.default(6))
    params = json.loads((tmp_path / "b" / "bkt.json").read_text())
    params["slip"][0] = 0.45
    (tmp_path / "b" / "bkt.json").write_text(json.dumps(params))
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    manifest["files"]["bkt.json"] = file_sha256(tmp_path / "b" / "bkt.json")
    (tmp_path / "b" / "manifest.json").write_text(json.dumps(manifest))
    # then the manifest no longer matches the hash the database holds
    with pytest.raises(ArtifactIntegrityError, match=r"manifest\.json: sha256"):
        artifact_verify(tmp_path / "b", written.manifest_sha256)


def test_a_manifest_that_leaves_out_a_file_is_refused(tmp_path: Path):
    artifact_save(tmp_path / "b", metadata=METADATA, bkt=BKTParams.default(6))
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    del manifest["files"]["metadata.json"]
    (tmp_path / "b" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactIntegrityError, match=r"does not list metadata\.json"):
        artifact_verify(tmp_path / "b", file_sha256(tmp_path / "b" / "manifest.json"))


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_manifest_hash_is_refused(tmp_path: Path, blank: str):
    artifact_save(tmp_path / "b", metadata=METADATA, bkt=BKTParams.default(6))
    with pytest.raises(ArtifactIntegrityError, match="no manifest hash recorded"):
        artifact_verify(tmp_path / "b", blank)


def test_bkt_artifact_round_trips(tmp_path: Path):
    params = BKTParams.default(6, prior=0.35)
    written = artifact_save(tmp_path / "b", metadata=METADATA, bkt=params)
    loaded = artifact_load(tmp_path / "b", manifest_sha256=written.manifest_sha256)
    assert loaded.kind == "bkt"
    assert loaded.bkt.as_dict() == params.as_dict()


def test_an_existing_path_is_never_overwritten(tmp_path: Path):
    artifact_save(tmp_path / "b", metadata=METADATA, bkt=BKTParams.default(6))
    with pytest.raises(ArtifactError, match="already exists"):
        artifact_save(tmp_path / "b", metadata=METADATA, bkt=BKTParams.default(6))


def test_a_missing_artifact_is_an_error(tmp_path: Path):
    with pytest.raises(ArtifactError, match=r"no manifest\.json"):
        artifact_load(tmp_path / "nothing", manifest_sha256="0" * 64)


def test_step_weights_load_without_keras(tmp_path: Path, trained_gru: TrainResult):
    import subprocess

    written = artifact_save(tmp_path / "v1", metadata=METADATA, model=trained_gru.model)
    code = (
        "import sys; from adaptive.ml.artifacts import artifact_load;"
        f"a = artifact_load({str(tmp_path / 'v1')!r}, "
        f"manifest_sha256={written.manifest_sha256!r});"
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
