"""Tasks of the `ml` queue: the GPU worker runs them one at a time (concurrency 1).

TensorFlow is imported only inside the training functions that these tasks call, never at
module level, so the worker's prefork parent (and the web process) never loads it.
"""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from adaptive.models import ModelVersion, TrainingRun
from adaptive.services.model_training import model_version_train
from adaptive.services.retraining import paths_refresh_for_scope, retrain_lock
from adaptive.tasks import learner_state_update_task

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
FINISHED = (TrainingRun.Status.SUCCEEDED, TrainingRun.Status.FAILED, TrainingRun.Status.SKIPPED)


def _run_save(run: TrainingRun, **fields: object) -> None:
    for name, value in fields.items():
        setattr(run, name, value)
    run.save(update_fields=list(fields))


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def model_retrain_task(
    self,
    *,
    training_run_id: int | None = None,
    course_id: int | None = None,
    trigger: str = TrainingRun.Trigger.SCHEDULE,
    kind: str = ModelVersion.Kind.GRU,
    epochs: int | None = None,
) -> dict:
    """Train, gate and (if promoted) refresh every path of one scope; one per scope at a time."""
    if training_run_id is None:
        run = TrainingRun.objects.create(
            course_id=course_id, kind=kind, trigger=trigger, progress={"stage": "queued"}
        )
    else:
        found = TrainingRun.objects.filter(pk=training_run_id).first()
        if found is None:
            logger.info("training run %s no longer exists; nothing to do", training_run_id)
            return {"status": "missing"}
        run = found
        if run.status in FINISHED:
            # A second delivery of a finished task changes nothing.
            return {"status": run.status, "training_run_id": run.pk, "repeated": True}
    _run_save(run, celery_task_id=self.request.id or "")
    with retrain_lock(course_id=run.course_id) as acquired:
        if not acquired:
            logger.info(
                "a retrain of scope %s is already running; run %s skipped",
                run.course_id or "global",
                run.pk,
            )
            _run_save(
                run,
                status=TrainingRun.Status.SKIPPED,
                outcome="scope busy",
                log=run.log + "Another retrain of this scope was running; nothing done.\n",
                finished_at=timezone.now(),
            )
            return {"status": "skipped", "training_run_id": run.pk}
        if run.status == TrainingRun.Status.RUNNING:
            # Redelivered after the worker died mid-run: the unfinished version never served.
            ModelVersion.objects.filter(
                training_runs=run,
                status__in=[ModelVersion.Status.TRAINING, ModelVersion.Status.CANDIDATE],
            ).update(
                status=ModelVersion.Status.REJECTED,
                rejection_reason=f"training run {run.pk} was interrupted and restarted",
            )
            _run_save(run, log=run.log + "Redelivered after an interruption; restarting.\n")
        run = model_version_train(run=run, epochs=epochs)
        if run.outcome == "promoted":
            _refresh_paths(run)
    return {
        "status": run.status,
        "outcome": run.outcome,
        "training_run_id": run.pk,
        "model_version_id": run.model_version_id,
    }


def _refresh_paths(run: TrainingRun) -> None:
    def progress(course_id: int, done: int, total: int) -> None:
        _run_save(
            run,
            progress={
                **run.progress,
                "stage": "refresh",
                "course_id": course_id,
                "learners_done": done,
                "learners_total": total,
            },
        )

    results = paths_refresh_for_scope(
        course_id=run.course_id,
        on_progress=progress,
        enqueue_catch_up=lambda attempt_id: learner_state_update_task.delay(attempt_id=attempt_id),
    )
    learners = sum(result.learners for result in results)
    seconds = sum(result.seconds for result in results)
    _run_save(
        run,
        progress={**run.progress, "stage": "done", "paths_refreshed": learners},
        timings={**run.timings, "refresh_seconds": round(seconds, 3)},
    )


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    max_retries=5,
)
def paths_refresh_task(*, course_id: int | None) -> dict:
    """Refresh every path a scope's active model serves (after an activation or a rollback)."""
    results = paths_refresh_for_scope(
        course_id=course_id,
        enqueue_catch_up=lambda attempt_id: learner_state_update_task.delay(attempt_id=attempt_id),
    )
    return {"courses": len(results), "learners": sum(result.learners for result in results)}
