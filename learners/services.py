"""Writes of learner activity: enrolment, attempts (graded on the server), lesson events."""

import math
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from courses.exceptions import ApplicationError
from courses.grading import answer_grade
from courses.markdown import markdown_render
from courses.models import Course, Exercise, Lesson, LessonBlock
from learners.events import attempt_recorded_send, enrollment_created_send, lesson_completed_send
from learners.exceptions import AttemptError, EnrollmentError, LessonEventError
from learners.models import Attempt, Enrollment, LessonEvent, User
from learners.selectors import enrollment_get_active

MAX_DURATION_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class AttemptResult:
    attempt: Attempt
    feedback: list[str] = field(default_factory=list)
    explanation_html: str = ""
    correct_answer: Any = None


@transaction.atomic
def user_create(
    *, username: str, password: str, email: str = "", role: str = User.Role.STUDENT, **extra: Any
) -> User:
    """Create an account; the password is validated and hashed."""
    user = User(username=username, email=email, role=role, **extra)
    validate_password(password, user)
    user.set_password(password)
    user.full_clean()
    user.save()
    return user


@transaction.atomic
def enrollment_create(*, user: User, course: Course) -> Enrollment:
    """Enrol a user in a published course; enrolling twice returns the same enrolment."""
    if course.status != Course.Status.PUBLISHED:
        raise EnrollmentError("This course is not open for enrolment.")
    enrollment = Enrollment.objects.select_for_update().filter(user=user, course=course).first()
    if enrollment is None:
        try:
            with transaction.atomic():
                enrollment = Enrollment.objects.create(user=user, course=course)
        except IntegrityError:  # a concurrent request enrolled the same user first
            enrollment = Enrollment.objects.get(user=user, course=course)
        transaction.on_commit(
            partial(enrollment_created_send, user_id=user.pk, course_id=course.pk)
        )
    elif enrollment.status == Enrollment.Status.DROPPED:
        enrollment.status = Enrollment.Status.ACTIVE
        enrollment.save(update_fields=["status"])
        transaction.on_commit(
            partial(enrollment_created_send, user_id=user.pk, course_id=course.pk)
        )
    return enrollment


@transaction.atomic
def enrollment_drop(*, enrollment: Enrollment) -> Enrollment:
    """Leave a course; attempts and events stay in the log."""
    enrollment.status = Enrollment.Status.DROPPED
    enrollment.save(update_fields=["status"])
    return enrollment


def _correct_answer(exercise: Exercise) -> Any:
    if exercise.kind == Exercise.Kind.SINGLE:
        return next((c.pk for c in exercise.choices.all() if c.is_correct), None)
    if exercise.kind == Exercise.Kind.MULTIPLE:
        return sorted(c.pk for c in exercise.choices.all() if c.is_correct)
    if exercise.kind == Exercise.Kind.NUMERIC:
        return exercise.numeric_answer
    return exercise.accepted_answers[0] if exercise.accepted_answers else None


@transaction.atomic
def attempt_submit(
    *,
    user: User,
    exercise: Exercise,
    answer: Any,
    hints_used: int = 0,
    duration_ms: int | None = None,
) -> AttemptResult:
    """Grade an answer on the server, append the attempt, and announce it after commit."""
    if enrollment_get_active(user=user, course=exercise.course) is None:
        raise AttemptError("Enrol in the course before answering its exercises.")
    hint_count = exercise.hints.count()
    if (
        isinstance(hints_used, bool)
        or not isinstance(hints_used, int)
        or not (0 <= hints_used <= hint_count)
    ):
        raise AttemptError(f"hints_used must be between 0 and {hint_count}.")
    if duration_ms is not None and (
        isinstance(duration_ms, bool)
        or not isinstance(duration_ms, int)
        or not 0 <= duration_ms <= MAX_DURATION_MS
    ):
        raise AttemptError(f"duration_ms must be between 0 and {MAX_DURATION_MS}.")
    choices = list(exercise.choices.all())
    grade = answer_grade(exercise=exercise, answer=answer, choices=choices)
    attempt = Attempt.objects.create(
        user=user,
        exercise=exercise,
        course_id=exercise.course_id,
        answer=grade.normalised_answer,
        is_correct=grade.is_correct,
        hints_used=hints_used,
        duration_ms=duration_ms,
    )
    transaction.on_commit(partial(attempt_recorded_send, attempt_id=attempt.pk))
    return AttemptResult(
        attempt=attempt,
        feedback=grade.feedback,
        explanation_html=markdown_render(exercise.explanation_md),
        correct_answer=_correct_answer(exercise),
    )


@transaction.atomic
def lesson_event_record(
    *,
    user: User,
    lesson: Lesson,
    verb: str,
    position_seconds: float | None = None,
    block: LessonBlock | None = None,
) -> LessonEvent:
    """Append a lesson event (viewed, played, paused, seeked, progressed, completed)."""
    if verb not in LessonEvent.Verb.values:
        raise LessonEventError(
            f"Unknown verb {verb!r}; use one of {', '.join(LessonEvent.Verb.values)}."
        )
    if enrollment_get_active(user=user, course=lesson.module.course) is None:
        raise LessonEventError("Enrol in the course before recording lesson activity.")
    if block is not None and block.lesson_id != lesson.pk:
        raise LessonEventError("The block does not belong to this lesson.")
    if position_seconds is not None:
        if isinstance(position_seconds, bool) or not isinstance(position_seconds, int | float):
            raise LessonEventError("position_seconds must be a number.")
        try:
            position_seconds = float(position_seconds)
        except OverflowError:  # a JSON integer with hundreds of digits
            position_seconds = math.inf
        if not math.isfinite(position_seconds) or position_seconds < 0:
            raise LessonEventError("position_seconds must be a finite number of seconds >= 0.")
        if (
            block is not None
            and block.duration_seconds
            and position_seconds > block.duration_seconds + 1
        ):
            raise LessonEventError(
                f"position_seconds is past the end of the media ({block.duration_seconds} s)."
            )
    event = LessonEvent(
        user=user,
        lesson=lesson,
        block=block,
        verb=verb,
        position_seconds=position_seconds,
        created_at=timezone.now(),
    )
    event.full_clean()
    event.save()
    if verb == LessonEvent.Verb.COMPLETED and block is None:
        transaction.on_commit(
            partial(lesson_completed_send, user_id=user.pk, course_id=lesson.module.course_id)
        )
    return event


PROFILE_FIELDS = {"first_name", "last_name", "email", "preferred_language"}


@transaction.atomic
def user_profile_update(*, user: User, **fields: Any) -> User:
    """Change a user's own profile; role, staff flags and username are not changed here."""
    unknown = set(fields) - PROFILE_FIELDS
    if unknown:
        raise ApplicationError(
            f"These fields cannot be changed here: {', '.join(sorted(unknown))}."
        )
    for name, value in fields.items():
        setattr(user, name, value)
    user.full_clean()
    if fields:
        user.save(update_fields=list(fields))
    return user


@transaction.atomic
def auth_token_get_or_create(*, user: User) -> Token:
    """The user's API token, created on first request."""
    token, _created = Token.objects.get_or_create(user=user)
    return token
