"""Every page issues a bounded number of SQL queries, whatever the size of the course."""

import pytest
from django.urls import reverse

from courses.models import Choice, Exercise, Hint, Lesson, LessonBlock, Module, Skill
from learners.models import Attempt, Enrollment, LessonEvent
from tests.factories import CourseFactory, TeacherFactory, UserFactory

pytestmark = pytest.mark.django_db

MODULES, LESSONS_PER_MODULE, BLOCKS, SKILLS, LEARNERS = 8, 8, 24, 30, 25


@pytest.fixture
def large_course():
    teacher = TeacherFactory(username="big-teacher")
    student = UserFactory(username="big-student")
    course = CourseFactory(owner=teacher, slug="big")
    skills = Skill.objects.bulk_create(
        Skill(course=course, name=f"Skill {n}") for n in range(SKILLS)
    )
    modules = Module.objects.bulk_create(
        Module(course=course, title=f"Module {m}", position=m + 1) for m in range(MODULES)
    )
    lessons = Lesson.objects.bulk_create(
        Lesson(module=module, title=f"Lesson {m}.{n}", slug=f"l{n}", position=n + 1)
        for m, module in enumerate(modules)
        for n in range(LESSONS_PER_MODULE)
    )
    for lesson in lessons:
        lesson.skills.set(skills[:3])
    exercises = Exercise.objects.bulk_create(
        Exercise(course=course, title=f"E{n}", prompt_md="Pick", kind="single")
        for n in range(BLOCKS)
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
            for n in range(4)
        ]
        + [
            LessonBlock(lesson=lesson, position=n + 10, kind="exercise", exercise=exercise)
            for n, exercise in enumerate(exercises)
        ]
    )
    learners = [UserFactory(username=f"learner{n}") for n in range(LEARNERS)]
    Enrollment.objects.bulk_create(
        Enrollment(user=user, course=course) for user in [student, *learners]
    )
    Attempt.objects.bulk_create(
        Attempt(user=user, exercise=exercise, course=course, answer=1, is_correct=n % 2 == 0)
        for n, (user, exercise) in enumerate(
            (user, exercise) for user in learners for exercise in exercises[:6]
        )
    )
    LessonEvent.objects.bulk_create(
        LessonEvent(user=student, lesson=item, verb="completed") for item in lessons[:10]
    )
    return teacher, student, course, lesson


@pytest.mark.parametrize(
    ("who", "url_name", "limit"),
    [
        ("anonymous", "courses:catalogue", 6),
        ("student", "learners:course_detail", 16),
        ("student", "learners:lesson", 22),  # + the learner's attempts and hint reveals
        ("student", "adaptive:dashboard", 16),
        ("teacher", "courses:studio_home", 8),
        ("teacher", "courses:studio_course", 14),
        ("teacher", "courses:studio_lesson", 16),
        ("teacher", "courses:studio_exercises", 12),
        ("teacher", "courses:studio_skills", 12),
        ("teacher", "adaptive:class_dashboard", 14),
    ],
)
def test_page_queries_do_not_grow_with_course_size(
    client, large_course, django_assert_max_num_queries, who, url_name, limit
):
    teacher, student, course, lesson = large_course
    if who != "anonymous":
        client.force_login(teacher if who == "teacher" else student)
    args = {
        "courses:catalogue": [],
        "courses:studio_home": [],
        "adaptive:dashboard": [],
        "learners:lesson": [course.slug, lesson.pk],
        "courses:studio_lesson": [course.slug, lesson.pk],
    }.get(url_name, [course.slug])
    with django_assert_max_num_queries(limit):
        response = client.get(reverse(url_name, args=args))
    assert response.status_code == 200
