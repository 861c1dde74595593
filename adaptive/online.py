"""The online update after each attempt: fold it into the learner's state, then re-plan."""

from django.db import transaction

from adaptive.services.knowledge_state import StateUpdate, learner_state_apply, runtime_for_course
from adaptive.services.learning_paths import learning_path_rebuild
from learners.models import Attempt


@transaction.atomic
def learner_state_update(*, attempt_id: int) -> StateUpdate | None:
    """Update the learner's state, mastery and path after an attempt (None if it is gone)."""
    attempt = Attempt.objects.filter(pk=attempt_id).values("user_id", "course_id").first()
    if attempt is None:
        return None
    return learner_refresh(
        user_id=attempt["user_id"], course_id=attempt["course_id"], replan_always=False
    )


@transaction.atomic
def learner_refresh(*, user_id: int, course_id: int, replan_always: bool) -> StateUpdate:
    """Fold pending attempts into one learner's state; re-plan if any (or when told to)."""
    update = learner_state_apply(user_id=user_id, course_id=course_id)
    if update.applied_attempts or replan_always:
        learning_path_rebuild(
            user_id=user_id,
            course_id=course_id,
            runtime=runtime_for_course(course_id=course_id),
            mastery=update.mastery_vector,
        )
    return update
