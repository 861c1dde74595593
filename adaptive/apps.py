import logging

from django.apps import AppConfig

logger = logging.getLogger(__name__)


class AdaptiveConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "adaptive"
    verbose_name = "Adaptive learning"

    def ready(self) -> None:
        # Subscribe to the learners app's domain event; learners never imports adaptive.
        # (Imported here: app modules cannot be imported before the registry is ready.)
        from learners.events import attempt_recorded, enrollment_created, lesson_completed

        attempt_recorded.connect(_attempt_recorded, dispatch_uid="adaptive.attempt_recorded")
        enrollment_created.connect(_replan, dispatch_uid="adaptive.enrollment_created")
        lesson_completed.connect(_replan, dispatch_uid="adaptive.lesson_completed")


def _attempt_recorded(sender: object, *, attempt_id: int, **kwargs: object) -> None:
    """Queue the online update of the learner who answered (sent after commit)."""
    from kombu.exceptions import OperationalError as BrokerError

    from adaptive.tasks import learner_state_update_task

    try:
        learner_state_update_task.delay(attempt_id=attempt_id)
    except (BrokerError, OSError):
        # The attempt is stored; the learner's next update (or a path refresh) folds it in,
        # because updates apply every attempt after the state's last one.
        logger.exception("could not queue the state update for attempt %s", attempt_id)


def _replan(sender: object, *, user_id: int, course_id: int, **kwargs: object) -> None:
    """Re-plan the learner's path at once after enrolment or a completed lesson (after commit)."""
    from adaptive.tasks import learner_replan_queue

    learner_replan_queue(user_id=user_id, course_id=course_id)
