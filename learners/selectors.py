"""Reads of learner activity; every function takes the user whose data it returns."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery

from courses.models import Course, Exercise, Lesson, LessonBlock
from courses.selectors import course_list_editable
from learners.models import Attempt, Enrollment, HintReveal, LessonEvent, User

POSITION_VERBS = (
    LessonEvent.Verb.PLAYED,
    LessonEvent.Verb.PAUSED,
    LessonEvent.Verb.SEEKED,
    LessonEvent.Verb.PROGRESSED,
)


@dataclass(frozen=True)
class CourseProgress:
    course_id: int
    course_slug: str
    course_title: str
    enrollment_status: str
    lessons_total: int
    lessons_completed: int
    exercises_total: int
    exercises_attempted: int
    exercises_solved: int
    attempts: int
    correct_attempts: int

    @property
    def percent_complete(self) -> float:
        """Share of the course's items done: lessons completed and exercises solved alike."""
        items = self.lessons_total + self.exercises_total
        if not items:
            return 0.0
        return round(100.0 * (self.lessons_completed + self.exercises_solved) / items, 1)


def enrollment_get_active(*, user: User, course: Course) -> Enrollment | None:
    """The user's active (or completed) enrolment in the course, if any."""
    return Enrollment.objects.filter(
        user=user,
        course=course,
        status__in=[Enrollment.Status.ACTIVE, Enrollment.Status.COMPLETED],
    ).first()


def enrollment_get_dropped(*, user: User, course: Course) -> Enrollment | None:
    """The user's enrolment in the course if they left it (their history is still there)."""
    return Enrollment.objects.filter(
        user=user, course=course, status=Enrollment.Status.DROPPED
    ).first()


def attempt_list_for_user(*, user: User) -> QuerySet[Attempt]:
    """The user's own attempts, newest first."""
    return (
        Attempt.objects.filter(user=user).select_related("exercise").order_by("-created_at", "-id")
    )


def lesson_event_list_for_user(*, user: User) -> QuerySet[LessonEvent]:
    """The user's own lesson events, newest first."""
    return LessonEvent.objects.filter(user=user).order_by("-created_at", "-id")


def video_resume_position(*, user: User, block: LessonBlock) -> float:
    """Seconds into the video where the learner left off (0 when unwatched or finished)."""
    last = (
        LessonEvent.objects.filter(user=user, block=block)
        .filter(Q(verb__in=POSITION_VERBS) | Q(verb=LessonEvent.Verb.COMPLETED))
        .order_by("-created_at", "-id")
        .values_list("verb", "position_seconds")
        .first()
    )
    if last is None or last[0] == LessonEvent.Verb.COMPLETED or last[1] is None:
        return 0.0
    position = float(last[1])
    # A learner who stopped in the last seconds finished the video; start it over next time.
    if block.duration_seconds and position >= block.duration_seconds - 2:
        return 0.0
    return position


def lesson_completed_ids(*, user: User, course: Course) -> set[int]:
    """Ids of the course's lessons the user marked complete.

    A lesson is complete when the learner completes the lesson itself (an event with no block);
    finishing one video of it (a "completed" event on that block) does not complete the lesson.
    """
    return set(
        LessonEvent.objects.filter(
            user=user,
            lesson__module__course=course,
            verb=LessonEvent.Verb.COMPLETED,
            block__isnull=True,
        ).values_list("lesson_id", flat=True)
    )


