"""Writes of learner activity: enrolment, attempts (graded on the server), lesson events."""

import json
import math
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework.authtoken.models import Token

from courses.exceptions import ApplicationError
from courses.grading import answer_grade
from courses.markdown import markdown_inline_render, markdown_render
from courses.models import Course, Exercise, Hint, Lesson, LessonBlock
from learners.events import attempt_recorded_send, enrollment_created_send, lesson_completed_send
from learners.exceptions import AttemptError, AttemptLimitError, EnrollmentError, LessonEventError
from learners.models import Attempt, Enrollment, HintReveal, LessonEvent, User
from learners.selectors import ExerciseState, enrollment_get_active, exercise_state_for_user

MAX_DURATION_MS = 24 * 3600 * 1000
ANSWER_MAX_CHARS = 10_000


def _has_null_character(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_has_null_character(item) for item in value)
    if isinstance(value, dict):
        return any(_has_null_character(k) or _has_null_character(v) for k, v in value.items())
    return False


def answer_validate(answer: Any) -> None:
    """Refuse an answer no exercise could take, before grading or storing it."""
    # PostgreSQL cannot store U+0000 in jsonb, and an answer is never that large.
    if _has_null_character(answer):
        raise AttemptError(_("The answer contains a null character."))
    try:
        size = len(json.dumps(answer))
    except (TypeError, ValueError):  # not JSON, or an integer past Python's digit limit
        size = ANSWER_MAX_CHARS + 1
    if size > ANSWER_MAX_CHARS:
        raise AttemptError(
            _("The answer is longer than %(limit)d characters.") % {"limit": ANSWER_MAX_CHARS}
        )


@dataclass(frozen=True)
class AttemptResult:
    """What a learner is shown after answering or asking for the solution, web and API alike.

    `correct_answer` and `explanation_html` are filled only when `state.shows_solution`.
    """

    attempt: Attempt | None  # None when nothing was recorded (a preview, a repeated request)
    state: ExerciseState
    feedback: list[str] = field(default_factory=list)
    explanation_html: str = ""
    correct_answer: Any = None

    @property
    def is_correct(self) -> bool:
        return self.attempt is not None and self.attempt.is_correct

    @property
    def feedback_html(self) -> list[str]:
        return [markdown_inline_render(message) for message in self.feedback]


@dataclass(frozen=True)
class HintRevealResult:
    hint: Hint | None  # None when every hint is already shown
    hints_used: int
    hint_total: int


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


def attempt_result_build(
    *,
    exercise: Exercise,
    state: ExerciseState,
    attempt: Attempt | None = None,
    feedback: list[str] | None = None,
) -> AttemptResult:
    """The result a learner may see in `state`: the solution only when the policy allows it."""
    shows = state.shows_solution
    return AttemptResult(
        attempt=attempt,
        state=state,
        feedback=feedback or [],
        explanation_html=markdown_render(exercise.explanation_md) if shows else "",
        correct_answer=_correct_answer(exercise) if shows else None,
    )


def _enrollment_lock(*, user: User, exercise: Exercise, message: str) -> Enrollment:
    # The row lock serialises one learner's requests in a course, so two answers sent at once
    # cannot both take the last allowed attempt.
    enrollment = (
        Enrollment.objects.select_for_update()
        .filter(
            user=user,
            course_id=exercise.course_id,
            status__in=[Enrollment.Status.ACTIVE, Enrollment.Status.COMPLETED],
        )
        .first()
    )
    if enrollment is None:
        raise AttemptError(message)
    return enrollment


def _refusal(state: ExerciseState) -> str:
    if state.is_revealed:
        return _("You asked to see the solution, so this exercise takes no more answers.")
    return ngettext(
        "You have used your %(count)d attempt at this exercise; the solution is shown.",
        "You have used all %(count)d attempts at this exercise; the solution is shown.",
        state.max_attempts,
    ) % {"count": state.max_attempts}


def _validate_duration(duration_ms: Any) -> None:
    if duration_ms is not None and (
        isinstance(duration_ms, bool)
        or not isinstance(duration_ms, int)
        or not 0 <= duration_ms <= MAX_DURATION_MS
    ):
        raise AttemptError(f"duration_ms must be between 0 and {MAX_DURATION_MS}.")


