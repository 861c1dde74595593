"""A small world for API tests: two courses (published and draft) and six actors."""

import functools
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, models, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from adaptive.models import (
    LearnerState,
    LearningPath,
    ModelVersion,
    PathStep,
    TrainingRun,
)
from courses.models import (
    Choice,
    Course,
    Exercise,
    Hint,
    Lesson,
    LessonBlock,
    Module,
    Skill,
    SkillPrerequisite,
)
from learners.models import Attempt, Enrollment, LessonEvent, User
from tests.factories import (
    AttemptFactory,
    ChoiceFactory,
    CourseFactory,
    EnrollmentFactory,
    ExerciseFactory,
    HintFactory,
    LessonBlockFactory,
    LessonEventFactory,
    LessonFactory,
    ModuleFactory,
    SkillFactory,
    TeacherFactory,
    UserFactory,
)

ACTORS = ("anonymous", "student_a", "student_b", "owner", "other_teacher", "staff")
PASSWORD = "pass-word-123"

WATCHED_MODELS: tuple[type[models.Model], ...] = (
    User,
    Course,
    Module,
    Lesson,
    LessonBlock,
    Skill,
    SkillPrerequisite,
    Exercise,
    Choice,
    Hint,
    Enrollment,
    Attempt,
    LessonEvent,
    Token,
    LearnerState,
    LearningPath,
    PathStep,
    ModelVersion,
    TrainingRun,
)


def _watched_tables() -> list[str]:
    tables = [model._meta.db_table for model in WATCHED_MODELS]
    tables += [
        Course.instructors.through._meta.db_table,
        Lesson.skills.through._meta.db_table,
        Exercise.skills.through._meta.db_table,
    ]
    return tables


