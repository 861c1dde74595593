"""Tasks of the `default` queue: the online update after each attempt (no TensorFlow here)."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from adaptive.online import learner_state_update

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
