"""Model versions: register, score, gate, activate, roll back (no TensorFlow here).

A scope is a course, or the whole platform (``course=None``, the global model). At most one
model version per scope is active (a database constraint). A new candidate is promoted only by
:func:`model_version_gate`, which scores it in the served regime (each held-out learner's whole
history replayed through the NumPy step the workers serve with, or BKT's filter) against a
comparator on the same held-out attempts:

* the active version, when its artifact verifies;
* otherwise the most recently active version of the scope whose artifact verifies;
* otherwise (none verifies, or the scope has none) a BKT fitted on the same training learners.

The candidate wins only if all its outputs are finite and its AUC >= the comparator's AUC -
``GATE_AUC_TOLERANCE``. The gate record (``metrics["gate"]``) says which comparator was used and
why. A champion that cannot be scored is never a reason to promote.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from adaptive.exceptions import ModelArtifactError, ModelVersionStateError, RollbackError
from adaptive.ml import metrics as kt_metrics
from adaptive.ml.artifacts import (
    ArtifactError,
    ArtifactIntegrityError,
    artifact_load,
    artifact_save,
    artifact_verify,
)
from adaptive.ml.bkt import BKTParams, bkt_fit_windows, bkt_predict_sequences
from adaptive.ml.sequences import SequenceSet
from adaptive.ml.step import sequences_replay
from adaptive.models import ModelVersion
from adaptive.services.model_export import (
    AttemptExport,
    LearnerSplit,
    attempts_export,
    learner_split,
)
from courses.models import Course

GATE_AUC_TOLERANCE = 0.005


@dataclass(frozen=True)
class GateDecision:
    """What the promotion gate decided, against what, and on what evidence."""

    promoted: bool
    reason: str
    candidate_metrics: dict[str, float]
    active_metrics: dict[str, float] | None = None
    active_version_id: int | None = None
    compared_targets: int = 0
    # {"kind": "version" | "bkt_baseline" | "none", "version_id": ..., "why": ...}
    compared_with: dict[str, Any] = field(default_factory=dict)


def model_root() -> Path:
    """Directory under which artifacts are written (``settings.PATHWISE_MODEL_ROOT``)."""
    default = Path(settings.BASE_DIR) / "var" / "models"
    return Path(getattr(settings, "PATHWISE_MODEL_ROOT", default))


def artifact_directory(version: ModelVersion) -> Path:
    """Absolute artifact directory of a version (stored relative to the model root)."""
    return version.artifact_directory


def model_version_verify(version: ModelVersion) -> None:
    """Raise :class:`ModelArtifactError` unless the version's files match its manifest hash."""
    try:
        artifact_verify(artifact_directory(version), version.manifest_sha256)
    except ArtifactIntegrityError as error:
        raise ModelArtifactError(f"model version {version.pk} artifact refused: {error}") from error
    except ArtifactError as error:
        raise ModelArtifactError(
            f"model version {version.pk} artifact unusable: {error}"
        ) from error


def _scope_versions(course: Course | None) -> QuerySet[ModelVersion]:
    if course is None:
        return ModelVersion.objects.filter(course__isnull=True)
    return ModelVersion.objects.filter(course=course)


def _scope_name(course: Course | None) -> str:
    return "global" if course is None else f"course-{course.pk}"


def finite_metrics(values: dict[str, Any]) -> dict[str, Any]:
    """JSON has no NaN: undefined numbers are stored as null (nested dicts kept)."""
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            cleaned[key] = finite_metrics(value)
        elif isinstance(value, bool | np.bool_):
            cleaned[key] = bool(value)
        elif isinstance(value, int | float | np.floating | np.integer):
            cleaned[key] = float(value) if math.isfinite(float(value)) else None
        else:
            cleaned[key] = value
    return cleaned


