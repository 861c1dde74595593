"""Every page issues the same number of SQL queries for a small and a four times larger course.

A fixed cap would pass an N+1 query that stays under it on the sizes tested; comparing two sizes
catches any query whose count grows with modules, lessons, exercises, skills or learners.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from courses.models import Choice, Exercise, Hint, Lesson, LessonBlock, Module, Skill
from learners.models import Attempt, Enrollment, LessonEvent
from tests.factories import CourseFactory, TeacherFactory, UserFactory

pytestmark = pytest.mark.django_db

# The small course; the large one has `scale` times as many of each.
MODULES, LESSONS_PER_MODULE, BLOCKS, SKILLS, LEARNERS = 2, 4, 6, 8, 6


def course_of_size(name: str, scale: int):
    modules, lessons_per_module = MODULES * scale, LESSONS_PER_MODULE * scale
    blocks, skill_count, learner_count = BLOCKS * scale, SKILLS * scale, LEARNERS * scale
    teacher = TeacherFactory(username=f"{name}-teacher")
    student = UserFactory(username=f"{name}-student")
    course = CourseFactory(owner=teacher, slug=name)
    skills = Skill.objects.bulk_create(
        Skill(course=course, name=f"Skill {n}") for n in range(skill_count)
    )
    module_rows = Module.objects.bulk_create(
        Module(course=course, title=f"Module {m}", position=m + 1) for m in range(modules)
    )
    lessons = Lesson.objects.bulk_create(
        Lesson(module=module, title=f"Lesson {m}.{n}", slug=f"l{n}", position=n + 1)
        for m, module in enumerate(module_rows)
        for n in range(lessons_per_module)
    )
    for lesson in lessons:
        lesson.skills.set(skills[:3])
    exercises = Exercise.objects.bulk_create(
        Exercise(course=course, title=f"E{n}", prompt_md="Pick", kind="single")
        for n in range(blocks)
    )
    Choice.objects.bulk_create(
        Choice(exercise=exercise, text=t, is_correct=t == "a", position=p)
        for exercise in exercises
        for p, t in enumerate("abc")
    )
    Hint.objects.bulk_create(Hint(exercise=e, position=1, text="h") for e in exercises)
    for exercise in exercises:
        exercise.skills.set(skills[:2])
    lesson = lessons[0]
    LessonBlock.objects.bulk_create(
        [LessonBlock(lesson=lesson, position=1, kind="text", body_md="# Hi")]
        + [
            LessonBlock(lesson=lesson, position=n + 2, kind="video", media="v.mp4")
            for n in range(2 * scale)
        ]
        + [
            LessonBlock(lesson=lesson, position=n + 10, kind="exercise", exercise=exercise)
            for n, exercise in enumerate(exercises)
        ]
    )
    learners = [UserFactory(username=f"{name}-learner{n}") for n in range(learner_count)]
    Enrollment.objects.bulk_create(
        Enrollment(user=user, course=course) for user in [student, *learners]
    )
    Attempt.objects.bulk_create(
        Attempt(user=user, exercise=exercise, course=course, answer=1, is_correct=n % 2 == 0)
        for n, (user, exercise) in enumerate(
            (user, exercise) for user in learners for exercise in exercises[: 3 * scale]
        )
    )
    LessonEvent.objects.bulk_create(
        LessonEvent(user=student, lesson=item, verb="completed") for item in lessons[: 3 * scale]
    )
    return teacher, student, course, lesson


@pytest.fixture
def two_courses():
    return course_of_size("small", 1), course_of_size("large", 4)


def page_queries(client, built, who: str, url_name: str) -> int:
    teacher, student, course, lesson = built
    client.logout()
    if who != "anonymous":
        client.force_login(teacher if who == "teacher" else student)
    args = {
        "courses:catalogue": [],
        "courses:studio_home": [],
        "adaptive:dashboard": [],
        "learners:lesson": [course.slug, lesson.pk],
        "courses:studio_lesson": [course.slug, lesson.pk],
    }.get(url_name, [course.slug])
    client.get(reverse(url_name, args=args))  # warm per-process caches (sessions, translations)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(url_name, args=args))
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    ("who", "url_name"),
    [
        ("anonymous", "courses:catalogue"),
        ("student", "learners:course_detail"),
        ("student", "learners:lesson"),
        ("student", "adaptive:dashboard"),
        ("teacher", "courses:studio_home"),
        ("teacher", "courses:studio_course"),
        ("teacher", "courses:studio_lesson"),
        ("teacher", "courses:studio_exercises"),
        ("teacher", "courses:studio_skills"),
        ("teacher", "adaptive:class_dashboard"),
    ],
)
def test_page_queries_do_not_grow_with_course_size(client, two_courses, who, url_name):
    small, large = two_courses
    assert page_queries(client, large, who, url_name) == page_queries(client, small, who, url_name)