@transaction.atomic
def attempt_submit(
    *,
    user: User,
    exercise: Exercise,
    answer: Any,
    duration_ms: int | None = None,
) -> AttemptResult:
    """Grade an answer on the server, append the attempt, and announce it after commit.

    Refused with AttemptLimitError once the exercise takes no more answers (ExerciseState).
    The hints counted are the ones this learner revealed (HintReveal), never a client's number.
    """
    _enrollment_lock(
        user=user, exercise=exercise, message="Enrol in the course before answering its exercises."
    )
    _validate_duration(duration_ms)
    answer_validate(answer)
    before = exercise_state_for_user(user=user, exercise=exercise)
    if not before.accepts_attempts:
        raise AttemptLimitError(_refusal(before))
    grade = answer_grade(exercise=exercise, answer=answer, choices=list(exercise.choices.all()))
    attempt = Attempt.objects.create(
        user=user,
        exercise=exercise,
        course_id=exercise.course_id,
        answer=grade.normalised_answer,
        is_correct=grade.is_correct,
        hints_used=before.hints_used,
        duration_ms=duration_ms,
    )
    transaction.on_commit(partial(attempt_recorded_send, attempt_id=attempt.pk))
    after = exercise_state_for_user(user=user, exercise=exercise)
    return attempt_result_build(
        exercise=exercise, state=after, attempt=attempt, feedback=grade.feedback
    )


def attempt_preview(*, exercise: Exercise, answer: Any) -> AttemptResult:
    """Grade an editor's answer as a learner's first attempt would be, recording nothing."""
    answer_validate(answer)
    grade = answer_grade(exercise=exercise, answer=answer, choices=list(exercise.choices.all()))
    state = ExerciseState(
        exercise_id=exercise.pk,
        max_attempts=exercise.max_attempts,
        attempts_used=1,
        solved_on_attempt=1 if grade.is_correct else None,
        answer=grade.normalised_answer,
    )
    return attempt_result_build(exercise=exercise, state=state, feedback=grade.feedback)


@transaction.atomic
def solution_reveal(*, user: User, exercise: Exercise) -> AttemptResult:
    """Show the learner the solution, recorded as a wrong answer that ends the exercise.

    Idempotent: once the solution is shown (solved, exhausted or revealed) nothing is recorded.
    """
    _enrollment_lock(
        user=user, exercise=exercise, message="Enrol in the course before opening its solutions."
    )
    before = exercise_state_for_user(user=user, exercise=exercise)
    if before.shows_solution:
        return attempt_result_build(exercise=exercise, state=before)
    attempt = Attempt.objects.create(
        user=user,
        exercise=exercise,
        course_id=exercise.course_id,
        answer="",
        is_correct=False,
        is_revealed=True,
        hints_used=before.hints_used,
    )
    # The model reads it like any wrong answer: the learner did not show the skill.
    transaction.on_commit(partial(attempt_recorded_send, attempt_id=attempt.pk))
    after = exercise_state_for_user(user=user, exercise=exercise)
    return attempt_result_build(exercise=exercise, state=after, attempt=attempt)


def solution_preview(*, exercise: Exercise) -> AttemptResult:
    """The solution as an editor previewing the exercise sees it, recording nothing."""
    state = ExerciseState(
        exercise_id=exercise.pk, max_attempts=exercise.max_attempts, is_revealed=True
    )
    return attempt_result_build(exercise=exercise, state=state)


@transaction.atomic
def hint_reveal_next(*, user: User, exercise: Exercise) -> HintRevealResult:
    """Record and return the learner's next hint; the count goes into their next attempts."""
    _enrollment_lock(
        user=user, exercise=exercise, message="Enrol in the course before opening its hints."
    )
    hints = list(exercise.hints.all())
    shown = exercise_state_for_user(user=user, exercise=exercise).hint_positions
    hint = next((hint for hint in hints if hint.position not in shown), None)
    if hint is None:
        return HintRevealResult(hint=None, hints_used=len(shown), hint_total=len(hints))
    HintReveal.objects.create(user=user, exercise=exercise, position=hint.position)
    return HintRevealResult(hint=hint, hints_used=len(shown) + 1, hint_total=len(hints))


def hint_preview(*, exercise: Exercise, shown: int) -> HintRevealResult:
    """The hint after the first `shown` ones, for an editor previewing (nothing recorded)."""
    hints = list(exercise.hints.all())
    shown = max(0, min(shown, len(hints)))
    hint = hints[shown] if shown < len(hints) else None
    return HintRevealResult(hint=hint, hints_used=shown + (hint is not None), hint_total=len(hints))


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