def course_progress(*, user: User, enrollment: Enrollment) -> CourseProgress:
    """Lessons completed and exercises solved by the user in one course, in four queries.

    `percent_complete` counts both, so the course page, the dashboard and the API agree.
    """
    course = enrollment.course
    lessons_total = Lesson.objects.filter(module__course=course).count()
    exercises_total = Exercise.objects.filter(course=course).count()
    attempts = Attempt.objects.filter(user=user, course=course).aggregate(
        attempts=Count("id"),
        correct=Count("id", filter=Q(is_correct=True)),
        attempted=Count("exercise", distinct=True),
        solved=Count("exercise", filter=Q(is_correct=True), distinct=True),
    )
    return CourseProgress(
        course_id=course.pk,
        course_slug=course.slug,
        course_title=course.title,
        enrollment_status=enrollment.status,
        lessons_total=lessons_total,
        lessons_completed=len(lesson_completed_ids(user=user, course=course)),
        exercises_total=exercises_total,
        exercises_attempted=attempts["attempted"],
        exercises_solved=attempts["solved"],
        attempts=attempts["attempts"],
        correct_attempts=attempts["correct"],
    )


@dataclass(frozen=True)
class ExerciseState:
    """Where one learner stands on one exercise: the attempt policy reads only this.

    The rule: graded answers are taken until the exercise is solved, the solution was asked for,
    or `max_attempts` answers were wrong; the correct answer and the worked explanation are
    shown from then on, never before. A solved exercise still takes answers (spaced review).
    """

    exercise_id: int
    max_attempts: int
    attempts_used: int = 0  # graded attempts; asking for the solution is not one
    solved_on_attempt: int | None = None
    is_revealed: bool = False
    answer: Any = None  # the right answer once solved, else the latest graded one
    hint_positions: frozenset[int] = frozenset()

    @property
    def is_solved(self) -> bool:
        return self.solved_on_attempt is not None

    @property
    def is_exhausted(self) -> bool:
        """Every allowed attempt was wrong, or the learner asked for the solution."""
        return not self.is_solved and (self.is_revealed or self.attempts_used >= self.max_attempts)

    @property
    def accepts_attempts(self) -> bool:
        return not self.is_exhausted

    @property
    def attempts_left(self) -> int:
        if self.is_solved or self.is_exhausted:
            return 0
        return self.max_attempts - self.attempts_used

    @property
    def shows_solution(self) -> bool:
        """The one rule for showing the correct answer and the worked explanation."""
        return self.is_solved or self.is_exhausted

    @property
    def hints_used(self) -> int:
        return len(self.hint_positions)


def exercise_states_for_user(
    *, user: User, exercises: Iterable[Exercise]
) -> dict[int, ExerciseState]:
    """The learner's state on each exercise, in two queries whatever the number of attempts."""
    by_id = {exercise.pk: exercise for exercise in exercises}
    fields: dict[int, dict[str, Any]] = {pk: {"attempts_used": 0} for pk in by_id}
    attempts = (
        Attempt.objects.filter(user=user, exercise_id__in=by_id)
        .order_by("created_at", "id")
        .values_list("exercise_id", "answer", "is_correct", "is_revealed")
    )
    for exercise_id, answer, is_correct, is_revealed in attempts:
        state = fields[exercise_id]
        if is_revealed:
            state["is_revealed"] = True
            continue
        state["attempts_used"] += 1
        if "solved_on_attempt" not in state:
            state["answer"] = answer
            if is_correct:
                state["solved_on_attempt"] = state["attempts_used"]
    positions: dict[int, set[int]] = {}
    reveals = HintReveal.objects.filter(user=user, exercise_id__in=by_id).values_list(
        "exercise_id", "position"
    )
    for exercise_id, position in reveals:
        positions.setdefault(exercise_id, set()).add(position)
    return {
        pk: ExerciseState(
            exercise_id=pk,
            max_attempts=by_id[pk].max_attempts,
            hint_positions=frozenset(positions.get(pk, ())),
            **fields[pk],
        )
        for pk in by_id
    }


def exercise_state_for_user(*, user: User, exercise: Exercise) -> ExerciseState:
    """The learner's state on one exercise."""
    return exercise_states_for_user(user=user, exercises=[exercise])[exercise.pk]


def progress_for_user(*, user: User) -> list[CourseProgress]:
    """Progress in every course the user is enrolled in."""
    enrollments = (
        Enrollment.objects.filter(user=user)
        .exclude(status=Enrollment.Status.DROPPED)
        .select_related("course")
        .order_by("-enrolled_at")
    )
    return [course_progress(user=user, enrollment=enrollment) for enrollment in enrollments]