def database_snapshot() -> dict[str, str]:
    """A digest of every row of every API-reachable table, to prove nothing changed.

    One query for all tables: the access matrix takes thousands of these.
    """
    tables = _watched_tables()
    digests = ", ".join(
        # Table names come from our models, never from input.
        f"(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t)"  # noqa: S608
        for table in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {digests}")
        row = cursor.fetchone()
    return dict(zip(tables, row, strict=True))


@functools.cache
def _shared_client() -> APIClient:
    return APIClient()


@dataclass
class Content:
    course: Course
    module: Module
    lesson: Lesson
    text_block: LessonBlock
    video_block: LessonBlock
    exercise_block: LessonBlock
    skill: Skill
    skill_2: Skill
    skill_3: Skill
    exercise: Exercise
    correct_choice: Choice
    wrong_choice: Choice


@dataclass
class World:
    users: dict[str, User | None]
    published: Content
    draft: Content
    enrollment_a: Enrollment
    enrollment_b: Enrollment
    attempt_a: Attempt
    attempt_b: Attempt
    event_a: LessonEvent
    event_b: LessonEvent
    course_run: TrainingRun
    global_run: TrainingRun

    def client(self, actor: str) -> APIClient:
        # One client for the module: a new client loads every middleware again (slow).
        client = _shared_client()
        user = self.users[actor]
        # A fresh instance each time: a request may change the user it was given.
        client.force_authenticate(None if user is None else User.objects.get(pk=user.pk))
        return client


def _content(owner: User, status: str, label: str) -> Content:
    course = CourseFactory(
        owner=owner,
        status=status,
        slug=f"{label}-course",
        title=f"{label.title()} course",
        description_md="Learn **things**.",
        published_at=None if status == Course.Status.DRAFT else timezone.now(),
    )
    module = ModuleFactory(course=course, position=1, title=f"{label} module")
    ModuleFactory(course=course, position=2, title=f"{label} second module")
    lesson = LessonFactory(module=module, position=1, slug=f"{label}-lesson")
    LessonFactory(module=module, position=2, slug=f"{label}-lesson-2")
    skill = SkillFactory(course=course, name=f"{label} fractions")
    skill_2 = SkillFactory(course=course, name=f"{label} decimals")
    skill_3 = SkillFactory(course=course, name=f"{label} percentages")
    SkillPrerequisite.objects.create(skill=skill_2, requires=skill)
    lesson.skills.add(skill)
    exercise = ExerciseFactory(
        course=course,
        kind=Exercise.Kind.SINGLE,
        numeric_answer=None,
        prompt_md="Which is *half*?",
        explanation_md="One half is 1/2.",
    )
    exercise.skills.add(skill)
    correct_choice = ChoiceFactory(
        exercise=exercise, text="1/2", is_correct=True, feedback="Right.", position=1
    )
    wrong_choice = ChoiceFactory(
        exercise=exercise, text="1/3", is_correct=False, feedback="Too small.", position=2
    )
    HintFactory(exercise=exercise, position=1, text="Split it in two.")
    HintFactory(exercise=exercise, position=2, text="Two equal parts.")
    text_block = LessonBlockFactory(lesson=lesson, position=1, body_md="Read *this*.")
    video_block = LessonBlockFactory(
        lesson=lesson,
        position=2,
        kind=LessonBlock.Kind.VIDEO,
        body_md="",
        media="lessons/media/clip.mp4",
        duration_seconds=120,
    )
    exercise_block = LessonBlockFactory(
        lesson=lesson, position=3, kind=LessonBlock.Kind.EXERCISE, body_md="", exercise=exercise
    )
    return Content(
        course=course,
        module=module,
        lesson=lesson,
        text_block=text_block,
        video_block=video_block,
        exercise_block=exercise_block,
        skill=skill,
        skill_2=skill_2,
        skill_3=skill_3,
        exercise=exercise,
        correct_choice=correct_choice,
        wrong_choice=wrong_choice,
    )


def _build_world() -> World:
    owner = TeacherFactory(username="owner")
    users: dict[str, User | None] = {
        "anonymous": None,
        "student_a": UserFactory(username="student_a"),
        "student_b": UserFactory(username="student_b"),
        "owner": owner,
        "other_teacher": TeacherFactory(username="other_teacher"),
        # Staff powers come from is_staff alone, not from the teacher role.
        "staff": UserFactory(username="staff", is_staff=True),
    }
    published = _content(owner, Course.Status.PUBLISHED, "published")
    draft = _content(owner, Course.Status.DRAFT, "draft")
    student_a, student_b = users["student_a"], users["student_b"]
    enrollment_a = EnrollmentFactory(user=student_a, course=published.course)
    enrollment_b = EnrollmentFactory(user=student_b, course=published.course)
    attempt_kwargs = {"exercise": published.exercise, "answer": published.correct_choice.pk}
    attempt_a = AttemptFactory(user=student_a, **attempt_kwargs)
    attempt_b = AttemptFactory(user=student_b, **attempt_kwargs)
    event_kwargs = {
        "lesson": published.lesson,
        "block": published.video_block,
        "verb": LessonEvent.Verb.PAUSED,
    }
    event_a = LessonEventFactory(user=student_a, position_seconds=30.0, **event_kwargs)
    event_b = LessonEventFactory(user=student_b, position_seconds=75.0, **event_kwargs)
    return World(
        users=users,
        published=published,
        draft=draft,
        enrollment_a=enrollment_a,
        enrollment_b=enrollment_b,
        attempt_a=attempt_a,
        attempt_b=attempt_b,
        event_a=event_a,
        event_b=event_b,
        # A finished run: an open one would make every retrain request a 409 (one per scope).
        course_run=TrainingRun.objects.create(
            course=published.course,
            trigger=TrainingRun.Trigger.MANUAL,
            requested_by=owner,
            status=TrainingRun.Status.SUCCEEDED,
        ),
        global_run=TrainingRun.objects.create(course=None, trigger=TrainingRun.Trigger.SCHEDULE),
    )


@pytest.fixture(scope="module")
def _module_world(django_db_setup, django_db_blocker):
    """One world per test module, built once; each test runs in a savepoint inside it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _build_world()
        transaction.set_rollback(True)


@pytest.fixture
def world(_module_world: World, db) -> World:
    return _module_world


def error_of(response: Any) -> dict[str, Any]:
    """The error body every API error shares; fails the test when the shape differs."""
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}, error
    assert isinstance(error["code"], str)
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["fields"], dict)
    return error
