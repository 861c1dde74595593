"""Reads of learner activity; every function takes the user whose data it returns."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from courses.models import Course, Exercise, Lesson, LessonBlock
from learners.models import Attempt, Enrollment, LessonEvent, User

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
        if not self.lessons_total:
            return 0.0
        return round(100.0 * self.lessons_completed / self.lessons_total, 1)


def enrollment_get_active(*, user: User, course: Course) -> Enrollment | None:
    """The user's active (or completed) enrolment in the course, if any."""
    return Enrollment.objects.filter(
        user=user,
        course=course,
        status__in=[Enrollment.Status.ACTIVE, Enrollment.Status.COMPLETED],
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
    """Ids of the course's lessons the user marked complete."""
    return set(
        LessonEvent.objects.filter(
            user=user, lesson__module__course=course, verb=LessonEvent.Verb.COMPLETED
        ).values_list("lesson_id", flat=True)
    )


def course_progress(*, user: User, enrollment: Enrollment) -> CourseProgress:
    """Lessons completed and exercises solved by the user in one course, in four queries."""
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


def progress_for_user(*, user: User) -> list[CourseProgress]:
    """Progress in every course the user is enrolled in."""
    enrollments = (
        Enrollment.objects.filter(user=user)
        .exclude(status=Enrollment.Status.DROPPED)
        .select_related("course")
        .order_by("-enrolled_at")
    )
    return [course_progress(user=user, enrollment=enrollment) for enrollment in enrollments]
