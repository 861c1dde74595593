"""Tasks of the `default` queue: online updates after attempts, reconciliation, schedules.

Every task here runs for seconds, so each has limits of seconds and stays below the broker's
visibility timeout (a minute, config/settings/base.py): a task is never redelivered while alive.
"""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from adaptive.exceptions import TrainingRunOpenError
from adaptive.models import TrainingRun
from adaptive.services.class_summary import (
    class_summary_compute,
    class_summary_schedule,
    class_summary_started,
)
from adaptive.services.knowledge_state import learner_state_update, learners_reconcile
from adaptive.services.path_refresh_fanout import path_refresh_chunk_run, path_refreshes_reap
from adaptive.services.retraining import (
    paths_refresh_dispatch_for_scope,
    retrain_scopes_nightly,
    retrain_scopes_with_new_attempts,
    training_run_open_exists,
    training_run_request,
    training_runs_reap,
)
from courses.models import Course

logger = logging.getLogger(__name__)

# Only errors that can succeed later are retried: the database or broker being briefly away.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
# An update whose worker was killed under it (redelivered by the broker) is tried this many
# times in all; then it gives up, logged, and the reconciliation task is the last word.
MAX_DELIVERIES = 3


@shared_task(
    bind=True,
    # Acknowledged after it ran: a worker killed as a whole (parent and child) leaves it unacked,
    # and the broker hands it out again after the visibility timeout. A killed child alone
    # fails it without redelivery (an update that kills its process would otherwise loop).
    acks_late=True,
    reject_on_worker_lost=False,
    soft_time_limit=15,
    time_limit=20,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=1,
    retry_backoff_max=20,
    retry_jitter=True,
    max_retries=6,
)
def learner_state_update_task(self, *, attempt_id: int, delivery: int = 1) -> dict | None:
    """Fold an attempt into its learner's state and rewrite their mastery and path."""
    if (self.request.delivery_info or {}).get("redelivered"):
        # Counted in the message itself (a broker keeps no count): re-queue with one more, so a
        # message that keeps killing its worker ends after MAX_DELIVERIES.
        if delivery >= MAX_DELIVERIES:
            logger.error(
                "update of attempt %s gave up: delivered %d times, its worker died each time",
                attempt_id,
                delivery,
            )
            return {"attempt_id": attempt_id, "gave_up": f"delivered {delivery} times"}
        learner_state_update_task.apply_async(
            kwargs={"attempt_id": attempt_id, "delivery": delivery + 1}
        )
        return {"attempt_id": attempt_id, "requeued": delivery + 1}
    update = learner_state_update(attempt_id=attempt_id)
    if update is None:
        logger.info("attempt %s no longer exists; nothing to update", attempt_id)
        return None
    class_summary_schedule(course_id=update.course_id)
    return {
        "user_id": update.user_id,
        "course_id": update.course_id,
        "applied_attempts": update.applied_attempts,
        "model_version_id": update.model_version_id,
    }


@shared_task(soft_time_limit=40, time_limit=50)
def learners_reconcile_task() -> dict:
    """Every few seconds (beat): catch up learners whose online update was lost."""
    result = learners_reconcile()
    return {"caught_up": result.caught_up, "failed": result.failed}


@shared_task(soft_time_limit=40, time_limit=50)
def training_runs_reap_task() -> list:
    """Every half minute (beat): fail and retry training runs whose worker died, and send
    again (or fail) the chunks of path refreshes that went silent."""
    retries = training_runs_reap()
    path_refreshes_reap()
    return retries


