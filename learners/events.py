"""Domain events that higher apps subscribe to, so that `learners` never imports them.

`attempt_recorded` is sent after the transaction that stored the attempt commits, with the
keyword argument `attempt_id`; `enrollment_created` (a new or re-activated enrolment) and
`lesson_completed` (a whole lesson, not one block) after theirs, with `user_id` and `course_id`.
Receivers connect in their AppConfig.ready().
"""

from django.dispatch import Signal

attempt_recorded = Signal()
enrollment_created = Signal()
lesson_completed = Signal()


def attempt_recorded_send(*, attempt_id: int) -> None:
    """Tell subscribers that an attempt was stored (call it from transaction.on_commit)."""
    # The attempt is committed by now: a failing subscriber (a broker that is down) must neither
    # turn the learner's stored answer into an error response nor keep the other subscribers
    # from hearing about it. send_robust logs each failure on the `django.dispatch` logger.
    attempt_recorded.send_robust(sender="learners", attempt_id=attempt_id)


def enrollment_created_send(*, user_id: int, course_id: int) -> None:
    """Tell subscribers that a learner enrolled (call it from transaction.on_commit)."""
    enrollment_created.send_robust(sender="learners", user_id=user_id, course_id=course_id)


def lesson_completed_send(*, user_id: int, course_id: int) -> None:
    """Tell subscribers that a learner completed a lesson (call it from transaction.on_commit)."""
    lesson_completed.send_robust(sender="learners", user_id=user_id, course_id=course_id)