@transaction.atomic
def model_version_register(
    *,
    course: Course | None,
    kind: str,
    skill_vocabulary: list[int],
    problem_vocabulary: list[int],
    model: Any = None,
    bkt: BKTParams | None = None,
    hyperparameters: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    counts: dict[str, int] | None = None,
    data_cutoff: datetime | None = None,
    device: str = "",
    duration_seconds: float | None = None,
    emission: BKTParams | None = None,
) -> ModelVersion:
    """Store a trained model (Keras DKT or BKT parameters) as a new candidate version."""
    if kind not in ModelVersion.Kind.values:
        raise ModelVersionStateError(f"unknown model kind {kind!r}")
    version = ModelVersion(
        course=course,
        kind=kind,
        status=ModelVersion.Status.CANDIDATE,
        hyperparameters=hyperparameters or {},
        skill_vocabulary=list(skill_vocabulary),
        data_cutoff=data_cutoff,
        counts=counts or {},
        metrics=finite_metrics(metrics or {}),
        device=device,
        duration_seconds=duration_seconds,
    )
    version.full_clean()
    version.save()
    relative = Path(_scope_name(version.course)) / f"{version.pk:06d}-{version.kind}"
    saved = artifact_save(
        model_root() / relative,
        metadata={
            "model_version_id": version.pk,
            "course_id": version.course_id,
            "skill_vocabulary": version.skill_vocabulary,
            "problem_vocabulary": problem_vocabulary,
            "hyperparameters": version.hyperparameters,
            "metrics": version.metrics,
            "counts": version.counts,
            "data_cutoff": version.data_cutoff.isoformat() if version.data_cutoff else None,
            # Per-skill guess and slip (BKT's EM on the same training learners), with which
            # serving maps a GRU's P(correct) to P(known).
            "emission": emission.as_dict() if emission is not None else None,
        },
        model=model,
        bkt=bkt,
    )
    version.artifact_path = str(relative)
    version.artifact_sha256 = saved.sha256
    version.manifest_sha256 = saved.manifest_sha256
    version.save(update_fields=["artifact_path", "artifact_sha256", "manifest_sha256"])
    return version


@dataclass(frozen=True)
class Scored:
    """Served-regime labels and predictions of held-out attempts, with each one's learner."""

    labels: np.ndarray
    predictions: np.ndarray
    learners: np.ndarray

    def metrics(self) -> dict[str, float]:
        """Metrics summary plus a bootstrap 95% interval of the AUC over learners."""
        summary = kt_metrics.metrics_summary(self.labels, self.predictions)
        low, high = kt_metrics.auc_bootstrap(self.labels, self.predictions, self.learners)
        return {**summary, "auc_ci_low": low, "auc_ci_high": high}


def served_score(
    sequences: SequenceSet, *, bkt: BKTParams | None = None, step_weights: Any = None
) -> Scored:
    """Score sequences as serving sees them: BKT's filter or a full NumPy-step replay."""
    if bkt is not None:
        predictions = bkt_predict_sequences(bkt, sequences)
    else:
        predictions = sequences_replay(step_weights, sequences).predictions
    labels, predicted, learners = kt_metrics.served_targets(sequences, predictions)
    return Scored(labels, predicted, learners)


def _version_score(
    version: ModelVersion,
    *,
    export: AttemptExport,
    learner_ids: np.ndarray,
    allowed_skills: set[int] | None = None,
) -> Scored:
    """Served-regime score of a verified version on learners, encoded in its vocabulary."""
    try:
        artifact = artifact_load(
            artifact_directory(version), manifest_sha256=version.manifest_sha256
        )
    except ArtifactIntegrityError as error:
        raise ModelArtifactError(f"model version {version.pk} artifact refused: {error}") from error
    except ArtifactError as error:
        raise ModelArtifactError(
            f"model version {version.pk} artifact unusable: {error}"
        ) from error
    problems = artifact.metadata.get("problem_vocabulary") or []
    sequences = export.sequences(
        skill_vocabulary=[int(s) for s in version.skill_vocabulary],
        problem_vocabulary=[int(p) for p in problems],
        allowed_skills=allowed_skills,
        learner_ids=learner_ids,
    )
    return served_score(sequences, bkt=artifact.bkt, step_weights=artifact.step_weights)


