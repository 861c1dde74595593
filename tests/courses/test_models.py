"""Catalogue invariants that the database itself enforces (services are bypassed on purpose)."""

import pytest
from django.db import IntegrityError, transaction

from courses.models import Course, Exercise, Lesson, LessonBlock, Module, SkillPrerequisite
from tests.factories import (
    CourseFactory,
    ExerciseFactory,
    LessonBlockFactory,
    LessonFactory,
    ModuleFactory,
    SkillFactory,
)

pytestmark = pytest.mark.django_db


def _refused(create) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_module_position_is_unique_within_a_course():
    module = ModuleFactory(position=1)

    _refused(lambda: Module.objects.create(course=module.course, title="Again", position=1))

    assert list(Module.objects.values_list("title", flat=True)) == [module.title]


def test_module_position_may_repeat_across_courses():
    first = ModuleFactory(position=1)

    second = ModuleFactory(position=1)

    assert first.course_id != second.course_id


def test_lesson_position_is_unique_within_a_module():
    lesson = LessonFactory(position=3)

    _refused(
        lambda: Lesson.objects.create(module=lesson.module, title="Again", slug="x", position=3)
    )

    assert Lesson.objects.count() == 1


def test_lesson_slug_is_unique_within_a_module():
    lesson = LessonFactory(slug="intro", position=1)

    _refused(
        lambda: Lesson.objects.create(module=lesson.module, title="B", slug="intro", position=2)
    )

    assert Lesson.objects.count() == 1


def test_block_position_is_unique_within_a_lesson():
    block = LessonBlockFactory(position=1)

    _refused(
        lambda: LessonBlock.objects.create(
            lesson=block.lesson, position=1, kind=LessonBlock.Kind.TEXT, body_md="x"
        )
    )

    assert LessonBlock.objects.count() == 1


def test_hint_position_is_unique_within_an_exercise():
    exercise = ExerciseFactory()
    exercise.hints.create(position=1, text="First")

    _refused(lambda: exercise.hints.create(position=1, text="Second"))

    assert list(exercise.hints.values_list("text", flat=True)) == ["First"]


def test_published_course_needs_published_at():
    owner = CourseFactory().owner

    _refused(
        lambda: Course.objects.create(
            owner=owner, slug="pub", title="Pub", status=Course.Status.PUBLISHED, published_at=None
        )
    )

    assert not Course.objects.filter(slug="pub").exists()


def test_draft_course_needs_no_published_at():
    course = CourseFactory(status=Course.Status.DRAFT, published_at=None)

    assert course.is_published is False


def test_course_slug_is_unique():
    course = CourseFactory(slug="python")

    _refused(lambda: Course.objects.create(owner=course.owner, slug="python", title="Other"))

    assert Course.objects.count() == 1


def test_exercise_block_needs_an_exercise():
    lesson = LessonFactory()

    _refused(
        lambda: LessonBlock.objects.create(
            lesson=lesson, position=1, kind=LessonBlock.Kind.EXERCISE
        )
    )

    assert LessonBlock.objects.count() == 0


def test_text_block_cannot_link_an_exercise():
    lesson = LessonFactory()
    exercise = ExerciseFactory(course=lesson.module.course)

    _refused(
        lambda: LessonBlock.objects.create(
            lesson=lesson, position=1, kind=LessonBlock.Kind.TEXT, exercise=exercise
        )
    )

    assert LessonBlock.objects.count() == 0


def test_image_block_needs_alt_text():
    lesson = LessonFactory()

    _refused(
        lambda: LessonBlock.objects.create(
            lesson=lesson, position=1, kind=LessonBlock.Kind.IMAGE, media="a.png", alt_text=""
        )
    )

    assert LessonBlock.objects.count() == 0


def test_media_block_needs_a_file():
    lesson = LessonFactory()

    _refused(
        lambda: LessonBlock.objects.create(
            lesson=lesson, position=1, kind=LessonBlock.Kind.VIDEO, media=""
        )
    )

    assert LessonBlock.objects.count() == 0


def test_numeric_exercise_needs_an_answer():
    course = CourseFactory()

    _refused(
        lambda: Exercise.objects.create(
            course=course, prompt_md="?", kind=Exercise.Kind.NUMERIC, numeric_answer=None
        )
    )

    assert Exercise.objects.count() == 0


def test_exercise_tolerance_cannot_be_negative():
    course = CourseFactory()

    _refused(
        lambda: Exercise.objects.create(
            course=course,
            prompt_md="?",
            kind=Exercise.Kind.NUMERIC,
            numeric_answer=1.0,
            tolerance=-0.1,
        )
    )

    assert Exercise.objects.count() == 0


def test_exercise_kind_must_be_known():
    course = CourseFactory()

    _refused(lambda: Exercise.objects.create(course=course, prompt_md="?", kind="essay"))

    assert Exercise.objects.count() == 0


def test_skill_cannot_require_itself():
    skill = SkillFactory()

    _refused(lambda: SkillPrerequisite.objects.create(skill=skill, requires=skill))

    assert SkillPrerequisite.objects.count() == 0


def test_prerequisite_cannot_be_recorded_twice():
    skill = SkillFactory()
    requires = SkillFactory(course=skill.course)
    SkillPrerequisite.objects.create(skill=skill, requires=requires)

    _refused(lambda: SkillPrerequisite.objects.create(skill=skill, requires=requires))

    assert SkillPrerequisite.objects.count() == 1


def test_skill_name_is_unique_within_a_course():
    skill = SkillFactory(name="Fractions")

    _refused(lambda: SkillFactory(course=skill.course, name="Fractions"))

    assert skill.course.skills.count() == 1


def test_skill_prerequisites_are_not_symmetrical():
    skill = SkillFactory()
    requires = SkillFactory(course=skill.course)

    SkillPrerequisite.objects.create(skill=skill, requires=requires)

    assert list(skill.prerequisites.all()) == [requires]
    assert list(requires.prerequisites.all()) == []
    assert list(requires.dependents.all()) == [skill]
