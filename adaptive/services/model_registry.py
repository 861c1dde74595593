"""The model registry: export attempts, train, register, evaluate, gate, activate, roll back.

A scope is a course, or the whole platform (``course=None``, the global model). At most one
model version per scope is active (a database constraint). A new candidate is promoted only by
:func:`model_version_gate`: the candidate and the active version are scored on the same
held-out learners, over the skills both know, and the candidate wins only if all its outputs are
finite and its AUC >= the active AUC - ``GATE_AUC_TOLERANCE``; otherwise it is ``rejected`` with
the reason.

TensorFlow is never imported at module level: the web process imports this module. Only the
functions that train or score a GRU import ``adaptive.ml.training`` / ``adaptive.ml.inference``,
inside the function, which is the one sanctioned exception to the no-local-imports rule.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from adaptive.exceptions import (
    ModelArtifactError,
    ModelVersionStateError,
    RollbackError,
    TrainingDataError,
)
from adaptive.ml import metrics as kt_metrics
from adaptive.ml.artifacts import (
    ArtifactError,
    ArtifactIntegrityError,
    artifact_load,
    artifact_save,
    artifact_verify,
)
from adaptive.ml.bkt import BKTParams, bkt_fit, bkt_predict_windows
from adaptive.ml.sequences import (
    SequenceSet,
    Windows,
    learners_hash_split,
    sequences_build,
    sequences_subset,
    windows_build,
)
from adaptive.models import ModelVersion, TrainingRun
from courses.models import Course, Exercise, Skill
from learners.models import Attempt

GATE_AUC_TOLERANCE = 0.005
# train / validation / held-out learners; by a hash of the user id, so a learner held out today
# was held out from every earlier model too and the champion is never judged on its own training.
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
SPLIT_SALT = "pathwise-kt-v1"
DEFAULT_GRU_EPOCHS = 20

ProgressCallback = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class AttemptExport:
    """A scope's attempts as arrays, ordered by (user, created_at, id), plus its vocabularies.

    ``skill_ids`` holds each attempt's skill ids (database ids, possibly empty).
    """

    attempt_ids: np.ndarray
    user_ids: np.ndarray
    exercise_ids: np.ndarray
    correct: np.ndarray
    skill_ids: list[tuple[int, ...]]
    skill_vocabulary: list[int]
    problem_vocabulary: list[int]
    data_cutoff: datetime | None

    @property
    def n_attempts(self) -> int:
        """Number of exported attempts."""
        return len(self.attempt_ids)

    def sequences(
        self,
        *,
        skill_vocabulary: list[int] | None = None,
        problem_vocabulary: list[int] | None = None,
        allowed_skills: set[int] | None = None,
        learner_ids: Iterable[int] | None = None,
    ) -> SequenceSet:
        """Encode the attempts with a model's vocabularies (default: this export's).

        Skills outside ``allowed_skills`` (or the vocabulary) are left out of an attempt; an
        attempt left without a skill is dropped and counted (see ``adaptive.ml.sequences``).
        Exercises outside ``problem_vocabulary`` get problem id 0 (unknown).
        """
        vocabulary = self.skill_vocabulary if skill_vocabulary is None else skill_vocabulary
        problems = self.problem_vocabulary if problem_vocabulary is None else problem_vocabulary
        skill_index = {skill: index for index, skill in enumerate(vocabulary)}
        if allowed_skills is not None:
            skill_index = {s: i for s, i in skill_index.items() if s in allowed_skills}
        problem_index = {exercise: index + 1 for index, exercise in enumerate(problems)}
        rows = np.arange(self.n_attempts)
        if learner_ids is not None:
            rows = rows[np.isin(self.user_ids, np.fromiter(learner_ids, dtype=np.int64))]
        return sequences_build(
            learners=self.user_ids[rows],
            times=rows,
            skills=[[skill_index[s] for s in self.skill_ids[r] if s in skill_index] for r in rows],
            correct=self.correct[rows],
            n_skills=len(vocabulary),
            problems=np.array(
                [problem_index.get(int(e), 0) for e in self.exercise_ids[rows]], dtype=np.int64
            ),
            n_problems=max(len(problems), 1),
        )


@dataclass(frozen=True)
class LearnerSplit:
    """Learner ids for training, early stopping and the promotion gate; pairwise disjoint."""

    train: np.ndarray
    validation: np.ndarray
    holdout: np.ndarray


@dataclass(frozen=True)
class GateDecision:
    """What the promotion gate decided and on what evidence."""

    promoted: bool
    reason: str
    candidate_metrics: dict[str, float]
    active_metrics: dict[str, float] | None = None
    active_version_id: int | None = None
    compared_targets: int = 0


def model_root() -> Path:
    """Directory under which artifacts are written (``settings.PATHWISE_MODEL_ROOT``)."""
    default = Path(settings.BASE_DIR) / "var" / "models"
    return Path(getattr(settings, "PATHWISE_MODEL_ROOT", default))


def artifact_directory(version: ModelVersion) -> Path:
    """Absolute artifact directory of a version (stored relative to the model root)."""
    return version.artifact_directory


def attempts_export(*, course: Course | None, until: datetime | None = None) -> AttemptExport:
    """Read a scope's attempts as arrays, streaming tuples (no ORM object per row)."""
    attempts = Attempt.objects.all() if course is None else Attempt.objects.filter(course=course)
    if until is not None:
        attempts = attempts.filter(created_at__lte=until)
    skills = Skill.objects.all() if course is None else Skill.objects.filter(course=course)
    skill_vocabulary = list(skills.order_by("pk").values_list("pk", flat=True))
    links = Exercise.skills.through.objects.all()
    if course is not None:
        links = links.filter(exercise__course=course)
    skills_of: dict[int, list[int]] = defaultdict(list)
    for exercise_id, skill_id in links.order_by("skill_id").values_list("exercise_id", "skill_id"):
        skills_of[exercise_id].append(skill_id)

    attempt_ids: list[int] = []
    user_ids: list[int] = []
    exercise_ids: list[int] = []
    correct: list[int] = []
    data_cutoff: datetime | None = None
    rows = attempts.order_by("user_id", "created_at", "id").values_list(
        "id", "user_id", "exercise_id", "is_correct", "created_at"
    )
    for attempt_id, user_id, exercise_id, is_correct, created_at in rows.iterator(chunk_size=20000):
        attempt_ids.append(attempt_id)
        user_ids.append(user_id)
        exercise_ids.append(exercise_id)
        correct.append(int(is_correct))
        if data_cutoff is None or created_at > data_cutoff:
            data_cutoff = created_at
    exercise_array = np.asarray(exercise_ids, dtype=np.int64)
    return AttemptExport(
        attempt_ids=np.asarray(attempt_ids, dtype=np.int64),
        user_ids=np.asarray(user_ids, dtype=np.int64),
        exercise_ids=exercise_array,
        correct=np.asarray(correct, dtype=np.int8),
        skill_ids=[tuple(skills_of.get(int(e), ())) for e in exercise_array],
        skill_vocabulary=skill_vocabulary,
        problem_vocabulary=sorted({int(e) for e in exercise_array}),
        data_cutoff=data_cutoff,
    )


