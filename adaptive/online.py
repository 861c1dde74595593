"""The online update after each attempt: fold it into the learner's state, then re-plan."""

from django.db import transaction

from adaptive.knowledge import StateUpdate, learner_state_apply, runtime_for_course
from adaptive.paths import learning_path_rebuild
from learners.models import Attempt


@transaction.atomic
def learner_state_update(*, attempt_id: int) -> StateUpdate | None:
    """Update the learner's state, mastery and path after an attempt (None if it is gone)."""
    attempt = Attempt.objects.filter(pk=attempt_id).values("user_id", "course_id").first()
    if attempt is None:
        return None
    update = learner_state_apply(user_id=attempt["user_id"], course_id=attempt["course_id"])
    if update.applied_attempts:
        learning_path_rebuild(
            user_id=update.user_id,
            course_id=update.course_id,
            runtime=runtime_for_course(course_id=update.course_id),
            mastery=update.mastery_vector,
        )
    return update