# Reads for the web pages (lesson player, dashboards) -------------------------------------------


def video_resume_positions(*, user: User, lesson: Lesson) -> dict[int, float]:
    """Resume position of every video and audio block of a lesson, in one query."""
    latest = (
        LessonEvent.objects.filter(user=user, block=OuterRef("pk"))
        .filter(Q(verb__in=POSITION_VERBS) | Q(verb=LessonEvent.Verb.COMPLETED))
        .order_by("-created_at", "-id")
    )
    blocks = (
        LessonBlock.objects.filter(
            lesson=lesson, kind__in=[LessonBlock.Kind.VIDEO, LessonBlock.Kind.AUDIO]
        )
        .annotate(
            last_verb=Subquery(latest.values("verb")[:1]),
            last_position=Subquery(latest.values("position_seconds")[:1]),
        )
        .values_list("pk", "duration_seconds", "last_verb", "last_position")
    )
    positions: dict[int, float] = {}
    for block_id, duration, verb, position in blocks:
        resume = 0.0
        if verb and verb != LessonEvent.Verb.COMPLETED and position is not None:
            resume = float(position)
            # A learner who stopped in the last seconds finished; start over next time.
            if duration and resume >= duration - 2:
                resume = 0.0
        positions[block_id] = resume
    return positions


def lesson_outline_for_course(*, course: Course) -> list[tuple[int, str]]:
    """(lesson id, title) of every lesson of a course in syllabus order, in one query."""
    return list(
        Lesson.objects.filter(module__course=course)
        .order_by("module__position", "position")
        .values_list("pk", "title")
    )


def attempt_recent_for_user(*, user: User, limit: int = 10) -> list[Attempt]:
    """The user's latest attempts with their exercise and course."""
    return list(
        Attempt.objects.filter(user=user)
        .select_related("exercise", "course")
        .order_by("-created_at", "-id")[:limit]
    )