@shared_task(
    bind=True,
    # As learner_state_update_task: a worker killed as a whole leaves the chunk unacked and the
    # broker hands it out again after the visibility timeout; a killed child alone fails it
    # (the reaper sends it again once the refresh has been silent). A chunk is sized to take
    # seconds (PATHWISE_REFRESH_CHUNK_*), so its limits stay below the visibility timeout.
    acks_late=True,
    reject_on_worker_lost=False,
    soft_time_limit=40,
    time_limit=50,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=1,
    retry_backoff_max=20,
    retry_jitter=True,
    max_retries=6,
)
def path_refresh_chunk_task(self, *, chunk_id: int, delivery: int = 1) -> dict:
    """Refresh the state, mastery and path of one chunk of a course's learners, once."""
    if (self.request.delivery_info or {}).get("redelivered"):
        if delivery >= MAX_DELIVERIES:
            logger.error(
                "chunk %s of a path refresh gave up: delivered %d times, its worker died each time",
                chunk_id,
                delivery,
            )
            return {"chunk_id": chunk_id, "gave_up": f"delivered {delivery} times"}
        path_refresh_chunk_task.apply_async(kwargs={"chunk_id": chunk_id, "delivery": delivery + 1})
        return {"chunk_id": chunk_id, "requeued": delivery + 1}
    result = path_refresh_chunk_run(
        chunk_id=chunk_id,
        enqueue_catch_up=lambda attempt_id: learner_state_update_task.delay(attempt_id=attempt_id),
    )
    return {
        "chunk_id": chunk_id,
        "refresh_id": result.refresh_id,
        "outcome": result.outcome,
        "learners": result.learners,
        "rows": result.rows,
    }


@shared_task(autoretry_for=TRANSIENT_ERRORS, retry_backoff=5, max_retries=5)
def paths_refresh_dispatch_task(*, course_id: int | None) -> dict:
    """Start a fanned-out refresh of every path a scope's active model serves (after an
    activation or a rollback); the chunks run on the `default` workers."""
    refreshes = paths_refresh_dispatch_for_scope(course_id=course_id)
    return {"path_refresh_ids": [refresh.pk for refresh in refreshes]}


def _retrain_queue(course_id: int | None, trigger: str) -> int | None:
    if training_run_open_exists(course_id=course_id):
        logger.info("scope %s already has a queued or running retrain", course_id or "global")
        return None
    try:
        run = training_run_request(
            course=Course.objects.filter(pk=course_id).first() if course_id else None,
            trigger=trigger,
        )
    except TrainingRunOpenError:
        return None
    return run.pk


@shared_task(autoretry_for=TRANSIENT_ERRORS, retry_backoff=5, max_retries=5)
def model_retrain_nightly_task() -> list:
    """Nightly: queue a retrain of every course with enough data (else of the global model)."""
    queued = [
        _retrain_queue(scope, TrainingRun.Trigger.SCHEDULE) for scope in retrain_scopes_nightly()
    ]
    return [run_id for run_id in queued if run_id is not None]


@shared_task(autoretry_for=TRANSIENT_ERRORS, retry_backoff=5, max_retries=5)
def model_retrain_threshold_task(*, min_new_attempts: int = 500) -> list:
    """Hourly: queue a retrain of scopes with enough new attempts since their model's cutoff."""
    queued = [
        _retrain_queue(demand.course_id, TrainingRun.Trigger.THRESHOLD)
        for demand in retrain_scopes_with_new_attempts(min_new_attempts=min_new_attempts)
    ]
    return [run_id for run_id in queued if run_id is not None]


@shared_task(
    acks_late=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=1,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=8,
)
def learner_replan_task(*, user_id: int, course_id: int) -> dict:
    """Plan the learner's path now (after enrolment or a completed lesson), pending answers too."""
    from adaptive.services.knowledge_state import learner_refresh

    update = learner_refresh(user_id=user_id, course_id=course_id, replan_always=True)
    class_summary_schedule(course_id=course_id)
    return {
        "user_id": update.user_id,
        "course_id": update.course_id,
        "applied_attempts": update.applied_attempts,
    }


def learner_replan_queue(*, user_id: int, course_id: int) -> None:
    """Queue `learner_replan_task`; a broker that is down is logged, never raised (the path is
    planned at the next answer, recommendation or panel poll instead)."""
    from kombu.exceptions import OperationalError as BrokerError

    try:
        learner_replan_task.delay(user_id=user_id, course_id=course_id)
    except (BrokerError, OSError):
        logger.exception("could not queue the re-plan of learner %s in %s", user_id, course_id)


@shared_task(
    # Below the broker's visibility timeout; a class of 100,000 learners may need a fan-out.
    soft_time_limit=50,
    time_limit=55,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    max_retries=3,
)
def class_summary_refresh_task(*, course_id: int) -> dict:
    """Recompute a course's class dashboard figures (queued, debounced, after changes)."""
    class_summary_started(course_id=course_id)
    summary = class_summary_compute(course_id=course_id)
    if summary is None:
        return {"course_id": course_id, "missing": True}
    return {
        "course_id": course_id,
        "learners": summary.learners,
        "seconds": summary.compute_seconds,
    }