def learner_split(*, export: AttemptExport) -> LearnerSplit:
    """Split the export's learners into train / validation / held-out groups (stable by id)."""
    train, validation, holdout = learners_hash_split(
        export.user_ids, fractions=SPLIT_FRACTIONS, salt=SPLIT_SALT
    )
    return LearnerSplit(train=train, validation=validation, holdout=holdout)


def _windows(sequences: SequenceSet, learner_ids: np.ndarray) -> Windows:
    return windows_build(sequences_subset(sequences, learner_ids))


def _scope_versions(course: Course | None) -> QuerySet[ModelVersion]:
    if course is None:
        return ModelVersion.objects.filter(course__isnull=True)
    return ModelVersion.objects.filter(course=course)


def _scope_name(course: Course | None) -> str:
    return "global" if course is None else f"course-{course.pk}"


def _finite_metrics(values: dict[str, float]) -> dict[str, float | None]:
    """JSON has no NaN: undefined metrics are stored as null."""
    return {k: (float(v) if math.isfinite(float(v)) else None) for k, v in values.items()}


def _version_artifact_write(
    version: ModelVersion,
    *,
    model: Any = None,
    bkt: BKTParams | None = None,
    emission: BKTParams | None = None,
    problem_vocabulary: list[int],
) -> None:
    relative = Path(_scope_name(version.course)) / f"{version.pk:06d}-{version.kind}"
    written = artifact_save(
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
            # serving maps a GRU's P(correct) to P(known); see
            # adaptive.services.knowledge_state.Runtime.
            "emission": emission.as_dict() if emission is not None else None,
        },
        model=model,
        bkt=bkt,
    )
    version.artifact_path = str(relative)
    version.artifact_sha256 = written["sha256"]


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
    metrics: dict[str, float] | None = None,
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
        metrics=_finite_metrics(metrics or {}),
        device=device,
        duration_seconds=duration_seconds,
    )
    version.full_clean()
    version.save()
    _version_artifact_write(
        version, model=model, bkt=bkt, emission=emission, problem_vocabulary=problem_vocabulary
    )
    version.save(update_fields=["artifact_path", "artifact_sha256"])
    return version


