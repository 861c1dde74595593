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
        from learners.events import attempt_recorded

        attempt_recorded.connect(_attempt_recorded, dispatch_uid="adaptive.attempt_recorded")


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
