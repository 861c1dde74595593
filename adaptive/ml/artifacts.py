"""Model artifacts on disk: one directory per model version, verified by a manifest before use.

Layout::

    <path>/manifest.json       {"format_version", "kind", "files": {name: sha256}} for EVERY
                               other file below; its own sha256 is stored on the ModelVersion
                               (``manifest_sha256``), so no file can change unnoticed
    <path>/metadata.json       kind, encoding version, skill (and problem) vocabulary,
                               hyperparameters, metrics, data cutoff, guess/slip emission
    <path>/model.keras         kind "gru"/"lstm": the Keras model (primary file)
    <path>/step_weights.npz    kind "gru"/"lstm": NumPy weights for one-step updates (served)
    <path>/bkt.json            kind "bkt": per-skill parameters (primary file)

:func:`artifact_verify` hashes the manifest against the hash the database holds, then every
listed file, before anything is deserialised, and raises :class:`ArtifactIntegrityError` on any
mismatch or on a blank hash (nothing is trusted because it was not recorded). Keras models are
then loaded with ``safe_mode=True`` (no arbitrary code in lambdas). This module imports neither
Django nor TensorFlow at import time: only loading a Keras model imports Keras, so the web
process can read BKT parameters and step weights without TensorFlow.
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

FORMAT_VERSION = 2
MANIFEST_FILENAME = "manifest.json"
METADATA_FILENAME = "metadata.json"
MODEL_FILENAME = "model.keras"
BKT_FILENAME = "bkt.json"
# The files each kind needs; a manifest that leaves one out is refused.
REQUIRED_FILES = {
    "gru": (METADATA_FILENAME, MODEL_FILENAME, STEP_WEIGHTS_FILENAME),
    "lstm": (METADATA_FILENAME, MODEL_FILENAME, STEP_WEIGHTS_FILENAME),
    "bkt": (METADATA_FILENAME, BKT_FILENAME),
}


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
        """Digest of the primary file (``model.keras`` or ``bkt.json``), for display."""
        return str(self.metadata["sha256"])


@dataclass(frozen=True)
class SavedArtifact:
    """What :func:`artifact_save` wrote: the metadata and the manifest's own sha256."""

    metadata: dict[str, Any]
    manifest_sha256: str

    @property
    def sha256(self) -> str:
        """Digest of the primary file."""
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
) -> SavedArtifact:
    """Write a Keras model or BKT parameters, metadata and the manifest to a new directory.

    ``metadata`` should carry ``skill_vocabulary``, ``hyperparameters``, ``metrics`` and
    ``data_cutoff``; ``kind``, versions, the primary digest and ``created_at`` are filled in.
    The directory is written under a temporary name and renamed, so a crash never leaves a
    half-written artifact at ``path``. Store the returned ``manifest_sha256``: it is what
    :func:`artifact_verify` checks against.
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
        written = {
            **metadata,
            "kind": kind,
            "format_version": FORMAT_VERSION,
            "encoding_version": metadata.get("encoding_version", ENCODING_VERSION),
            "created_at": metadata.get("created_at", datetime.now(UTC).isoformat()),
            "sha256": file_sha256(staging / primary),
        }
        (staging / METADATA_FILENAME).write_text(
            json.dumps(written, indent=2, sort_keys=True, default=str), encoding="utf-8"
        )
        manifest = {
            "format_version": FORMAT_VERSION,
            "kind": kind,
            "files": {
                name: file_sha256(staging / name)
                for name in sorted(p.name for p in staging.iterdir())
            },
        }
        (staging / MANIFEST_FILENAME).write_text(
            json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8"
        )
        manifest_sha256 = file_sha256(staging / MANIFEST_FILENAME)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return SavedArtifact(metadata=written, manifest_sha256=manifest_sha256)


def artifact_verify(directory: Path, manifest_sha256: str) -> None:
    """Check the manifest against ``manifest_sha256`` and every file against the manifest.

    Raises :class:`ArtifactIntegrityError` when the hash is blank, the manifest or a listed
    file differs from its recorded sha256, or the manifest leaves out a file the artifact's kind
    needs; :class:`ArtifactError` when the directory or a listed file is missing.
    """
    directory = Path(directory)
    if not manifest_sha256 or not manifest_sha256.strip():
        raise ArtifactIntegrityError(
            f"no manifest hash recorded for {directory}: an unrecorded artifact is never trusted"
        )
    manifest_path = directory / MANIFEST_FILENAME
    if not manifest_path.is_file():
        raise ArtifactError(f"no {MANIFEST_FILENAME} in {directory}")
    actual = file_sha256(manifest_path)
    if actual != manifest_sha256:
        raise ArtifactIntegrityError(
            f"{MANIFEST_FILENAME}: sha256 {actual} does not match the recorded {manifest_sha256}"
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files = dict(manifest["files"])
        kind = str(manifest["kind"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise ArtifactIntegrityError(f"unreadable {MANIFEST_FILENAME}: {error}") from error
    missing = [name for name in REQUIRED_FILES.get(kind, (METADATA_FILENAME,)) if name not in files]
    if kind not in REQUIRED_FILES or missing:
        raise ArtifactIntegrityError(
            f"the manifest of a {kind!r} artifact does not list {', '.join(missing) or 'its files'}"
        )
    for name, recorded in files.items():
        file_path = directory / name
        if Path(name).name != name or name == MANIFEST_FILENAME:
            raise ArtifactIntegrityError(f"the manifest lists a misnamed file: {name!r}")
        if not file_path.is_file():
            raise ArtifactError(f"artifact file missing: {name}")
        digest = file_sha256(file_path)
        if digest != recorded:
            raise ArtifactIntegrityError(f"{name}: sha256 {digest} does not match {recorded}")


def artifact_load(
    path: str | Path,
    *,
    manifest_sha256: str,
    model_loader: Callable[[Path], Any] | None = None,
) -> Artifact:
    """Verify then load an artifact: BKT parameters, or a GRU/LSTM's NumPy step weights.

    The Keras model itself is loaded only when a ``model_loader`` is given
    (:func:`adaptive.ml.inference.artifact_load_model` passes one that loads with
    ``safe_mode=True``), so this module never imports Keras and the web process can read
    BKT parameters and step weights without TensorFlow.
    """
    directory = Path(path)
    artifact_verify(directory, manifest_sha256)
    try:
        metadata = json.loads((directory / METADATA_FILENAME).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ArtifactError(f"unreadable {METADATA_FILENAME}: {error}") from error
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
