"""Learner reads: video resume position and course progress."""

from datetime import timedelta

import pytest
from django.utils import timezone

from learners.models import Enrollment, LessonEvent
from learners.selectors import (
    CourseProgress,
    course_progress,
    enrollment_get_active,
    progress_for_user,
    video_resume_position,
)
from tests.factories import (
    AttemptFactory,
    CourseFactory,
    EnrollmentFactory,
    ExerciseFactory,
    LessonBlockFactory,
    LessonEventFactory,
    LessonFactory,
    ModuleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

START = timezone.now() - timedelta(days=1)


@pytest.fixture
def video():
    return LessonBlockFactory(kind="video", media="v.mp4", duration_seconds=100)


def _event(user, block, verb, position=None, *, minute: int) -> LessonEvent:
    return LessonEventFactory(
        user=user,
        lesson=block.lesson,
        block=block,
        verb=verb,
        position_seconds=position,
        created_at=START + timedelta(minutes=minute),
    )


def test_resume_position_is_zero_when_unwatched(video):
    assert video_resume_position(user=UserFactory(), block=video) == 0.0


def test_resume_position_is_the_latest_position(video):
    user = UserFactory()
    _event(user, video, "played", 0, minute=1)
    _event(user, video, "paused", 61.5, minute=3)
    _event(user, video, "seeked", 30, minute=2)
    _event(user, video, "viewed", None, minute=4)

    assert video_resume_position(user=user, block=video) == 61.5


def test_resume_position_ignores_other_learners_and_blocks(video):
    user, other = UserFactory(), UserFactory()
    sibling = LessonBlockFactory(lesson=video.lesson, kind="video", media="w.mp4")
    _event(user, video, "paused", 20, minute=1)
    _event(other, video, "paused", 70, minute=2)
    _event(user, sibling, "paused", 80, minute=3)

    assert video_resume_position(user=user, block=video) == 20.0


def test_resume_position_is_zero_after_completion(video):
    user = UserFactory()
    _event(user, video, "paused", 50, minute=1)
    _event(user, video, "completed", None, minute=2)

    assert video_resume_position(user=user, block=video) == 0.0


def test_resume_position_after_rewatching_a_completed_video(video):
    user = UserFactory()
    _event(user, video, "completed", None, minute=1)
    _event(user, video, "paused", 12, minute=2)

    assert video_resume_position(user=user, block=video) == 12.0


@pytest.mark.parametrize(("position", "expected"), [(97.9, 97.9), (98, 0.0), (99.5, 0.0)])
def test_resume_position_is_zero_near_the_end(video, position, expected):
    user = UserFactory()
    _event(user, video, "paused", position, minute=1)

    assert video_resume_position(user=user, block=video) == expected


def test_active_enrolment_excludes_dropped():
    enrollment = EnrollmentFactory(status=Enrollment.Status.DROPPED)

    assert enrollment_get_active(user=enrollment.user, course=enrollment.course) is None


def _course_with_activity(user):
    course = CourseFactory(slug="algebra", title="Algebra")
    first = ModuleFactory(course=course, position=1)
    second = ModuleFactory(course=course, position=2)
    lessons = [
        LessonFactory(module=first, position=1),
        LessonFactory(module=first, position=2),
        LessonFactory(module=second, position=1),
    ]
    exercises = [ExerciseFactory(course=course) for _ in range(3)]
    enrollment = EnrollmentFactory(user=user, course=course, enrolled_at=START)
    # Lesson 0 completed twice, lesson 1 once, lesson 2 only viewed.
    for lesson, verb in [
        (lessons[0], "completed"),
        (lessons[0], "completed"),
        (lessons[1], "completed"),
        (lessons[2], "viewed"),
    ]:
        LessonEventFactory(user=user, lesson=lesson, verb=verb)
    # Exercise 0: wrong then right; exercise 1: wrong; exercise 2: untouched.
    for exercise, is_correct in [
        (exercises[0], False),
        (exercises[0], True),
        (exercises[1], False),
    ]:
        AttemptFactory(user=user, exercise=exercise, is_correct=is_correct)
    # Another learner's activity in the same course counts for nobody else.
    stranger = UserFactory()
    LessonEventFactory(user=stranger, lesson=lessons[2], verb="completed")
    AttemptFactory(user=stranger, exercise=exercises[2], is_correct=True)
    return enrollment, lessons, exercises


def test_course_progress_counts_exactly():
    user = UserFactory()
    enrollment, _, _ = _course_with_activity(user)
    # Activity in another course stays there.
    LessonEventFactory(user=user, verb="completed")
    AttemptFactory(user=user, is_correct=True)

    progress = course_progress(user=user, enrollment=enrollment)

    assert progress == CourseProgress(
        course_id=enrollment.course_id,
        course_slug="algebra",
        course_title="Algebra",
        enrollment_status="active",
        lessons_total=3,
        lessons_completed=2,
        exercises_total=3,
        exercises_attempted=2,
        exercises_solved=1,
        attempts=3,
        correct_attempts=1,
    )
    # lessons and exercises count alike: (2 lessons + 1 exercise solved) of 6 items
    assert progress.percent_complete == 50.0


def test_course_progress_of_an_empty_course_is_zero():
    enrollment = EnrollmentFactory()

    progress = course_progress(user=enrollment.user, enrollment=enrollment)

    assert (progress.lessons_total, progress.attempts, progress.percent_complete) == (0, 0, 0.0)


def test_progress_for_user_lists_courses_not_dropped_newest_first():
    user = UserFactory()
    enrollment, _, _ = _course_with_activity(user)
    newer = EnrollmentFactory(user=user, enrolled_at=START + timedelta(hours=1))
    EnrollmentFactory(user=user, status=Enrollment.Status.DROPPED)
    EnrollmentFactory(user=UserFactory())

    progress = progress_for_user(user=user)

    assert [item.course_id for item in progress] == [newer.course_id, enrollment.course_id]
    assert [(item.lessons_completed, item.exercises_solved) for item in progress] == [
        (0, 0),
        (2, 1),
    ]


def test_course_progress_query_count_does_not_grow_with_activity(
    django_assert_max_num_queries,
):
    user = UserFactory()
    enrollment, lessons, exercises = _course_with_activity(user)

    def measure() -> CourseProgress:
        fresh = Enrollment.objects.get(pk=enrollment.pk)
        with django_assert_max_num_queries(5):
            return course_progress(user=user, enrollment=fresh)

    small = measure()
    module = lessons[0].module
    more_lessons = [LessonFactory(module=module, position=10 + n) for n in range(25)]
    for lesson in more_lessons:
        LessonEventFactory(user=user, lesson=lesson, verb="completed")
    for exercise in exercises * 15:
        AttemptFactory(user=user, exercise=exercise, is_correct=True)
    large = measure()

    assert (small.lessons_total, large.lessons_total) == (3, 28)
    assert (small.lessons_completed, large.lessons_completed) == (2, 27)
    assert (small.attempts, large.attempts) == (3, 48)
    assert (small.exercises_solved, large.exercises_solved) == (1, 3)
