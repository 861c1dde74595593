"""Tasks of the `default` queue: online updates after attempts and retrain schedules."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from adaptive.models import TrainingRun
from adaptive.online import learner_state_update
from adaptive.services.retraining import (
    retrain_scopes_nightly,
    retrain_scopes_with_new_attempts,
    training_run_open_exists,
    training_run_request,
)
from courses.models import Course

logger = logging.getLogger(__name__)

# Only errors that can succeed later are retried: the database or broker being briefly away.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=1,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=8,
)
def learner_state_update_task(self, *, attempt_id: int) -> dict | None:
    """Fold an attempt into its learner's state and rewrite their mastery and path."""
    update = learner_state_update(attempt_id=attempt_id)
    if update is None:
        logger.info("attempt %s no longer exists; nothing to update", attempt_id)
        return None
    return {
        "user_id": update.user_id,
        "course_id": update.course_id,
        "applied_attempts": update.applied_attempts,
        "model_version_id": update.model_version_id,
    }


@shared_task(acks_late=True, autoretry_for=TRANSIENT_ERRORS, retry_backoff=5, max_retries=5)
def model_retrain_nightly_task() -> list:
    """Nightly: queue a retrain of every course with enough data (else of the global model)."""
    queued = []
    for course_id in retrain_scopes_nightly():
        if training_run_open_exists(course_id=course_id):
            logger.info("scope %s already has a queued or running retrain", course_id or "global")
            continue
        run = training_run_request(
            course=Course.objects.filter(pk=course_id).first() if course_id else None,
            trigger=TrainingRun.Trigger.SCHEDULE,
        )
        queued.append(run.pk)
    return queued


@shared_task(acks_late=True, autoretry_for=TRANSIENT_ERRORS, retry_backoff=5, max_retries=5)
def model_retrain_threshold_task(*, min_new_attempts: int = 500) -> list:
    """Hourly: queue a retrain of scopes with enough new attempts since their model's cutoff."""
    queued = []
    for demand in retrain_scopes_with_new_attempts(min_new_attempts=min_new_attempts):
        if training_run_open_exists(course_id=demand.course_id):
            continue
        run = training_run_request(
            course=Course.objects.filter(pk=demand.course_id).first() if demand.course_id else None,
            trigger=TrainingRun.Trigger.THRESHOLD,
        )
        queued.append(run.pk)
    return queued


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
    from adaptive.online import learner_refresh

    update = learner_refresh(user_id=user_id, course_id=course_id, replan_always=True)
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