def model_version_evaluate(
    *, version: ModelVersion, export: AttemptExport | None = None
) -> dict[str, float]:
    """Score a version on its scope's held-out learners (served regime; AUC with a 95% CI)."""
    export = export or attempts_export(course=version.course)
    split = learner_split(export=export)
    return _version_score(version, export=export, learner_ids=split.holdout).metrics()


def _comparator(candidate: ModelVersion) -> tuple[ModelVersion | None, str]:
    """The scope's version to beat: the active one, else the last one that verifies."""
    scope = _scope_versions(candidate.course).exclude(pk=candidate.pk)
    active = scope.filter(status=ModelVersion.Status.ACTIVE).first()
    refused: list[str] = []
    if active is not None:
        try:
            model_version_verify(active)
            return active, f"the active version {active.pk}"
        except ModelArtifactError as error:
            refused.append(error.message)
    earlier = (
        scope.filter(activated_at__isnull=False)
        .exclude(status=ModelVersion.Status.ACTIVE)
        .order_by("-activated_at", "-pk")
    )
    for version in earlier:
        try:
            model_version_verify(version)
        except ModelArtifactError as error:
            refused.append(error.message)
            continue
        return version, (
            f"the last verified version {version.pk}"
            + (f" ({'; '.join(refused)})" if refused else "")
        )
    why = "no version of this scope verifies" if refused else "no earlier version in this scope"
    return None, why + (f" ({'; '.join(refused)})" if refused else "")


def model_version_gate(
    *,
    candidate: ModelVersion,
    export: AttemptExport,
    holdout_learner_ids: np.ndarray,
    split: LearnerSplit | None = None,
) -> GateDecision:
    """Promote the candidate or reject it, comparing it with the scope's champion (see module).

    Both are scored on the same held-out learners and the same attempts (those with a skill both
    vocabularies know). ``split`` gives the training learners for the BKT baseline (default:
    the export's own split).
    """
    if candidate.status != ModelVersion.Status.CANDIDATE:
        raise ModelVersionStateError(
            f"model version {candidate.pk} is {candidate.status}, not a candidate"
        )
    comparator, why = _comparator(candidate)
    shared = {int(s) for s in candidate.skill_vocabulary}
    if comparator is not None:
        shared &= {int(s) for s in comparator.skill_vocabulary}
    scored = _version_score(
        candidate, export=export, learner_ids=holdout_learner_ids, allowed_skills=shared
    )
    candidate_metrics = scored.metrics()

    def decide(
        promoted: bool,
        reason: str,
        compared_with: dict[str, Any],
        comparator_metrics: dict | None = None,
    ) -> GateDecision:
        return GateDecision(
            promoted,
            reason,
            candidate_metrics,
            comparator_metrics,
            comparator.pk if comparator is not None else None,
            len(scored.labels),
            compared_with,
        )

    if not np.isfinite(scored.predictions).all():
        decision = decide(False, "outputs are not all finite", {"kind": "none", "why": why})
    elif math.isnan(candidate_metrics["auc"]):
        decision = decide(
            False,
            "AUC is undefined on the held-out learners (one class only)",
            {"kind": "none", "why": why},
        )
    else:
        if comparator is not None:
            baseline = _version_score(
                comparator, export=export, learner_ids=holdout_learner_ids, allowed_skills=shared
            )
            label = f"version {comparator.pk}"
            compared_with = {"kind": "version", "version_id": comparator.pk, "why": why}
        else:
            baseline = _bkt_baseline_score(
                candidate, export=export, split=split or learner_split(export=export)
            )
            label = "a BKT fitted on the same training learners"
            compared_with = {"kind": "bkt_baseline", "version_id": None, "why": why}
        if not np.array_equal(baseline.labels, scored.labels):
            raise ModelVersionStateError("candidate and comparator were scored on other targets")
        baseline_metrics = baseline.metrics()
        baseline_auc = baseline_metrics["auc"] if math.isfinite(baseline_metrics["auc"]) else -1.0
        promoted = candidate_metrics["auc"] >= baseline_auc - GATE_AUC_TOLERANCE
        comparison = (
            f"AUC {candidate_metrics['auc']:.4f} vs {label} AUC {baseline_metrics['auc']:.4f} "
            f"(tolerance {GATE_AUC_TOLERANCE}; compared with {why})"
        )
        reason = comparison if promoted else f"below the comparator: {comparison}"
        decision = decide(promoted, reason, compared_with, baseline_metrics)
    _gate_record(candidate, decision)
    return decision