def lesson_event_recent_for_user(*, user: User, limit: int = 10) -> list[LessonEvent]:
    """The user's latest lesson events with their lesson and course."""
    return list(
        LessonEvent.objects.filter(user=user)
        .select_related("lesson__module__course")
        .order_by("-created_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class ExerciseAttemptStats:
    exercise_id: int
    title: str
    kind: str
    attempts: int
    correct_attempts: int
    learners: int

    @property
    def correct_rate(self) -> float | None:
        return self.correct_attempts / self.attempts if self.attempts else None


def exercise_attempt_stats_for_course(*, course_id: int) -> list[ExerciseAttemptStats]:
    """Per-exercise attempts, correct attempts and learners, hardest (lowest rate) first.

    One pass over the course's attempts: the class dashboard reads it from ClassSummary.
    """
    rows = (
        Exercise.objects.filter(course_id=course_id)
        .annotate(
            attempt_count=Count("attempts"),
            correct_count=Count("attempts", filter=Q(attempts__is_correct=True)),
            learner_count=Count("attempts__user", distinct=True),
        )
        .values_list("pk", "title", "kind", "attempt_count", "correct_count", "learner_count")
        .order_by("pk")
    )
    stats = [
        ExerciseAttemptStats(pk, title or f"#{pk}", kind, attempts, correct, learners)
        for pk, title, kind, attempts, correct, learners in rows
    ]
    return sorted(
        stats,
        key=lambda item: (item.correct_rate is None, item.correct_rate or 0.0, item.exercise_id),
    )


def attempt_list_visible(*, user: User, course_id: int | None = None) -> QuerySet[Attempt]:
    """The user's own attempts; with a course the user edits, every attempt in that course."""
    if course_id is None:
        return attempt_list_for_user(user=user)
    if course_list_editable(user=user).filter(pk=course_id).exists():
        return (
            Attempt.objects.filter(course_id=course_id)
            .select_related("exercise")
            .order_by("-created_at", "-id")
        )
    return attempt_list_for_user(user=user).filter(course_id=course_id)


def enrollment_list_for_user(*, user: User) -> QuerySet[Enrollment]:
    """The user's enrolments (dropped ones too), newest first, with their courses."""
    return (
        Enrollment.objects.filter(user=user)
        .select_related("course")
        .order_by("-enrolled_at", "-id")
    )


# Reads for the class dashboard (adaptive.services.class_summary) -------------------------------


@dataclass(frozen=True)
class LearnerActivityStats:
    """One learner's activity in a course, as the class dashboard's learner list shows it."""

    user_id: int
    attempts: int = 0
    correct_attempts: int = 0
    exercises_solved: int = 0
    lessons_completed: int = 0
    last_activity_at: datetime | None = None

    @property
    def correct_rate(self) -> float | None:
        return self.correct_attempts / self.attempts if self.attempts else None

    def percent_complete(self, *, lessons_total: int, exercises_total: int) -> float:
        """The same figure as CourseProgress.percent_complete (the learner's own dashboard)."""
        items = lessons_total + exercises_total
        if not items:
            return 0.0
        return round(100.0 * (self.lessons_completed + self.exercises_solved) / items, 1)


def learner_activity_stats_for_course(*, course_id: int) -> dict[int, LearnerActivityStats]:
    """Every learner's answers, solved exercises, completed lessons and latest activity in a
    course, in two grouped queries (one pass over the course's attempts and lesson events)."""
    fields: dict[int, dict[str, Any]] = {}
    for row in (
        Attempt.objects.filter(course_id=course_id)
        .values("user_id")
        .annotate(
            # Counted as course_progress counts them, so both dashboards say the same.
            attempts=Count("id"),
            correct=Count("id", filter=Q(is_correct=True)),
            solved=Count("exercise", filter=Q(is_correct=True), distinct=True),
            last=Max("created_at"),
        )
        .order_by()
    ):
        fields[row["user_id"]] = {
            "attempts": row["attempts"],
            "correct_attempts": row["correct"],
            "exercises_solved": row["solved"],
            "last_activity_at": row["last"],
        }
    for event_row in (
        LessonEvent.objects.filter(lesson__module__course_id=course_id)
        .values("user_id")
        .annotate(
            completed=Count(
                "lesson",
                filter=Q(verb=LessonEvent.Verb.COMPLETED, block__isnull=True),
                distinct=True,
            ),
            last=Max("created_at"),
        )
        .order_by()
    ):
        entry = fields.setdefault(event_row["user_id"], {})
        entry["lessons_completed"] = event_row["completed"]
        previous, last = entry.get("last_activity_at"), event_row["last"]
        entry["last_activity_at"] = max(previous, last) if previous else last
    return {user_id: LearnerActivityStats(user_id, **values) for user_id, values in fields.items()}


def course_item_totals(*, course_id: int) -> tuple[int, int]:
    """(lessons, exercises) of a course: the denominators of percent_complete."""
    return (
        Lesson.objects.filter(module__course_id=course_id).count(),
        Exercise.objects.filter(course_id=course_id).count(),
    )


def attempt_list_for_learner_in_course(*, user_id: int, course_id: int) -> QuerySet[Attempt]:
    """One learner's attempts in one course, newest first (the teacher's learner page)."""
    return (
        Attempt.objects.filter(user_id=user_id, course_id=course_id)
        .select_related("exercise")
        .order_by("-created_at", "-id")
    )


def lesson_event_recent_for_learner_in_course(
    *, user_id: int, course_id: int, limit: int = 15
) -> list[LessonEvent]:
    """One learner's latest lesson events in one course, with their lesson and block."""
    return list(
        LessonEvent.objects.filter(user_id=user_id, lesson__module__course_id=course_id)
        .select_related("lesson", "block")
        .order_by("-created_at", "-id")[:limit]
    )
