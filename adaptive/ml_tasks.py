"""Tasks of the `ml` queue: the GPU worker runs them one at a time (concurrency 1).

TensorFlow is imported only inside the training functions that these tasks call, never at
module level, so the worker's prefork parent (and the web process) never loads it.

These tasks run for minutes to hours, far beyond the broker's visibility timeout of a minute,
so they are acknowledged on receipt: the broker never hands a live training to a second worker.
What a killed worker leaves behind is found from the database instead: the run's heartbeat
stops, and `training_runs_reap_task` fails it and queues a bounded retry.
"""

import contextlib
import logging
import threading
from collections.abc import Iterator

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from adaptive.models import ModelVersion, TrainingRun
from adaptive.services.retraining import (
    paths_refresh_dispatch_for_scope,
    retrain_lock,
    training_run_heartbeat,
)

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
FINISHED = (TrainingRun.Status.SUCCEEDED, TrainingRun.Status.FAILED, TrainingRun.Status.SKIPPED)


def _run_save(run: TrainingRun, **fields: object) -> None:
    for name, value in fields.items():
        setattr(run, name, value)
    run.save(update_fields=list(fields))


@contextlib.contextmanager
def _heartbeat(run_id: int) -> Iterator[None]:
    """Write the run's heartbeat from a side thread while the block (the training) runs."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(settings.PATHWISE_RUN_HEARTBEAT_SECONDS):
                try:
                    training_run_heartbeat(run_id=run_id)
                except (OperationalError, InterfaceError):
                    logger.warning("heartbeat of training run %s not written", run_id)
        finally:
            connection.close()  # this thread's own database connection

    training_run_heartbeat(run_id=run_id)
    thread = threading.Thread(target=beat, name=f"heartbeat-run-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


@shared_task(
    bind=True,
    acks_late=False,
    soft_time_limit=settings.PATHWISE_TRAINING_SOFT_TIME_LIMIT,
    time_limit=settings.PATHWISE_TRAINING_TIME_LIMIT,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=30,  # a countdown stays below the visibility timeout
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
    with retrain_lock(course_id=run.course_id) as acquired:
        if not acquired:
            # Another worker holds the scope: maybe training this very run (a duplicate
            # delivery). Only a run that nobody has picked up is marked skipped; a live run, its
            # status and its task id are left alone.
            skipped = TrainingRun.objects.filter(
                pk=run.pk, status=TrainingRun.Status.QUEUED, heartbeat_at__isnull=True
            ).update(
                status=TrainingRun.Status.SKIPPED,
                outcome="scope busy",
                log=Concat(
                    F("log"), Value("Another retrain of this scope was running; nothing done.\n")
                ),
                finished_at=timezone.now(),
            )
            logger.info(
                "scope %s is busy; run %s %s",
                run.course_id or "global",
                run.pk,
                "skipped" if skipped else "is live elsewhere: duplicate delivery ignored",
            )
            return {"status": "skipped" if skipped else "duplicate", "training_run_id": run.pk}
        run.refresh_from_db()
        if run.status in FINISHED:
            return {"status": run.status, "training_run_id": run.pk, "repeated": True}
        _run_save(run, celery_task_id=self.request.id or "")
        with _heartbeat(run.pk):
            if run.status == TrainingRun.Status.RUNNING:
                # Its worker died and the lock is free again (before the reaper noticed): the
                # unfinished version never served; train again under this run.
                ModelVersion.objects.filter(
                    training_runs=run,
                    status__in=[ModelVersion.Status.TRAINING, ModelVersion.Status.CANDIDATE],
                ).update(
                    status=ModelVersion.Status.REJECTED,
                    rejection_reason=f"training run {run.pk} was interrupted and restarted",
                )
                _run_save(run, log=run.log + "Redelivered after an interruption; restarting.\n")
            # Imported here, not at the top: every worker's parent process imports all task
            # modules (the default worker too), and TensorFlow should load only in the ml
            # worker's child that trains (tests/integration: test_the_ml_task_module_...).
            from adaptive.services.model_training import model_version_train

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
    # Fanned out over the `default` workers rather than run here: the refresh scales with them,
    # and this worker is free for the next training at once. The chunks write the refresh's
    # progress into the run (chunks and learners done; "paths_refreshed" once all are done).
    refreshes = paths_refresh_dispatch_for_scope(course_id=run.course_id, training_run_id=run.pk)
    logger.info(
        "training run %s: path refreshes %s sent to the default workers",
        run.pk,
        [refresh.pk for refresh in refreshes],
    )


@shared_task(
    acks_late=False,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    max_retries=5,
)
def paths_refresh_task(*, course_id: int | None) -> dict:
    """Start a fanned-out refresh of a scope (kept for messages queued before the refresh moved
    to `adaptive.tasks.paths_refresh_dispatch_task`)."""
    refreshes = paths_refresh_dispatch_for_scope(course_id=course_id)
    return {"path_refresh_ids": [refresh.pk for refresh in refreshes]}