def _bkt_baseline_score(
    candidate: ModelVersion, *, export: AttemptExport, split: LearnerSplit
) -> Scored:
    vocabulary = [int(s) for s in candidate.skill_vocabulary]
    train = export.sequences(skill_vocabulary=vocabulary, learner_ids=split.train)
    params = bkt_fit_windows(train)
    holdout = export.sequences(skill_vocabulary=vocabulary, learner_ids=split.holdout)
    return served_score(holdout, bkt=params)


@transaction.atomic
def _gate_record(candidate: ModelVersion, decision: GateDecision) -> None:
    candidate.metrics = {
        **(candidate.metrics or {}),
        "gate": {
            "candidate": finite_metrics(decision.candidate_metrics),
            "active": finite_metrics(decision.active_metrics) if decision.active_metrics else None,
            "active_version_id": decision.active_version_id,
            "compared_with": decision.compared_with,
            "targets": decision.compared_targets,
            "reason": decision.reason,
        },
    }
    candidate.save(update_fields=["metrics"])
    if decision.promoted:
        model_version_activate(version=candidate)
    else:
        candidate.status = ModelVersion.Status.REJECTED
        candidate.rejection_reason = decision.reason
        candidate.save(update_fields=["status", "rejection_reason"])


@transaction.atomic
def model_version_activate(*, version: ModelVersion, allow_rejected: bool = False) -> ModelVersion:
    """Make a version the active one of its scope and retire the previous one, atomically."""
    # Lock the scope's rows so two activations cannot both see "no other active version".
    scope = list(_scope_versions(version.course).select_for_update().order_by("pk"))
    current = next((v for v in scope if v.pk == version.pk), None)
    if current is None:
        raise ModelVersionStateError(f"model version {version.pk} does not exist")
    allowed = {ModelVersion.Status.CANDIDATE, ModelVersion.Status.RETIRED}
    if allow_rejected:
        allowed.add(ModelVersion.Status.REJECTED)
    if current.status == ModelVersion.Status.ACTIVE:
        return current
    if current.status not in allowed:
        raise ModelVersionStateError(
            f"model version {version.pk} is {current.status} and cannot be activated"
        )
    model_version_verify(current)
    now = timezone.now()
    for other in scope:
        if other.status == ModelVersion.Status.ACTIVE:
            other.status = ModelVersion.Status.RETIRED
            other.save(update_fields=["status"])
    current.status = ModelVersion.Status.ACTIVE
    current.activated_at = now
    current.rejection_reason = ""
    current.save(update_fields=["status", "activated_at", "rejection_reason"])
    version.refresh_from_db()
    return current


@transaction.atomic
def model_version_rollback(*, course: Course | None) -> ModelVersion:
    """Reactivate the scope's previously active version; the current one becomes rejected.

    Marking the rolled-back version rejected (not retired) means a second rollback walks further
    back instead of toggling between the same two versions.
    """
    scope = _scope_versions(course).select_for_update()
    current = scope.filter(status=ModelVersion.Status.ACTIVE).first()
    previous = (
        scope.filter(status=ModelVersion.Status.RETIRED, activated_at__isnull=False)
        .order_by("-activated_at", "-pk")
        .first()
    )
    if previous is None:
        label = "global scope" if course is None else f"scope of course {course.slug}"
        raise RollbackError(f"no earlier model version to roll back to in the {label}")
    if current is not None:
        current.status = ModelVersion.Status.REJECTED
        current.rejection_reason = f"rolled back on {timezone.now().isoformat(timespec='seconds')}"
        current.save(update_fields=["status", "rejection_reason"])
    return model_version_activate(version=previous)
