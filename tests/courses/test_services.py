"""Course authoring services: every write to the catalogue."""

import io
import random
import threading
import time
import wave
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from PIL import Image

from courses import services as services_module
from courses.exceptions import ApplicationError, CourseStateError, PrerequisiteCycleError
from courses.models import (
    Choice,
    Course,
    Exercise,
    Lesson,
    LessonBlock,
    Module,
    SkillPrerequisite,
)
from courses.selectors import skill_prerequisite_graph, skill_topological_order
from courses.services import (
    ChoiceData,
    course_archive,
    course_create,
    course_publish,
    course_unpublish,
    course_update,
    exercise_create,
    exercise_delete,
    exercise_update,
    lesson_block_create,
    lesson_block_reorder,
    lesson_block_update,
    lesson_create,
    lesson_reorder,
    lesson_update,
    module_create,
    module_reorder,
    skill_create,
    skill_prerequisite_add,
    skill_prerequisite_remove,
    skill_prerequisites_set,
)
from learners.models import LessonEvent
from tests.factories import (
    AttemptFactory,
    CourseFactory,
    ExerciseFactory,
    LessonBlockFactory,
    LessonEventFactory,
    LessonFactory,
    ModuleFactory,
    SkillFactory,
    TeacherFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _png(name: str = "diagram.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), color=(200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def _wav(name: str = "clip.wav") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(8000)
        clip.writeframes(b"\x00\x00" * 800)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="audio/wav")


def _mp4(name: str = "talk.mp4") -> SimpleUploadedFile:
    # The first box of an MP4 file: size, "ftyp", brand. Enough for a signature check.
    head = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    return SimpleUploadedFile(name, head + b"\x00" * 64, content_type="video/mp4")


def _vtt(text: str, name: str = "talk.vtt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/vtt")


def _draft_course(**fields) -> Course:
    return CourseFactory(status=Course.Status.DRAFT, published_at=None, **fields)


# Courses -------------------------------------------------------------------------------------


def test_teacher_creates_a_draft_course_with_a_slug_from_the_title():
    teacher = TeacherFactory()

    course = course_create(owner=teacher, title="Linear Algebra, Part 1")

    course.refresh_from_db()
    assert (course.slug, course.status, course.owner, course.published_at) == (
        "linear-algebra-part-1",
        Course.Status.DRAFT,
        teacher,
        None,
    )


def test_staff_who_is_not_a_teacher_creates_a_course():
    staff = UserFactory(is_staff=True)

    course = course_create(owner=staff, title="Ops")

    assert course.owner == staff


def test_student_cannot_create_a_course():
    student = UserFactory()

    with pytest.raises(ApplicationError) as error:
        course_create(owner=student, title="Mine")

    assert error.value.message == "Only teachers can create courses."
    assert Course.objects.count() == 0


def test_generated_slugs_are_unique():
    teacher = TeacherFactory()

    slugs = [course_create(owner=teacher, title="Statistics").slug for _ in range(3)]

    assert slugs == ["statistics", "statistics-2", "statistics-3"]


def test_explicit_duplicate_slug_is_refused():
    teacher = TeacherFactory()
    course_create(owner=teacher, title="A", slug="taken")

    with pytest.raises(ValidationError) as error:
        course_create(owner=teacher, title="B", slug="taken")

    assert "slug" in error.value.message_dict
    assert list(Course.objects.values_list("title", flat=True)) == ["A"]


def test_course_update_changes_the_given_fields():
    course = _draft_course(title="Old", summary="s")

    course_update(course=course, title="New", summary="Better")

    course.refresh_from_db()
    assert (course.title, course.summary) == ("New", "Better")


def test_course_update_refuses_an_unknown_field():
    course = _draft_course(title="Old")

    with pytest.raises(ApplicationError) as error:
        course_update(course=course, title="New", status=Course.Status.PUBLISHED)

    assert error.value.message == "These fields cannot be changed here: status."
    course.refresh_from_db()
    assert (course.title, course.status) == ("Old", Course.Status.DRAFT)


def test_course_update_refuses_an_empty_title():
    course = _draft_course(title="Old")

    with pytest.raises(ValidationError):
        course_update(course=course, title="")

    course.refresh_from_db()
    assert course.title == "Old"


def test_publishing_needs_a_lesson():
    course = _draft_course()
    ModuleFactory(course=course)

    with pytest.raises(CourseStateError, match="at least one lesson"):
        course_publish(course=course)

    course.refresh_from_db()
    assert (course.status, course.published_at) == (Course.Status.DRAFT, None)


def test_publishing_sets_published_at_once():
    course = _draft_course()
    LessonFactory(module__course=course)

    first = course_publish(course=course)
    course_unpublish(course=course)
    second = course_publish(course=course)

    assert first.status == Course.Status.PUBLISHED
    assert first.published_at is not None
    assert second.published_at == first.published_at
    course.refresh_from_db()
    assert (course.status, course.published_at) == (Course.Status.PUBLISHED, first.published_at)


def test_publishing_a_published_course_changes_nothing():
    published_at = timezone.now() - timedelta(days=3)
    course = CourseFactory(published_at=published_at)

    again = course_publish(course=course)

    assert (again.status, again.published_at) == (Course.Status.PUBLISHED, published_at)


def test_unpublish_returns_the_course_to_draft():
    course = CourseFactory()

    course_unpublish(course=course)

    course.refresh_from_db()
    assert course.status == Course.Status.DRAFT


def test_archive_takes_the_course_out_of_the_catalogue():
    course = CourseFactory()

    course_archive(course=course)

    course.refresh_from_db()
    assert course.status == Course.Status.ARCHIVED
    assert course.published_at is not None


# Modules, lessons, blocks ----------------------------------------------------------------------


def test_modules_are_appended_in_order():
    course = _draft_course()

    modules = [module_create(course=course, title=f"M{n}") for n in range(3)]

    assert [module.position for module in modules] == [1, 2, 3]


def test_module_positions_continue_after_the_highest():
    course = _draft_course()
    ModuleFactory(course=course, position=7)

    module = module_create(course=course, title="Next")

    assert module.position == 8


def test_lessons_are_appended_with_unique_slugs():
    module = ModuleFactory()

    lessons = [lesson_create(module=module, title="Vectors") for _ in range(2)]

    assert [(lesson.position, lesson.slug) for lesson in lessons] == [
        (1, "vectors"),
        (2, "vectors-2"),
    ]


def test_lesson_gets_skills_of_its_course():
    module = ModuleFactory()
    skill = SkillFactory(course=module.course)

    lesson = lesson_create(module=module, title="Sums", skills=[skill])

    assert list(lesson.skills.all()) == [skill]


def test_lesson_refuses_a_skill_of_another_course():
    module = ModuleFactory()
    foreign = SkillFactory(name="Foreign")

    with pytest.raises(ApplicationError, match="'Foreign' belongs to another course"):
        lesson_create(module=module, title="Sums", skills=[foreign])

    assert module.lessons.count() == 0


def test_lesson_update_refuses_a_skill_of_another_course():
    lesson = LessonFactory(title="Old")
    own = SkillFactory(course=lesson.module.course)
    lesson.skills.set([own])

    with pytest.raises(ApplicationError):
        lesson_update(lesson=lesson, title="New", skills=[SkillFactory()])

    lesson.refresh_from_db()
    assert lesson.title == "Old"
    assert list(lesson.skills.all()) == [own]


def test_blocks_are_appended_in_order():
    lesson = LessonFactory()

    first = lesson_block_create(lesson=lesson, kind=LessonBlock.Kind.TEXT, body_md="One")
    second = lesson_block_create(lesson=lesson, kind=LessonBlock.Kind.TEXT, body_md="Two")

    assert (first.position, second.position) == (1, 2)


def test_module_reorder_applies_the_exact_order():
    course = _draft_course()
    first, second, third = (module_create(course=course, title=f"M{n}") for n in range(3))

    ordered = module_reorder(course=course, module_ids=[third.pk, first.pk, second.pk])

    assert [module.pk for module in ordered] == [third.pk, first.pk, second.pk]
    assert list(Module.objects.filter(course=course).values_list("pk", "position")) == [
        (third.pk, 1),
        (first.pk, 2),
        (second.pk, 3),
    ]


def test_lesson_reorder_applies_the_exact_order():
    module = ModuleFactory()
    first, second = (lesson_create(module=module, title=f"L{n}") for n in range(2))

    ordered = lesson_reorder(module=module, lesson_ids=[second.pk, first.pk])

    assert [(lesson.pk, lesson.position) for lesson in ordered] == [(second.pk, 1), (first.pk, 2)]


def test_block_reorder_applies_the_exact_order():
    lesson = LessonFactory()
    blocks = [
        lesson_block_create(lesson=lesson, kind=LessonBlock.Kind.TEXT, body_md=str(n))
        for n in range(3)
    ]

    ordered = lesson_block_reorder(
        lesson=lesson, block_ids=[blocks[1].pk, blocks[2].pk, blocks[0].pk]
    )

    assert [(block.body_md, block.position) for block in ordered] == [
        ("1", 1),
        ("2", 2),
        ("0", 3),
    ]


@pytest.mark.parametrize(
    "pick",
    [
        pytest.param(lambda ids, other: ids[:2], id="missing"),
        pytest.param(lambda ids, other: [*ids, ids[0]], id="duplicate"),
        pytest.param(lambda ids, other: [*ids[:2], other], id="foreign"),
        pytest.param(lambda ids, other: [], id="empty"),
    ],
)
def test_reorder_with_the_wrong_ids_is_refused_and_changes_nothing(pick):
    course = _draft_course()
    modules = [module_create(course=course, title=f"M{n}") for n in range(3)]
    other = ModuleFactory().pk
    ids = [module.pk for module in modules]

    with pytest.raises(ApplicationError, match="exactly once"):
        module_reorder(course=course, module_ids=pick(list(reversed(ids)), other))

    assert list(Module.objects.filter(course=course).values_list("pk", "position")) == [
        (ids[0], 1),
        (ids[1], 2),
        (ids[2], 3),
    ]


# Skill prerequisites ---------------------------------------------------------------------------


def test_prerequisite_is_added():
    skill = SkillFactory()
    requires = SkillFactory(course=skill.course)

    link = skill_prerequisite_add(skill=skill, requires=requires)

    assert (link.skill, link.requires) == (skill, requires)
    assert list(SkillPrerequisite.objects.values_list("skill", "requires")) == [
        (skill.pk, requires.pk)
    ]


def test_adding_a_prerequisite_twice_keeps_one_edge():
    skill = SkillFactory()
    requires = SkillFactory(course=skill.course)
    first = skill_prerequisite_add(skill=skill, requires=requires)

    second = skill_prerequisite_add(skill=skill, requires=requires)

    assert second.pk == first.pk
    assert SkillPrerequisite.objects.count() == 1


def test_prerequisite_is_removed_and_removing_again_is_harmless():
    skill = SkillFactory()
    requires = SkillFactory(course=skill.course)
    skill_prerequisite_add(skill=skill, requires=requires)

    skill_prerequisite_remove(skill=skill, requires=requires)
    skill_prerequisite_remove(skill=skill, requires=requires)

    assert SkillPrerequisite.objects.count() == 0


def test_prerequisite_from_another_course_is_refused():
    skill = SkillFactory()
    foreign = SkillFactory()

    with pytest.raises(ApplicationError, match="same course"):
        skill_prerequisite_add(skill=skill, requires=foreign)

    assert SkillPrerequisite.objects.count() == 0


def test_skill_requiring_itself_is_refused():
    skill = SkillFactory(name="Loops")

    with pytest.raises(PrerequisiteCycleError) as error:
        skill_prerequisite_add(skill=skill, requires=skill)

    assert error.value.message == "Skill 'Loops' cannot require itself."
    assert SkillPrerequisite.objects.count() == 0


def test_prerequisite_closing_a_cycle_is_refused_with_the_cycle_named_in_order():
    course = _draft_course()
    a, b, c = (skill_create(course=course, name=name) for name in "ABC")
    skill_prerequisite_add(skill=a, requires=b)
    skill_prerequisite_add(skill=b, requires=c)

    with pytest.raises(PrerequisiteCycleError) as error:
        skill_prerequisite_add(skill=c, requires=a)

    assert error.value.message == (
        "This prerequisite would close a cycle: C requires A requires B requires C."
    )
    assert error.value.extra == {"cycle": ["C", "A", "B", "C"]}
    assert set(SkillPrerequisite.objects.values_list("skill__name", "requires__name")) == {
        ("A", "B"),
        ("B", "C"),
    }


def test_prerequisite_closing_a_two_cycle_is_refused():
    course = _draft_course()
    a, b = (skill_create(course=course, name=name) for name in "AB")
    skill_prerequisite_add(skill=a, requires=b)

    with pytest.raises(PrerequisiteCycleError) as error:
        skill_prerequisite_add(skill=b, requires=a)

    assert error.value.message == "This prerequisite would close a cycle: B requires A requires B."
    assert SkillPrerequisite.objects.count() == 1


def test_diamond_of_prerequisites_is_not_a_cycle():
    course = _draft_course()
    top, left, right, bottom = (skill_create(course=course, name=n) for n in "TLRB")
    for skill, requires in [(top, left), (top, right), (left, bottom), (right, bottom)]:
        skill_prerequisite_add(skill=skill, requires=requires)

    assert SkillPrerequisite.objects.count() == 4
    assert skill_topological_order(course=course) == [bottom.pk, left.pk, right.pk, top.pk]


def _is_acyclic(graph: dict[int, set[int]]) -> bool:
    remaining = {node: set(edges) for node, edges in graph.items()}
    while remaining:
        ready = [node for node, edges in remaining.items() if not edges]
        if not ready:
            return False
        for node in ready:
            del remaining[node]
        for edges in remaining.values():
            edges.difference_update(ready)
    return True


def test_random_prerequisite_edits_keep_the_graph_acyclic():
    rng = random.Random(20261130)
    course = _draft_course()
    skills = [skill_create(course=course, name=f"S{n}") for n in range(8)]
    refused = 0

    for _ in range(60):
        skill, requires = rng.sample(skills, 2)
        before = set(SkillPrerequisite.objects.values_list("skill_id", "requires_id"))
        if rng.random() < 0.15:
            skill_prerequisite_remove(skill=skill, requires=requires)
            continue
        try:
            skill_prerequisite_add(skill=skill, requires=requires)
        except PrerequisiteCycleError:
            refused += 1
            assert set(SkillPrerequisite.objects.values_list("skill_id", "requires_id")) == before
        assert _is_acyclic(skill_prerequisite_graph(course=course))

    # The seed is chosen so the run both adds edges and refuses some.
    assert refused > 0
    assert SkillPrerequisite.objects.count() > 5


# Exercises --------------------------------------------------------------------------------------


def _choices(*correct: bool) -> list[ChoiceData]:
    return [
        ChoiceData(text=f"Option {n}", is_correct=flag, feedback=f"fb {n}")
        for n, flag in enumerate(correct)
    ]


def test_single_choice_exercise_is_created_with_choices_hints_and_skills():
    course = _draft_course()
    skill = SkillFactory(course=course)

    exercise = exercise_create(
        course=course,
        kind=Exercise.Kind.SINGLE,
        prompt_md="Pick one",
        choices=_choices(False, True, False),
        hints=["Look closely", "It is the second"],
        skills=[skill],
        explanation_md="Because.",
    )

    assert list(exercise.choices.values_list("text", "is_correct", "feedback", "position")) == [
        ("Option 0", False, "fb 0", 1),
        ("Option 1", True, "fb 1", 2),
        ("Option 2", False, "fb 2", 3),
    ]
    assert list(exercise.hints.values_list("position", "text")) == [
        (1, "Look closely"),
        (2, "It is the second"),
    ]
    assert list(exercise.skills.all()) == [skill]
    assert exercise.explanation_md == "Because."


def test_multiple_choice_exercise_may_have_several_correct_choices():
    exercise = exercise_create(
        course=_draft_course(),
        kind=Exercise.Kind.MULTIPLE,
        prompt_md="Pick all",
        choices=_choices(True, True, False),
    )

    assert list(exercise.choices.values_list("is_correct", flat=True)) == [True, True, False]


def test_numeric_exercise_is_created():
    exercise = exercise_create(
        course=_draft_course(),
        kind=Exercise.Kind.NUMERIC,
        prompt_md="6 x 7?",
        numeric_answer=42,
        tolerance=0.5,
    )

    exercise.refresh_from_db()
    assert (exercise.numeric_answer, exercise.tolerance, exercise.choices.count()) == (42.0, 0.5, 0)


def test_text_exercise_is_created():
    exercise = exercise_create(
        course=_draft_course(),
        kind=Exercise.Kind.TEXT,
        prompt_md="Capital of France?",
        accepted_answers=["Paris", "paris, france"],
    )

    exercise.refresh_from_db()
    assert exercise.accepted_answers == ["Paris", "paris, france"]


@pytest.mark.parametrize(
    ("kind", "fields", "message_field"),
    [
        pytest.param("single", {"choices": _choices(False, False)}, "choices", id="single-0"),
        pytest.param("single", {"choices": _choices(True, True)}, "choices", id="single-2"),
        pytest.param("single", {"choices": _choices(True)}, "choices", id="single-1-choice"),
        pytest.param("single", {}, "choices", id="single-no-choices"),
        pytest.param("multiple", {"choices": _choices(False, False)}, "choices", id="multi-0"),
        pytest.param(
            "multiple",
            {"choices": [ChoiceData(" ", True), ChoiceData("b")]},
            "choices",
            id="blank-choice",
        ),
        pytest.param(
            "single",
            {"choices": [ChoiceData("a" * 501, True), ChoiceData("b")]},
            "choices",
            id="choice-too-long",
        ),
        pytest.param("text", {}, "accepted_answers", id="text-none"),
        pytest.param("text", {"accepted_answers": [" "]}, "accepted_answers", id="text-blank"),
        pytest.param("text", {"accepted_answers": "Paris"}, "accepted_answers", id="text-str"),
        pytest.param("numeric", {}, "numeric_answer", id="numeric-no-answer"),
        pytest.param(
            "numeric",
            {"numeric_answer": 1.0, "tolerance": -1.0},
            "tolerance",
            id="negative-tolerance",
        ),
        pytest.param(
            "numeric",
            {"numeric_answer": 1.0, "choices": _choices(True, False)},
            "choices",
            id="numeric-choices",
        ),
        pytest.param("essay", {}, "kind", id="unknown-kind"),
    ],
)
def test_invalid_exercise_is_refused(kind, fields, message_field):
    course = _draft_course()

    with pytest.raises(ValidationError) as error:
        exercise_create(course=course, kind=kind, prompt_md="?", **fields)

    assert message_field in error.value.message_dict
    assert (Exercise.objects.count(), Choice.objects.count()) == (0, 0)


def test_exercise_with_a_skill_of_another_course_is_refused():
    course = _draft_course()

    with pytest.raises(ApplicationError, match="belongs to another course"):
        exercise_create(
            course=course,
            kind=Exercise.Kind.NUMERIC,
            prompt_md="?",
            numeric_answer=1,
            skills=[SkillFactory()],
        )

    assert Exercise.objects.count() == 0


@pytest.mark.parametrize("bad_hint", ["  ", None, 3])
def test_exercise_with_an_empty_hint_is_refused(bad_hint):
    with pytest.raises(ValidationError) as error:
        exercise_create(
            course=_draft_course(),
            kind=Exercise.Kind.NUMERIC,
            prompt_md="?",
            numeric_answer=1,
            hints=["fine", bad_hint],
        )

    assert error.value.message_dict == {"hints": ["A hint cannot be empty."]}
    assert Exercise.objects.count() == 0


def _single_choice_exercise():
    course = _draft_course()
    return exercise_create(
        course=course,
        kind=Exercise.Kind.SINGLE,
        prompt_md="Pick",
        choices=_choices(True, False),
        hints=["old hint"],
        skills=[SkillFactory(course=course, name="Old")],
    )


def test_exercise_update_replaces_choices_hints_and_skills():
    exercise = _single_choice_exercise()
    new_skill = SkillFactory(course=exercise.course, name="New")

    exercise_update(
        exercise=exercise,
        prompt_md="Pick again",
        choices=[ChoiceData("x"), ChoiceData("y"), ChoiceData("z", is_correct=True)],
        hints=["h1", "h2"],
        skills=[new_skill],
    )

    exercise.refresh_from_db()
    assert exercise.prompt_md == "Pick again"
    assert list(exercise.choices.values_list("text", "is_correct")) == [
        ("x", False),
        ("y", False),
        ("z", True),
    ]
    assert list(exercise.hints.values_list("text", flat=True)) == ["h1", "h2"]
    assert list(exercise.skills.values_list("name", flat=True)) == ["New"]


def test_exercise_update_without_children_keeps_them():
    exercise = _single_choice_exercise()

    exercise_update(exercise=exercise, title="Renamed")

    assert list(exercise.choices.values_list("text", flat=True)) == ["Option 0", "Option 1"]
    assert list(exercise.hints.values_list("text", flat=True)) == ["old hint"]
    assert list(exercise.skills.values_list("name", flat=True)) == ["Old"]


def test_exercise_update_with_invalid_choices_changes_nothing():
    exercise = _single_choice_exercise()

    with pytest.raises(ValidationError):
        exercise_update(
            exercise=exercise,
            prompt_md="Changed",
            choices=[ChoiceData("a", True), ChoiceData("b", True)],
        )

    exercise.refresh_from_db()
    assert exercise.prompt_md == "Pick"
    assert list(exercise.choices.values_list("text", "is_correct")) == [
        ("Option 0", True),
        ("Option 1", False),
    ]


def test_exercise_update_refuses_an_unknown_field():
    exercise = _single_choice_exercise()

    with pytest.raises(ApplicationError, match="course"):
        exercise_update(exercise=exercise, course=CourseFactory())

    exercise.refresh_from_db()
    assert exercise.course.title != ""


def test_exercise_update_refuses_skills_of_another_course():
    exercise = _single_choice_exercise()

    with pytest.raises(ApplicationError):
        exercise_update(exercise=exercise, skills=[SkillFactory()])

    assert list(exercise.skills.values_list("name", flat=True)) == ["Old"]


def test_changing_a_choice_exercise_to_numeric_drops_its_choices():
    exercise = _single_choice_exercise()

    exercise_update(exercise=exercise, kind=Exercise.Kind.NUMERIC, numeric_answer=3)

    exercise.refresh_from_db()
    assert (exercise.kind, exercise.numeric_answer, exercise.choices.count()) == ("numeric", 3.0, 0)


def test_changing_a_numeric_exercise_to_single_needs_choices():
    exercise = ExerciseFactory(course=_draft_course())

    with pytest.raises(ValidationError):
        exercise_update(exercise=exercise, kind=Exercise.Kind.SINGLE)

    exercise.refresh_from_db()
    assert exercise.kind == Exercise.Kind.NUMERIC


# Blocks with media ------------------------------------------------------------------------------


def test_image_block_with_a_real_png_is_stored():
    lesson = LessonFactory()

    block = lesson_block_create(
        lesson=lesson, kind=LessonBlock.Kind.IMAGE, media=_png(), alt_text="A red square"
    )

    block.refresh_from_db()
    assert block.media.name.startswith("lessons/media/diagram")
    assert block.media.read()[:8] == b"\x89PNG\r\n\x1a\n"


def test_image_block_with_bytes_that_are_not_an_image_is_refused():
    lesson = LessonFactory()
    fake = SimpleUploadedFile("photo.png", b"<html>not an image</html>", content_type="image/png")

    with pytest.raises(ValidationError) as error:
        lesson_block_create(lesson=lesson, kind=LessonBlock.Kind.IMAGE, media=fake, alt_text="x")

    assert error.value.message_dict == {"media": ["The file is not a valid image."]}
    assert LessonBlock.objects.count() == 0


@pytest.mark.parametrize("alt_text", ["", "   "])
def test_image_block_without_alt_text_is_refused(alt_text):
    lesson = LessonFactory()

    with pytest.raises(ValidationError) as error:
        lesson_block_create(
            lesson=lesson, kind=LessonBlock.Kind.IMAGE, media=_png(), alt_text=alt_text
        )

    assert error.value.message_dict == {"alt_text": ["An image block needs alt text."]}
    assert LessonBlock.objects.count() == 0


def test_video_block_with_an_mp4_and_captions_is_stored():
    lesson = LessonFactory()

    block = lesson_block_create(
        lesson=lesson,
        kind=LessonBlock.Kind.VIDEO,
        media=_mp4(),
        captions=_vtt("WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n"),
        duration_seconds=60,
    )

    block.refresh_from_db()
    assert block.captions.read().startswith(b"WEBVTT")
    assert block.duration_seconds == 60


def test_video_block_with_a_fake_mp4_is_refused():
    lesson = LessonFactory()
    fake = SimpleUploadedFile("talk.mp4", b"this is plain text, not a video", "video/mp4")

    with pytest.raises(ValidationError) as error:
        lesson_block_create(lesson=lesson, kind=LessonBlock.Kind.VIDEO, media=fake)

    assert error.value.message_dict == {"media": ["The file is not a video."]}
    assert LessonBlock.objects.count() == 0


def test_video_block_with_an_image_file_is_refused():
    lesson = LessonFactory()

    with pytest.raises(ValidationError) as error:
        lesson_block_create(lesson=lesson, kind=LessonBlock.Kind.VIDEO, media=_png())

    assert list(error.value.message_dict) == ["media"]
    assert LessonBlock.objects.count() == 0


def test_video_block_with_audio_under_a_video_name_is_refused():
    lesson = LessonFactory()

    with pytest.raises(ValidationError) as error:
        lesson_block_create(lesson=lesson, kind=LessonBlock.Kind.VIDEO, media=_wav("talk.mp4"))

    assert error.value.message_dict == {"media": ["The file is not a video."]}
    assert LessonBlock.objects.count() == 0


def test_audio_block_with_a_tiny_wav_is_stored():
    lesson = LessonFactory()

    block = lesson_block_create(
        lesson=lesson, kind=LessonBlock.Kind.AUDIO, media=_wav(), transcript="Silence."
    )

    block.refresh_from_db()
    assert block.media.read()[:4] == b"RIFF"
    assert block.transcript == "Silence."


def test_captions_must_start_with_webvtt():
    lesson = LessonFactory()
    srt = _vtt("1\n00:00:00,000 --> 00:00:01,000\nHello\n", name="talk.vtt")

    with pytest.raises(ValidationError) as error:
        lesson_block_create(lesson=lesson, kind=LessonBlock.Kind.VIDEO, media=_mp4(), captions=srt)

    assert error.value.message_dict == {
        "captions": ["Captions must be a WebVTT file starting with WEBVTT."]
    }
    assert LessonBlock.objects.count() == 0


def test_media_block_without_a_file_is_refused():
    lesson = LessonFactory()

    with pytest.raises(ValidationError) as error:
        lesson_block_create(lesson=lesson, kind=LessonBlock.Kind.AUDIO)

    assert error.value.message_dict == {"media": ["This audio block needs a media file."]}
    assert LessonBlock.objects.count() == 0


def test_exercise_block_without_an_exercise_is_refused():
    lesson = LessonFactory()

    with pytest.raises(ValidationError) as error:
        lesson_block_create(lesson=lesson, kind=LessonBlock.Kind.EXERCISE)

    assert error.value.message_dict == {"exercise": ["An exercise block needs an exercise."]}
    assert LessonBlock.objects.count() == 0


def test_text_block_linking_an_exercise_is_refused():
    lesson = LessonFactory()
    exercise = ExerciseFactory(course=lesson.module.course)

    with pytest.raises(ValidationError) as error:
        lesson_block_create(lesson=lesson, kind=LessonBlock.Kind.TEXT, exercise=exercise)

    assert error.value.message_dict == {"exercise": ["Only an exercise block links an exercise."]}
    assert LessonBlock.objects.count() == 0


def test_exercise_block_links_an_exercise_of_the_same_course():
    lesson = LessonFactory()
    exercise = ExerciseFactory(course=lesson.module.course)

    block = lesson_block_create(lesson=lesson, kind=LessonBlock.Kind.EXERCISE, exercise=exercise)

    assert block.exercise == exercise


def test_exercise_block_with_an_exercise_of_another_course_is_refused():
    lesson = LessonFactory()

    with pytest.raises(ValidationError) as error:
        lesson_block_create(
            lesson=lesson, kind=LessonBlock.Kind.EXERCISE, exercise=ExerciseFactory()
        )

    assert error.value.message_dict == {"exercise": ["The exercise belongs to another course."]}
    assert LessonBlock.objects.count() == 0


def test_block_create_refuses_an_unknown_field():
    lesson = LessonFactory()

    with pytest.raises(ApplicationError, match="position"):
        lesson_block_create(lesson=lesson, kind=LessonBlock.Kind.TEXT, position=9)

    assert LessonBlock.objects.count() == 0


def test_block_update_validates_a_new_file():
    block = LessonBlockFactory(kind=LessonBlock.Kind.TEXT, body_md="Before")
    fake = SimpleUploadedFile("x.png", b"nope", content_type="image/png")

    with pytest.raises(ValidationError):
        lesson_block_update(block=block, kind=LessonBlock.Kind.IMAGE, media=fake, alt_text="x")

    block.refresh_from_db()
    assert (block.kind, block.body_md, block.media.name) == ("text", "Before", "")


def test_prerequisites_set_replaces_the_whole_set():
    course = _draft_course()
    a, b, c, d = (skill_create(course=course, name=name) for name in "ABCD")
    skill_prerequisite_add(skill=a, requires=b)
    skill_prerequisite_add(skill=a, requires=c)

    links = skill_prerequisites_set(skill=a, requires=[c, d])

    assert [(link.skill_id, link.requires_id) for link in links] == [(a.pk, c.pk), (a.pk, d.pk)]
    assert set(SkillPrerequisite.objects.values_list("skill__name", "requires__name")) == {
        ("A", "C"),
        ("A", "D"),
    }


def test_prerequisites_set_closing_a_cycle_is_refused_and_changes_nothing():
    course = _draft_course()
    a, b, c = (skill_create(course=course, name=name) for name in "ABC")
    skill_prerequisite_add(skill=a, requires=b)
    skill_prerequisite_add(skill=b, requires=c)

    with pytest.raises(PrerequisiteCycleError) as error:
        skill_prerequisites_set(skill=c, requires=[a])

    assert error.value.message == (
        "This prerequisite would close a cycle: C requires A requires B requires C."
    )
    assert set(SkillPrerequisite.objects.values_list("skill__name", "requires__name")) == {
        ("A", "B"),
        ("B", "C"),
    }


def test_answered_exercise_cannot_be_deleted():
    attempt = AttemptFactory()

    with pytest.raises(ApplicationError, match="cannot be removed"):
        exercise_delete(exercise=attempt.exercise)

    assert Exercise.objects.filter(pk=attempt.exercise_id).exists()


def test_unused_exercise_is_deleted_with_its_choices():
    exercise = _single_choice_exercise()

    exercise_delete(exercise=exercise)

    assert (Exercise.objects.count(), Choice.objects.count()) == (0, 0)


@pytest.mark.django_db(transaction=True)
def test_concurrent_opposite_prerequisites_cannot_close_a_cycle_together(monkeypatch):
    # given two edits that each look fine alone, with the graph read slowed down so that
    # without the per-course lock both would read the empty graph and both would insert
    course = _draft_course()
    a, b = (skill_create(course=course, name=name) for name in "AB")
    real_graph = services_module.skill_prerequisite_graph

    def slow_graph(*, course):
        graph = real_graph(course=course)
        time.sleep(0.3)
        return graph

    monkeypatch.setattr(services_module, "skill_prerequisite_graph", slow_graph)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def edit(skill, requires):
        start.wait()
        try:
            skill_prerequisite_add(skill=skill, requires=requires)
            outcomes.append("added")
        except PrerequisiteCycleError:
            outcomes.append("refused")
        finally:
            connection.close()

    # when
    threads = [
        threading.Thread(target=edit, args=(a, b)),
        threading.Thread(target=edit, args=(b, a)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then
    assert sorted(outcomes) == ["added", "refused"]
    assert SkillPrerequisite.objects.count() == 1


def test_a_lesson_with_learner_activity_is_not_deleted():
    # given a lesson a learner has viewed
    event = LessonEventFactory()
    lesson = event.lesson

    # when / then
    with pytest.raises(ApplicationError, match="This lesson has learner activity"):
        services_module.lesson_delete(lesson=lesson)
    with pytest.raises(ApplicationError, match="This module has lessons with learner activity"):
        services_module.module_delete(module=lesson.module)
    assert Lesson.objects.filter(pk=lesson.pk).exists()
    assert LessonEvent.objects.filter(pk=event.pk).exists()


def test_removing_a_block_keeps_its_events_on_the_lesson():
    block = LessonBlockFactory()
    event = LessonEventFactory(lesson=block.lesson, block=block, verb="played")

    services_module.lesson_block_delete(block=block)

    event.refresh_from_db()
    assert (event.lesson_id, event.block_id) == (block.lesson_id, None)
