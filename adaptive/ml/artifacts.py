"""Model artifacts on disk: one directory per model version, verified by sha256 before use.

Layout::

    <path>/metadata.json       kind, encoding version, skill (and problem) vocabulary,
                               hyperparameters, metrics, data cutoff, {"files": {name: sha256}},
                               "sha256" = digest of the primary file
    <path>/model.keras         kind "gru"/"lstm": the Keras model (primary file)
    <path>/step_weights.npz    kind "gru"/"lstm": NumPy weights for one-step updates
    <path>/bkt.json            kind "bkt": per-skill parameters (primary file)

Every file listed in ``metadata["files"]`` is hashed again on load and a mismatch raises
:class:`ArtifactIntegrityError` before anything is deserialised; Keras models are then loaded with
``safe_mode=True`` (no arbitrary code in lambdas). This module imports neither Django nor
TensorFlow at import time: only loading a Keras model imports Keras, so the web process can read
BKT parameters and step weights without TensorFlow.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adaptive.ml.bkt import BKTParams
from adaptive.ml.sequences import ENCODING_VERSION
from adaptive.ml.step import (
    STEP_WEIGHTS_FILENAME,
    StepWeights,
    step_weights_export,
    step_weights_read,
    step_weights_save,
)

FORMAT_VERSION = 1
METADATA_FILENAME = "metadata.json"
MODEL_FILENAME = "model.keras"
BKT_FILENAME = "bkt.json"


class ArtifactError(Exception):
    """An artifact is missing, incomplete or unreadable."""


class ArtifactIntegrityError(ArtifactError):
    """A file of an artifact does not match the sha256 recorded for it."""


@dataclass
class Artifact:
    """A verified artifact; ``model`` is set for Keras kinds loaded with a ``model_loader``."""

    path: Path
    metadata: dict[str, Any]
    model: Any = None
    bkt: BKTParams | None = None
    step_weights: StepWeights | None = None

    @property
    def kind(self) -> str:
        """``"gru"``, ``"lstm"`` or ``"bkt"``."""
        return str(self.metadata["kind"])

    @property
    def sha256(self) -> str:
        """Digest of the primary file, as stored on the model version."""
        return str(self.metadata["sha256"])


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def artifact_save(
    path: str | Path,
    *,
    metadata: dict[str, Any],
    model: Any = None,
    bkt: BKTParams | None = None,
) -> dict[str, Any]:
    """Write a Keras model or BKT parameters plus metadata to a new directory ``path``.

    ``metadata`` should carry ``skill_vocabulary``, ``hyperparameters``, ``metrics`` and
    ``data_cutoff``; ``kind``, versions, file hashes and ``created_at`` are filled in. The
    directory is written under a temporary name and renamed, so a crash never leaves a
    half-written artifact at ``path``. Returns the metadata as written.
    """
    if (model is None) == (bkt is None):
        raise ValueError("pass exactly one of model= or bkt=")
    target = Path(path)
    if target.exists():
        raise ArtifactError(f"artifact path already exists: {target}")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        if model is not None:
            kind = (
                "lstm" if "lstm" in type(model.get_layer("recurrent")).__name__.lower() else "gru"
            )
            model.save(str(staging / MODEL_FILENAME))
            step_weights_save(step_weights_export(model), staging / STEP_WEIGHTS_FILENAME)
            primary = MODEL_FILENAME
        elif bkt is not None:
            kind = "bkt"
            (staging / BKT_FILENAME).write_text(json.dumps(bkt.as_dict()), encoding="utf-8")
            primary = BKT_FILENAME
        files = {
            name: file_sha256(staging / name) for name in sorted(p.name for p in staging.iterdir())
        }
        written = {
            **metadata,
            "kind": kind,
            "format_version": FORMAT_VERSION,
            "encoding_version": metadata.get("encoding_version", ENCODING_VERSION),
            "created_at": metadata.get("created_at", datetime.now(UTC).isoformat()),
            "files": files,
            "sha256": files[primary],
        }
        (staging / METADATA_FILENAME).write_text(
            json.dumps(written, indent=2, sort_keys=True, default=str), encoding="utf-8"
        )
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return written


def artifact_verify(path: str | Path, *, expected_sha256: str | None = None) -> dict[str, Any]:
    """Check every file's sha256 (and the primary digest against ``expected_sha256``).

    Returns the metadata; raises :class:`ArtifactIntegrityError` on any mismatch and
    :class:`ArtifactError` when the directory or a file is missing.
    """
    directory = Path(path)
    metadata_path = directory / METADATA_FILENAME
    if not metadata_path.is_file():
        raise ArtifactError(f"no {METADATA_FILENAME} in {directory}")
    try:
        metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ArtifactIntegrityError(f"unreadable {METADATA_FILENAME}: {error}") from error
    files = metadata.get("files") or {}
    if not files or "sha256" not in metadata:
        raise ArtifactIntegrityError("metadata lists no file hashes")
    if expected_sha256 is not None and metadata["sha256"] != expected_sha256:
        raise ArtifactIntegrityError(
            f"artifact digest {metadata['sha256']} differs from the expected {expected_sha256}"
        )
    for name, recorded in files.items():
        file_path = directory / name
        if Path(name).name != name or not file_path.is_file():
            raise ArtifactError(f"artifact file missing or misnamed: {name}")
        actual = file_sha256(file_path)
        if actual != recorded:
            raise ArtifactIntegrityError(f"{name}: sha256 {actual} does not match {recorded}")
    if metadata["sha256"] not in files.values():
        raise ArtifactIntegrityError("the primary digest matches no listed file")
    return metadata


def artifact_load(
    path: str | Path,
    *,
    expected_sha256: str | None = None,
    model_loader: Callable[[Path], Any] | None = None,
) -> Artifact:
    """Verify then load an artifact: BKT parameters, or a GRU/LSTM's NumPy step weights.

    The Keras model itself is loaded only when a ``model_loader`` is given
    (:func:`adaptive.ml.inference.artifact_load_model` passes one that loads with
    ``safe_mode=True``), so this module never imports Keras and the web process can read
    BKT parameters and step weights without TensorFlow.
    """
    directory = Path(path)
    metadata = artifact_verify(directory, expected_sha256=expected_sha256)
    artifact = Artifact(path=directory, metadata=metadata)
    if metadata["kind"] == "bkt":
        artifact.bkt = BKTParams.from_dict(
            json.loads((directory / BKT_FILENAME).read_text(encoding="utf-8"))
        )
        return artifact
    artifact.step_weights = step_weights_read(directory / STEP_WEIGHTS_FILENAME)
    if model_loader is not None:
        artifact.model = model_loader(directory / MODEL_FILENAME)
    return artifact
