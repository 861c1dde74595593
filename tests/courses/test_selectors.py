"""Catalogue reads: visibility, editing rights, syllabus and the skill graph."""

import pytest
from django.contrib.auth.models import AnonymousUser

from courses.models import Course, LessonBlock
from courses.selectors import (
    course_is_editable_by,
    course_list_editable,
    course_list_visible,
    course_syllabus,
    exercise_list_for_course,
    lesson_blocks,
    skill_prerequisite_graph,
    skill_topological_order,
    user_can_author,
)
from courses.services import skill_prerequisite_add
from tests.factories import (
    ChoiceFactory,
    CourseFactory,
    ExerciseFactory,
    HintFactory,
    LessonBlockFactory,
    LessonFactory,
    ModuleFactory,
    SkillFactory,
    TeacherFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_teachers_and_staff_may_author_students_and_anonymous_may_not():
    assert user_can_author(user=TeacherFactory()) is True
    assert user_can_author(user=UserFactory(is_staff=True)) is True
    assert user_can_author(user=UserFactory()) is False
    assert user_can_author(user=AnonymousUser()) is False


def test_owner_instructor_and_staff_may_edit_a_course():
    course = CourseFactory()
    instructor = TeacherFactory()
    course.instructors.add(instructor)

    assert course_is_editable_by(course=course, user=course.owner) is True
    assert course_is_editable_by(course=course, user=instructor) is True
    assert course_is_editable_by(course=course, user=UserFactory(is_staff=True)) is True
    assert course_is_editable_by(course=course, user=TeacherFactory()) is False
    assert course_is_editable_by(course=course, user=UserFactory()) is False
    assert course_is_editable_by(course=course, user=AnonymousUser()) is False


def test_visible_courses_depend_on_who_asks():
    owner = TeacherFactory()
    instructor = TeacherFactory()
    published = CourseFactory(title="A published", owner=owner)
    draft = CourseFactory(
        title="B draft", owner=owner, status=Course.Status.DRAFT, published_at=None
    )
    archived = CourseFactory(title="C archived", status=Course.Status.ARCHIVED)
    other_draft = CourseFactory(
        title="D other draft", status=Course.Status.DRAFT, published_at=None
    )
    other_draft.instructors.add(instructor)

    assert list(course_list_visible(user=AnonymousUser())) == [published]
    assert list(course_list_visible(user=UserFactory())) == [published]
    assert list(course_list_visible(user=owner)) == [published, draft]
    assert list(course_list_visible(user=instructor)) == [published, other_draft]
    assert list(course_list_visible(user=UserFactory(is_staff=True))) == [
        published,
        draft,
        archived,
        other_draft,
    ]


def test_course_with_several_instructors_is_listed_once():
    course = CourseFactory(title="Shared")
    first, second = TeacherFactory(), TeacherFactory()
    course.instructors.add(first, second)

    assert list(course_list_visible(user=first)) == [course]
    assert list(course_list_editable(user=first)) == [course]


def test_editable_courses_are_the_ones_owned_or_taught():
    owner = TeacherFactory()
    owned = CourseFactory(title="Owned", owner=owner)
    taught = CourseFactory(title="Taught")
    taught.instructors.add(owner)
    CourseFactory(title="Other")

    assert list(course_list_editable(user=owner)) == [owned, taught]
    assert list(course_list_editable(user=UserFactory())) == []
    assert list(course_list_editable(user=AnonymousUser())) == []
    assert course_list_editable(user=UserFactory(is_staff=True)).count() == 3


def test_syllabus_lists_modules_and_lessons_in_order_in_three_queries(
    django_assert_num_queries,
):
    course = CourseFactory()
    second = ModuleFactory(course=course, title="Second", position=2)
    first = ModuleFactory(course=course, title="First", position=1)
    skill = SkillFactory(course=course)
    LessonFactory(module=first, title="1.2", position=2)
    LessonFactory(module=first, title="1.1", position=1).skills.add(skill)
    LessonFactory(module=second, title="2.1", position=1)
    ModuleFactory(title="Another course")

    with django_assert_num_queries(3):
        syllabus = course_syllabus(course=course)
        outline = [
            (
                module.title,
                [(lesson.title, list(lesson.skills.all())) for lesson in module.lessons.all()],
            )
            for module in syllabus
        ]

    assert outline == [("First", [("1.1", [skill]), ("1.2", [])]), ("Second", [("2.1", [])])]


def test_lesson_blocks_come_in_order_with_their_exercises(django_assert_num_queries):
    lesson = LessonFactory()
    exercise = ExerciseFactory(course=lesson.module.course)
    HintFactory(exercise=exercise, text="h")
    LessonBlockFactory(
        lesson=lesson, position=2, kind=LessonBlock.Kind.EXERCISE, exercise=exercise, body_md=""
    )
    LessonBlockFactory(lesson=lesson, position=1, body_md="intro")

    with django_assert_num_queries(4):
        blocks = lesson_blocks(lesson=lesson)
        shape = [
            (block.kind, block.exercise and [h.text for h in block.exercise.hints.all()])
            for block in blocks
        ]

    assert shape == [("text", None), ("exercise", ["h"])]


def test_prerequisite_graph_lists_every_skill_of_the_course():
    course = CourseFactory()
    a, b, c = (SkillFactory(course=course, name=name) for name in "abc")
    skill_prerequisite_add(skill=a, requires=b)
    skill_prerequisite_add(skill=a, requires=c)
    SkillFactory(name="elsewhere")

    assert skill_prerequisite_graph(course=course) == {a.pk: {b.pk, c.pk}, b.pk: set(), c.pk: set()}


def test_topological_order_puts_prerequisites_first():
    course = CourseFactory()
    a, b, c, d = (SkillFactory(course=course, name=name) for name in "abcd")
    skill_prerequisite_add(skill=a, requires=b)
    skill_prerequisite_add(skill=b, requires=c)
    skill_prerequisite_add(skill=d, requires=c)

    assert skill_topological_order(course=course) == [c.pk, b.pk, d.pk, a.pk]


def test_exercise_list_prefetches_choices_hints_and_skills(django_assert_num_queries):
    course = CourseFactory()
    first = ExerciseFactory(course=course)
    second = ChoiceFactory(exercise__course=course).exercise
    ExerciseFactory()

    with django_assert_num_queries(4):
        exercises = list(exercise_list_for_course(course=course))
        counts = [(e.choices.count(), e.hints.count(), e.skills.count()) for e in exercises]

    assert [exercise.pk for exercise in exercises] == [first.pk, second.pk]
    assert counts == [(0, 0, 0), (1, 0, 0)]
