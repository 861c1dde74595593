"""A small course with every kind of block, a teacher who owns it and an enrolled student."""

from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from courses.models import Course, Exercise, Lesson, LessonBlock, Skill
from learners.models import User
from tests.factories import (
    ChoiceFactory,
    CourseFactory,
    EnrollmentFactory,
    ExerciseFactory,
    HintFactory,
    LessonBlockFactory,
    LessonFactory,
    ModuleFactory,
    SkillFactory,
    TeacherFactory,
    UserFactory,
)

# The first bytes of an MP4 file: enough for the signature check of the upload validators.
MP4_BYTES = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64
VTT_BYTES = b"WEBVTT\n\n00:00.000 --> 00:02.000\nHello\n"


@dataclass
class Classroom:
    teacher: User
    student: User
    course: Course
    lessons: list[Lesson]
    skills: list[Skill]
    single: Exercise
    numeric: Exercise
    video: LessonBlock


@pytest.fixture
def classroom(db) -> Classroom:
    teacher = TeacherFactory(username="teacher")
    student = UserFactory(username="student")
    course = CourseFactory(owner=teacher, slug="algebra", title="Algebra basics")
    fractions = SkillFactory(course=course, name="Fractions")
    equations = SkillFactory(course=course, name="Equations")
    module = ModuleFactory(course=course, title="Numbers", position=1)
    first = LessonFactory(module=module, title="What is a fraction", slug="fractions", position=1)
    second = LessonFactory(module=module, title="Solving equations", slug="equations", position=2)
    first.skills.set([fractions])
    single = ExerciseFactory(
        course=course,
        title="Half",
        kind=Exercise.Kind.SINGLE,
        numeric_answer=None,
        prompt_md="Which is **one half**?",
        explanation_md="One half is 1/2.",
    )
    single.skills.set([fractions])
    ChoiceFactory(exercise=single, text="1/2", is_correct=True, position=1)
    ChoiceFactory(exercise=single, text="1/3", is_correct=False, position=2, feedback="Too small.")
    HintFactory(exercise=single, position=1, text="Two equal parts.")
    HintFactory(exercise=single, position=2, text="The denominator is 2.")
    numeric = ExerciseFactory(course=course, title="Product")
    numeric.skills.set([equations])
    LessonBlockFactory(lesson=first, position=1, body_md="# Fractions\n\n```\nprint(1/2)\n```")
    video = LessonBlockFactory(
        lesson=first,
        position=2,
        kind=LessonBlock.Kind.VIDEO,
        body_md="",
        media=SimpleUploadedFile("intro.mp4", MP4_BYTES),
        captions=SimpleUploadedFile("intro.vtt", VTT_BYTES),
        duration_seconds=60,
        transcript="Hello and welcome.",
    )
    LessonBlockFactory(
        lesson=first, position=3, kind=LessonBlock.Kind.EXERCISE, body_md="", exercise=single
    )
    LessonBlockFactory(
        lesson=second, position=1, kind=LessonBlock.Kind.EXERCISE, body_md="", exercise=numeric
    )
    EnrollmentFactory(user=student, course=course)
    return Classroom(
        teacher, student, course, [first, second], [fractions, equations], single, numeric, video
    )
