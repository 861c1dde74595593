"""The online update: fold a learner's new attempts into their state, mastery and path.

After each attempt the `default` worker calls `learner_state_update` (adaptive.tasks); the
reconciliation task and the recommendation call `learner_refresh`. The served model is resolved
once per refresh (adaptive.serving) and used for the state, the mastery and the path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from adaptive.models import LearnerState, mastery_encode
from adaptive.selectors import exercise_skill_map, learners_behind
from adaptive.services.learning_paths import learning_path_rebuild, mastery_for_skills
from adaptive.serving import Runtime, runtime_for_course, runtime_resolve
from courses.models import Skill
from learners.models import Attempt

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StateUpdate:
    user_id: int
    course_id: int
    applied_attempts: int
    model_version_id: int | None
    mastery: dict[int, float]
    mastery_vector: np.ndarray


def learner_state_apply(
    *, user_id: int, course_id: int, runtime: Runtime | None = None
) -> StateUpdate:
    """Fold every attempt not yet in the learner's state into it, then store its raw mastery.

    Attempts after `last_attempt_id` are applied in `(created_at, id)` order, the order training
    and path refresh replay them in, so a task delivered twice, or tasks arriving out of order,
    leave the same state; an attempt dated before those already folded in replays the history.
    A learner whose state came from another model version is replayed once from their history.
    Pass the ``runtime`` the caller resolved when it also plans from this update (one version
    for both).
    """
    if runtime is None:
        runtime = runtime_for_course(course_id=course_id)
    # Insert-if-missing first so that two workers lock the same row rather than racing to add it.
    LearnerState.objects.bulk_create(
        [LearnerState(user_id=user_id, course_id=course_id, state=b"")], ignore_conflicts=True
    )
    row = LearnerState.objects.select_for_update().get(user_id=user_id, course_id=course_id)
    stored = bytes(row.state)
    expected_size = len(runtime.initial_state())
    fresh = (
        not stored
        or row.model_version_id != runtime.model_version_id
        or len(stored) != expected_size * 4
    )
    history = Attempt.objects.filter(user_id=user_id, course_id=course_id)
    pending = history
    after = None if fresh else row.last_attempt_id
    if after is not None:
        pending = history.filter(pk__gt=after)
        folded_until = history.filter(pk__lte=after).aggregate(Max("created_at"))["created_at__max"]
        if folded_until is not None and pending.filter(created_at__lt=folded_until).exists():
            # An attempt dated before ones already folded in (an import, a late write): replay
            # the whole history in (created_at, id) order, the order training uses.
            fresh, pending = True, history
    state = runtime.initial_state() if fresh else np.frombuffer(stored, dtype=np.float32).copy()
    rows = list(pending.order_by("created_at", "pk").values_list("pk", "exercise_id", "is_correct"))
    skills = exercise_skill_map(exercise_ids={exercise for _, exercise, _ in rows})
    for _, exercise_id, is_correct in rows:
        state = runtime.step(state, skills.get(exercise_id, []), is_correct, exercise_id)
    mastery = runtime.mastery(state)
    course_skill_ids = list(
        Skill.objects.filter(course_id=course_id).order_by("pk").values_list("pk", flat=True)
    )
    raw = mastery_for_skills(runtime, mastery, course_skill_ids)[0]
    by_skill = dict(zip(course_skill_ids, raw.tolist(), strict=True))
    if rows or fresh:
        now = timezone.now()
        row.state = np.asarray(state, dtype=np.float32).tobytes()
        row.mastery, row.mastery_skill_ids = mastery_encode(course_skill_ids, raw)
        row.model_version_id = runtime.model_version_id
        # The highest id folded in: every attempt up to it is in the state, whatever its date.
        row.last_attempt_id = max(pk for pk, _, _ in rows) if rows else row.last_attempt_id
        row.attempts_count = (0 if fresh else row.attempts_count) + len(rows)
        row.updated_at = now
        row.save(
            update_fields=[
                "state",
                "mastery",
                "mastery_skill_ids",
                "model_version",
                "last_attempt_id",
                "attempts_count",
                "updated_at",
            ]
        )
    return StateUpdate(
        user_id=user_id,
        course_id=course_id,
        applied_attempts=len(rows),
        model_version_id=runtime.model_version_id,
        mastery=by_skill,
        mastery_vector=mastery,
    )


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
    runtime, _ = runtime_resolve(course_id=course_id)
    update = learner_state_apply(user_id=user_id, course_id=course_id, runtime=runtime)
    if update.applied_attempts or replan_always:
        learning_path_rebuild(
            user_id=user_id, course_id=course_id, runtime=runtime, mastery=update.mastery_vector
        )
    return update


@dataclass(frozen=True)
class ReconcileResult:
    caught_up: int
    failed: int


def learners_reconcile(*, limit: int | None = None) -> ReconcileResult:
    """Catch up every learner whose state is behind their newest attempt.

    The online update after an attempt can be lost (the broker was away when the web request
    published it, a worker was killed): the attempt is stored, and this folds it in. Attempts
    younger than the grace period are left to their own update.
    """
    now = timezone.now()
    behind = learners_behind(
        since=now - timedelta(hours=settings.PATHWISE_RECONCILE_LOOKBACK_HOURS),
        until=now - timedelta(seconds=settings.PATHWISE_RECONCILE_GRACE_SECONDS),
        limit=limit or settings.PATHWISE_RECONCILE_BATCH,
    )
    failed = 0
    for user_id, course_id in behind:
        try:
            learner_refresh(user_id=user_id, course_id=course_id, replan_always=False)
        except Exception:  # one learner's failure must not keep the others behind
            failed += 1
            logger.exception("could not catch up learner %s in course %s", user_id, course_id)
    if behind:
        logger.info("caught up %d learners (%d failed)", len(behind) - failed, failed)
    return ReconcileResult(caught_up=len(behind) - failed, failed=failed)