def _version_predict(
    version: ModelVersion,
    *,
    export: AttemptExport,
    learner_ids: np.ndarray,
    allowed_skills: set[int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Labels and predictions of a version on learners' windows, encoded in its vocabulary."""
    try:
        if version.kind == ModelVersion.Kind.BKT:
            artifact = artifact_load(
                artifact_directory(version), expected_sha256=version.artifact_sha256 or None
            )
        else:
            # TensorFlow only where a GRU is scored (the ml worker, commands, tests).
            from adaptive.ml.inference import artifact_load_model

            artifact = artifact_load_model(
                artifact_directory(version), expected_sha256=version.artifact_sha256 or None
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
    windows = windows_build(sequences)
    if artifact.bkt is not None:
        predictions = bkt_predict_windows(artifact.bkt, windows)
    else:
        # TensorFlow only in the process that scores a GRU (the ml worker, a command).
        from adaptive.ml.inference import windows_predict

        predictions = windows_predict(artifact.model, windows)
    return kt_metrics.flatten_targets(windows.labels, predictions)


def model_version_evaluate(
    *, version: ModelVersion, export: AttemptExport | None = None
) -> dict[str, float]:
    """Score a version on its scope's held-out learners (AUC, ACC, RMSE, BCE, ECE...)."""
    export = export or attempts_export(course=version.course)
    split = learner_split(export=export)
    labels, predictions = _version_predict(version, export=export, learner_ids=split.holdout)
    return kt_metrics.metrics_summary(labels, predictions)


def _require_usable(windows: Windows, name: str) -> None:
    labels = windows.labels[windows.labels >= 0]
    if labels.size == 0 or labels.min() == labels.max():
        raise TrainingDataError(
            f"not enough data: the {name} learners have {labels.size} scored attempts "
            "and need both correct and incorrect answers"
        )


def model_version_gate(
    *, candidate: ModelVersion, export: AttemptExport, holdout_learner_ids: np.ndarray
) -> GateDecision:
    """Promote the candidate or reject it, comparing it with the scope's active version.

    Both are scored on the same held-out learners and the same attempts (those with a skill both
    vocabularies know). Promotion needs finite outputs and AUC >= active AUC - 0.005.
    """
    if candidate.status != ModelVersion.Status.CANDIDATE:
        raise ModelVersionStateError(
            f"model version {candidate.pk} is {candidate.status}, not a candidate"
        )
    active = _scope_versions(candidate.course).filter(status=ModelVersion.Status.ACTIVE).first()
    shared = {int(s) for s in candidate.skill_vocabulary}
    if active is not None:
        shared &= {int(s) for s in active.skill_vocabulary}
    labels, predictions = _version_predict(
        candidate, export=export, learner_ids=holdout_learner_ids, allowed_skills=shared
    )
    candidate_metrics = kt_metrics.metrics_summary(labels, predictions)
    active_id = active.pk if active is not None else None

    def decide(promoted: bool, reason: str, active_metrics: dict | None = None) -> GateDecision:
        return GateDecision(
            promoted, reason, candidate_metrics, active_metrics, active_id, len(labels)
        )

    if not np.isfinite(predictions).all():
        decision = decide(False, "outputs are not all finite")
    elif math.isnan(candidate_metrics["auc"]):
        decision = decide(False, "AUC is undefined on the held-out learners (one class only)")
    elif active is None:
        decision = decide(True, "no active model in this scope")
    else:
        try:
            active_labels, active_predictions = _version_predict(
                active, export=export, learner_ids=holdout_learner_ids, allowed_skills=shared
            )
        except ModelArtifactError as error:
            decision = decide(True, f"the active version cannot be scored ({error.message})")
        else:
            if not np.array_equal(active_labels, labels):
                raise ModelVersionStateError("candidate and active were scored on other targets")
            active_metrics = kt_metrics.metrics_summary(active_labels, active_predictions)
            active_auc = active_metrics["auc"] if math.isfinite(active_metrics["auc"]) else -1.0
            promoted = candidate_metrics["auc"] >= active_auc - GATE_AUC_TOLERANCE
            comparison = (
                f"AUC {candidate_metrics['auc']:.4f} vs active version {active.pk} "
                f"AUC {active_metrics['auc']:.4f} (tolerance {GATE_AUC_TOLERANCE})"
            )
            reason = comparison if promoted else f"below the active model: {comparison}"
            decision = decide(promoted, reason, active_metrics)
    _gate_record(candidate, decision)
    return decision


@transaction.atomic
def _gate_record(candidate: ModelVersion, decision: GateDecision) -> None:
    candidate.metrics = {
        **(candidate.metrics or {}),
        "gate": {
            "candidate": _finite_metrics(decision.candidate_metrics),
            "active": _finite_metrics(decision.active_metrics) if decision.active_metrics else None,
            "active_version_id": decision.active_version_id,
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
    try:
        artifact_verify(
            artifact_directory(current), expected_sha256=current.artifact_sha256 or None
        )
    except ArtifactError as error:
        raise ModelArtifactError(f"model version {version.pk} artifact refused: {error}") from error
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


def _run_update(run: TrainingRun, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(run, name, value)
    run.save(update_fields=list(fields))


def _progress(
    run: TrainingRun, on_progress: ProgressCallback | None, stage: str, **info: Any
) -> None:
    run.progress = {"stage": stage, **info}
    run.log = (run.log + f"{timezone.now().isoformat(timespec='seconds')} {stage} {info}\n")[
        -20000:
    ]
    run.save(update_fields=["progress", "log"])
    if on_progress is not None:
        on_progress(stage, info)


def model_version_train(
    *,
    run: TrainingRun | None = None,
    course: Course | None = None,
    kind: str = ModelVersion.Kind.GRU,
    epochs: int | None = None,
    device: str = "auto",
    trigger: str = TrainingRun.Trigger.MANUAL,
    requested_by: Any = None,
    hyperparameters: dict[str, Any] | None = None,
    on_progress: ProgressCallback | None = None,
) -> TrainingRun:
    """Export, train a GRU or BKT on the scope's attempts, register it and run the gate.

    Pass a queued ``run`` (its course and kind are used) or ``course``/``kind`` to start a new
    one. Returns the finished run; ``run.model_version`` is the new version (active or
    rejected). A failure marks the run failed (and a half-made version rejected) and re-raises,
    so the active version is never touched by a failed run.
    """
    if run is not None:
        course, kind = run.course, run.kind
    if kind not in ModelVersion.Kind.values:
        raise ModelVersionStateError(f"unknown model kind {kind!r}")
    if epochs is not None and epochs < 1:
        raise TrainingDataError("epochs must be at least 1")
    started = time.perf_counter()
    if run is None:
        run = TrainingRun.objects.create(
            course=course,
            kind=kind,
            trigger=trigger,
            status=TrainingRun.Status.RUNNING,
            requested_by=requested_by,
            started_at=timezone.now(),
        )
    else:
        _run_update(
            run, status=TrainingRun.Status.RUNNING, started_at=timezone.now(), error="", outcome=""
        )
    timings: dict[str, float] = {}
    version: ModelVersion | None = None
    try:
        _progress(run, on_progress, "export")
        export = attempts_export(course=course)
        split = learner_split(export=export)
        sequences = export.sequences()
        windows = {
            "train": _windows(sequences, split.train),
            "validation": _windows(sequences, split.validation),
            "holdout": _windows(sequences, split.holdout),
        }
        for name in ("train", "holdout"):
            _require_usable(windows[name], name)
        counts = {
            "attempts": export.n_attempts,
            "learners": int(sequences.n_learners),
            "train_learners": len(split.train),
            "validation_learners": len(split.validation),
            "holdout_learners": len(split.holdout),
            "skills": len(export.skill_vocabulary),
            "problems": len(export.problem_vocabulary),
            **{
                f"cleaning_{k}": v
                for k, v in (sequences.report.as_dict() if sequences.report else {}).items()
            },
        }
        timings["export_seconds"] = time.perf_counter() - started
        _progress(run, on_progress, "train", counts=counts)
        train_started = time.perf_counter()
        if kind == ModelVersion.Kind.BKT:
            params = bkt_fit(windows["train"])
            emission = None
            model, used_device, parameters = None, "cpu", {"max_guess": 0.4, "max_slip": 0.4}
            holdout_predictions = bkt_predict_windows(params, windows["holdout"])
        else:
            model, used_device, parameters, holdout_predictions = _gru_train(
                run, windows, epochs, device, hyperparameters, on_progress
            )
            params = None
            emission = bkt_fit(windows["train"])
        timings["train_seconds"] = time.perf_counter() - train_started
        holdout_metrics = kt_metrics.metrics_summary(
            *kt_metrics.flatten_targets(windows["holdout"].labels, holdout_predictions)
        )
        with transaction.atomic():
            version = model_version_register(
                course=course,
                kind=kind,
                skill_vocabulary=export.skill_vocabulary,
                problem_vocabulary=export.problem_vocabulary,
                model=model,
                bkt=params,
                hyperparameters=parameters,
                metrics=holdout_metrics,
                counts=counts,
                data_cutoff=export.data_cutoff,
                device=used_device,
                duration_seconds=timings["train_seconds"],
                emission=emission,
            )
            _run_update(run, model_version=version)
        _progress(run, on_progress, "gate", metrics=_finite_metrics(holdout_metrics))
        gate_started = time.perf_counter()
        decision = model_version_gate(
            candidate=version, export=export, holdout_learner_ids=split.holdout
        )
        timings["gate_seconds"] = time.perf_counter() - gate_started
        timings["total_seconds"] = time.perf_counter() - started
        _progress(run, on_progress, "done", promoted=decision.promoted, reason=decision.reason)
        _run_update(
            run,
            status=TrainingRun.Status.SUCCEEDED,
            outcome="promoted" if decision.promoted else "rejected",
            timings=timings,
            finished_at=timezone.now(),
        )
    # Bookkeeping only: the error is re-raised unchanged after the run is marked failed.
    except Exception as error:
        if version is not None and version.status == ModelVersion.Status.CANDIDATE:
            version.status = ModelVersion.Status.REJECTED
            version.rejection_reason = f"training run {run.pk} failed: {error}"
            version.save(update_fields=["status", "rejection_reason"])
        timings["total_seconds"] = time.perf_counter() - started
        _run_update(
            run,
            status=TrainingRun.Status.FAILED,
            outcome="failed",
            error=f"{type(error).__name__}: {error}",
            timings=timings,
            finished_at=timezone.now(),
        )
        raise
    run.refresh_from_db()
    return run


def _gru_train(
    run: TrainingRun,
    windows: dict[str, Windows],
    epochs: int | None,
    device: str,
    hyperparameters: dict[str, Any] | None,
    on_progress: ProgressCallback | None,
) -> tuple[Any, str, dict[str, Any], np.ndarray]:
    # TensorFlow only in the process that trains (the ml worker or the train_model command).
    from adaptive.ml.inference import windows_predict
    from adaptive.ml.training import TrainConfig, device_resolve, dkt_train

    used_device = device_resolve(device)
    options = {
        "epochs": epochs or DEFAULT_GRU_EPOCHS,
        "device": used_device,
        **(hyperparameters or {}),
    }
    config = TrainConfig(**options)
    total = config.epochs

    def on_epoch(epoch: int, logs: dict[str, float]) -> None:
        _progress(run, on_progress, "epoch", epoch=epoch, epochs=total, **_finite_metrics(logs))

    result = dkt_train(windows["train"], windows["validation"], config=config, on_epoch=on_epoch)
    parameters = {**config.as_dict(), "best_epoch": result.best_epoch}
    return (
        result.model,
        result.device,
        parameters,
        windows_predict(result.model, windows["holdout"]),
    )
