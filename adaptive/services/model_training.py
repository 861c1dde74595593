"""Train a scope's knowledge-tracing model: the one module of the services that touches Keras.

Imported by the ``ml`` Celery task (``adaptive.ml_tasks``, when a training starts) and the
management commands only, never by web code (an import-linter contract forbids it), so importing
TensorFlow at module level here is fine.

:func:`model_version_train` exports the scope's attempts, splits learners (train / validation /
held out, stable by a hash of the id), trains the candidates and keeps the best by validation
AUC in the served regime, registers it and lets :func:`model_versions.model_version_gate`
decide. For ``kind="gru"`` the candidates are the skills-only GRU, the problem-aware GRU and
BKT (``variant`` can pin one GRU); the choice, every candidate's validation AUC and why are
recorded in the version's hyperparameters and metrics (``selection``) and in the run's log.
Training stops by early stopping; ``epochs`` is a ceiling.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from adaptive.exceptions import ModelVersionStateError, TrainingDataError
from adaptive.ml import metrics as kt_metrics
from adaptive.ml.bkt import BKTParams, bkt_fit_windows, bkt_predict_sequences
from adaptive.ml.inference import windows_predict
from adaptive.ml.sequences import SequenceSet, sequences_subset, windows_build
from adaptive.ml.step import step_weights_export
from adaptive.ml.training import TrainConfig, TrainResult, device_resolve, dkt_train, served_auc
from adaptive.models import ModelVersion, TrainingRun
from adaptive.services.model_export import attempts_export, learner_split
from adaptive.services.model_versions import (
    finite_metrics,
    model_version_gate,
    model_version_register,
    served_score,
)
from courses.models import Course

DEFAULT_GRU_EPOCHS = 50  # a ceiling: early stopping on the validation AUC ends training first
VARIANTS = ("auto", "skills", "problems")
# Product defaults on top of TrainConfig's: the DKT+ regularisers (Yeung & Yeung's ASSIST2009
# weights), which the bench chose on validation learners of ASSIST2009 and of the demo course and
# which cost no AUC there while halving the waviness (see docs/knowledge-tracing.md).
PRODUCT_HYPERPARAMETERS: dict[str, Any] = {
    "reconstruction": 0.1,
    "waviness_l1": 0.003,
    "waviness_l2": 3.0,
}

ProgressCallback = Callable[[str, dict[str, Any]], None]


@dataclass
class _Candidate:
    name: str
    kind: str
    validation_auc: float
    model: Any = None
    bkt: BKTParams | None = None
    config: dict[str, Any] | None = None
    result: TrainResult | None = None


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


def _require_usable(sequences: SequenceSet, name: str) -> None:
    labels, _predictions, _learners = kt_metrics.served_targets(
        sequences, np.zeros(sequences.n_attempts)
    )
    if labels.size == 0 or labels.min() == labels.max():
        raise TrainingDataError(
            f"not enough data: the {name} learners have {labels.size} scored attempts "
            "and need both correct and incorrect answers"
        )


def _auc_or_nan(value: float) -> float:
    return float(value) if math.isfinite(value) else float("nan")


def model_version_train(
    *,
    run: TrainingRun | None = None,
    course: Course | None = None,
    kind: str = ModelVersion.Kind.GRU,
    variant: str = "auto",
    epochs: int | None = None,
    learning_rate: float | None = None,
    device: str = "auto",
    trigger: str = TrainingRun.Trigger.MANUAL,
    requested_by: Any = None,
    hyperparameters: dict[str, Any] | None = None,
    on_progress: ProgressCallback | None = None,
) -> TrainingRun:
    """Export, train (choosing the best candidate), register the model and run the gate.

    Pass a queued ``run`` (its course and kind are used) or ``course``/``kind`` to start a new
    one. Returns the finished run; ``run.model_version`` is the new version (active or
    rejected). A failure marks the run failed (and a half-made version rejected) and re-raises,
    so the active version is never touched by a failed run.
    """
    if run is not None:
        course, kind = run.course, run.kind
    if kind not in ModelVersion.Kind.values:
        raise ModelVersionStateError(f"unknown model kind {kind!r}")
    if variant not in VARIANTS:
        raise ModelVersionStateError(f"unknown GRU variant {variant!r}; use {', '.join(VARIANTS)}")
    if epochs is not None and epochs < 1:
        raise TrainingDataError("epochs must be at least 1")
    if learning_rate is not None and not (0 < learning_rate < 1):
        raise TrainingDataError("the learning rate must be between 0 and 1")
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
        subsets = {
            "train": sequences_subset(sequences, split.train),
            "validation": sequences_subset(sequences, split.validation),
            "holdout": sequences_subset(sequences, split.holdout),
        }
        for name in ("train", "holdout"):
            _require_usable(subsets[name], name)
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
        # The subsets are copies: drop the whole-scope sequences before the trainer allocates.
        del sequences
        timings["export_seconds"] = time.perf_counter() - started
        _progress(run, on_progress, "train", counts=counts)
        train_started = time.perf_counter()
        # Windows as spans of the training sequences: memory bounded by one batch of attempts.
        bkt_params = bkt_fit_windows(subsets["train"])
        bkt_candidate = _Candidate(
            "bkt",
            ModelVersion.Kind.BKT,
            _validation_auc_bkt(bkt_params, subsets["validation"]),
            bkt=bkt_params,
        )
        candidates = [bkt_candidate]
        used_device = "cpu"
        if kind == ModelVersion.Kind.GRU:
            used_device = device_resolve(device)
            options = {
                **PRODUCT_HYPERPARAMETERS,
                "epochs": epochs or DEFAULT_GRU_EPOCHS,
                "device": used_device,
                **({"learning_rate": learning_rate} if learning_rate is not None else {}),
                **(hyperparameters or {}),
            }
            names = {"skills": ["skills"], "problems": ["problems"]}.get(
                variant, ["skills", "problems"]
            )
            for name in names:
                candidates.append(
                    _gru_candidate(
                        run,
                        name,
                        subsets,
                        {**options, "use_problems": name == "problems"},
                        on_progress,
                    )
                )
        chosen, selection = _select(candidates, kind=kind, variant=variant)
        timings["train_seconds"] = time.perf_counter() - train_started
        _progress(run, on_progress, "selected", **selection)
        holdout = served_score(
            subsets["holdout"],
            bkt=chosen.bkt,
            step_weights=step_weights_export(chosen.model) if chosen.model is not None else None,
        )
        holdout_metrics: dict[str, Any] = holdout.metrics()
        if chosen.model is not None:
            windows = windows_build(subsets["holdout"])
            holdout_metrics["windowed_auc"] = kt_metrics.auc(
                *kt_metrics.flatten_targets(windows.labels, windows_predict(chosen.model, windows))
            )
        holdout_metrics["selection"] = selection
        parameters = {
            **(chosen.config or {"max_guess": 0.4, "max_slip": 0.4}),
            "selection": selection,
        }
        if chosen.result is not None:
            parameters["best_epoch"] = chosen.result.best_epoch
            parameters["epochs_run"] = len(chosen.result.history)
        with transaction.atomic():
            version = model_version_register(
                course=course,
                kind=chosen.kind,
                skill_vocabulary=export.skill_vocabulary,
                problem_vocabulary=export.problem_vocabulary,
                model=chosen.model,
                bkt=chosen.bkt,
                hyperparameters=finite_metrics(parameters),
                metrics=holdout_metrics,
                counts=counts,
                data_cutoff=export.data_cutoff,
                device=used_device if chosen.model is not None else "cpu",
                duration_seconds=timings["train_seconds"],
                emission=bkt_params if chosen.model is not None else None,
            )
            _run_update(run, model_version=version)
        _progress(run, on_progress, "gate", metrics=finite_metrics(holdout_metrics))
        gate_started = time.perf_counter()
        decision = model_version_gate(
            candidate=version, export=export, holdout_learner_ids=split.holdout, split=split
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


def _validation_auc_bkt(params: BKTParams, validation: SequenceSet) -> float:
    if not validation.n_learners:
        return float("nan")
    labels, predictions, _learners = kt_metrics.served_targets(
        validation, bkt_predict_sequences(params, validation)
    )
    return _auc_or_nan(kt_metrics.auc(labels, predictions))


def _gru_candidate(
    run: TrainingRun,
    name: str,
    subsets: dict[str, SequenceSet],
    options: dict[str, Any],
    on_progress: ProgressCallback | None,
) -> _Candidate:
    config = TrainConfig(**options)

    def on_epoch(epoch: int, logs: dict[str, float]) -> None:
        _progress(
            run,
            on_progress,
            "epoch",
            candidate=f"gru_{name}",
            epoch=epoch,
            epochs=config.epochs,
            **finite_metrics(logs),
        )

    validation = subsets["validation"] if subsets["validation"].n_learners else None
    result = dkt_train(subsets["train"], validation, config=config, on_epoch=on_epoch)
    validation_auc = (
        served_auc(result.model, subsets["validation"]) if validation is not None else math.nan
    )
    return _Candidate(
        f"gru_{name}",
        ModelVersion.Kind.GRU,
        _auc_or_nan(validation_auc),
        model=result.model,
        config=config.as_dict(),
        result=result,
    )


def _select(
    candidates: list[_Candidate], *, kind: str, variant: str
) -> tuple[_Candidate, dict[str, Any]]:
    """The candidate with the best validation AUC; the first GRU asked for when none is defined.

    A BKT request trains BKT only. Ties go to the simpler model (listed first: BKT, then the
    skills-only GRU), which is also what serves best with little data.
    """
    scores = {
        c.name: (None if math.isnan(c.validation_auc) else c.validation_auc) for c in candidates
    }
    defined = [c for c in candidates if not math.isnan(c.validation_auc)]
    if kind == ModelVersion.Kind.BKT:
        chosen, reason = candidates[0], "BKT was requested"
    elif not defined:
        chosen = candidates[1] if len(candidates) > 1 else candidates[0]
        reason = "validation AUC undefined (too few or one-class validation learners)"
    else:
        chosen = max(defined, key=lambda c: c.validation_auc)
        others = ", ".join(f"{c.name} {c.validation_auc:.4f}" for c in defined if c is not chosen)
        reason = f"best validation AUC {chosen.validation_auc:.4f}" + (
            f" (vs {others})" if others else ""
        )
    return chosen, {
        "chosen": chosen.name,
        "reason": reason,
        "validation_auc": scores,
        "variant": variant,
    }
