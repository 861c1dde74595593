"""Teacher studio and class dashboard through Django's test client."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from courses.models import Course, Exercise, Lesson, LessonBlock, Module, SkillPrerequisite
from tests.factories import AttemptFactory, TeacherFactory, UserFactory

pytestmark = pytest.mark.django_db


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def test_studio_is_for_teachers_only(client, classroom):
    client.force_login(classroom.student)
    assert client.get(reverse("courses:studio_home")).status_code == 403
    client.force_login(TeacherFactory(username="other"))
    assert client.get(reverse("courses:studio_course", args=["algebra"])).status_code == 403
    assert client.get(reverse("adaptive:class_dashboard", args=["algebra"])).status_code == 403


def test_a_teacher_builds_and_publishes_a_course(client):
    teacher = TeacherFactory(username="ada")
    client.force_login(teacher)
    # a draft course
    response = client.post(
        reverse("courses:studio_course_create"),
        {"title": "Graph theory", "summary": "Nodes.", "language": "en", "description_md": "x"},
    )
    course = Course.objects.get(title="Graph theory")
    assert response.url == reverse("courses:studio_course", args=[course.slug])
    assert course.status == Course.Status.DRAFT
    # a module and a lesson
    client.post(reverse("courses:studio_module_create", args=[course.slug]), {"title": "Basics"})
    module = Module.objects.get(course=course)
    client.post(
        reverse("courses:studio_lesson_create", args=[course.slug, module.pk]),
        {"title": "Paths", "estimated_minutes": "5"},
    )
    lesson = Lesson.objects.get(module=module)
    # an image block: verified with Pillow, a fake image refused
    refused = client.post(
        reverse("courses:studio_block_create", args=[course.slug, lesson.pk]),
        {
            "kind": "image",
            "alt_text": "A graph",
            "media": SimpleUploadedFile("graph.png", b"not an image"),
        },
    )
    assert refused.status_code == 200
    assert "not a valid image" in refused.content.decode()
    assert not LessonBlock.objects.exists()
    client.post(
        reverse("courses:studio_block_create", args=[course.slug, lesson.pk]),
        {"kind": "image", "alt_text": "A graph", "media": SimpleUploadedFile("graph.png", _png())},
    )
    assert LessonBlock.objects.get(lesson=lesson).alt_text == "A graph"
    # publish
    client.post(reverse("courses:studio_course_status", args=[course.slug]), {"action": "publish"})
    course.refresh_from_db()
    assert course.status == Course.Status.PUBLISHED


@pytest.mark.parametrize(
    ("fields", "check"),
    [
        (
            {
                "kind": "single",
                "choices-0-text": "Yes",
                "choices-0-is_correct": "on",
                "choices-1-text": "No",
                "choices-1-feedback": "Look again.",
            },
            lambda e: (
                [(c.text, c.is_correct, c.feedback) for c in e.choices.all()]
                == [("Yes", True, ""), ("No", False, "Look again.")]
            ),
        ),
        (
            {
                "kind": "multiple",
                "choices-0-text": "2",
                "choices-0-is_correct": "on",
                "choices-1-text": "3",
                "choices-1-is_correct": "on",
                "choices-2-text": "4",
            },
            lambda e: [c.is_correct for c in e.choices.all()] == [True, True, False],
        ),
        (
            {"kind": "numeric", "numeric_answer": "3.14", "tolerance": "0.01"},
            lambda e: (e.numeric_answer, e.tolerance) == (3.14, 0.01),
        ),
        (
            {"kind": "text", "accepted_answers": "Paris\nparis, France"},
            lambda e: e.accepted_answers == ["Paris", "paris, France"],
        ),
    ],
)
def test_the_exercise_editor_saves_every_kind_with_hints_and_skills(
    client, classroom, fields, check
):
    client.force_login(classroom.teacher)
    data = {
        "title": "New one",
        "prompt_md": "Question?",
        "explanation_md": "Because.",
        "hints": "First hint\nSecond hint",
        "skills": [classroom.skills[0].pk],
        "choices-TOTAL_FORMS": "4",
        "choices-INITIAL_FORMS": "0",
        "choices-MIN_NUM_FORMS": "2",
        "choices-MAX_NUM_FORMS": "12",
        **fields,
    }
    response = client.post(reverse("courses:studio_exercise_create", args=["algebra"]), data)
    assert response.status_code == 302, response.content.decode()
    exercise = Exercise.objects.get(title="New one")
    assert check(exercise)
    assert [h.text for h in exercise.hints.all()] == ["First hint", "Second hint"]
    assert list(exercise.skills.all()) == [classroom.skills[0]]


def test_a_single_choice_exercise_without_a_correct_choice_is_refused(client, classroom):
    client.force_login(classroom.teacher)
    data = {
        "title": "Broken",
        "kind": "single",
        "prompt_md": "?",
        "choices-TOTAL_FORMS": "2",
        "choices-INITIAL_FORMS": "0",
        "choices-0-text": "A",
        "choices-1-text": "B",
    }
    response = client.post(reverse("courses:studio_exercise_create", args=["algebra"]), data)
    assert response.status_code == 200
    assert "needs one correct choice" in response.content.decode()
    assert not Exercise.objects.filter(title="Broken").exists()


def test_the_skill_graph_refuses_a_cycle_with_the_services_message(client, classroom):
    client.force_login(classroom.teacher)
    fractions, equations = classroom.skills
    url = reverse("courses:studio_skills", args=["algebra"])
    client.post(
        url, {"action": "add_prerequisite", "skill": equations.pk, "requires": fractions.pk}
    )
    assert SkillPrerequisite.objects.count() == 1
    page = client.post(
        url, {"action": "add_prerequisite", "skill": fractions.pk, "requires": equations.pk}
    ).content.decode()
    assert "would close a cycle" in page
    assert SkillPrerequisite.objects.count() == 1
    graph = client.get(url).content.decode()
    assert graph.count("<line") == 1
    assert graph.count('class="node"') == 2
    client.post(
        url, {"action": "remove_prerequisite", "skill": equations.pk, "requires": fractions.pk}
    )
    assert SkillPrerequisite.objects.count() == 0


def test_lessons_are_reordered_by_drag_and_drop_and_by_buttons(client, classroom):
    client.force_login(classroom.teacher)
    first, second = classroom.lessons
    url = reverse("courses:studio_reorder", args=["algebra"])
    response = client.post(
        url,
        {"kind": "lesson", "parent": first.module_id, "ids": [second.pk, first.pk]},
        HTTP_ACCEPT="application/json",
    )
    assert response.json()["ids"] == [second.pk, first.pk]
    assert list(Lesson.objects.order_by("position").values_list("pk", flat=True)) == [
        second.pk,
        first.pk,
    ]
    client.post(
        url, {"kind": "lesson", "parent": first.module_id, "move": first.pk, "direction": "up"}
    )
    assert list(Lesson.objects.order_by("position").values_list("pk", flat=True)) == [
        first.pk,
        second.pk,
    ]


def test_a_wrong_reorder_list_is_refused_and_nothing_moves(client, classroom):
    client.force_login(classroom.teacher)
    first, second = classroom.lessons
    response = client.post(
        reverse("courses:studio_reorder", args=["algebra"]),
        {"kind": "lesson", "parent": first.module_id, "ids": [first.pk]},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    assert list(Lesson.objects.order_by("position").values_list("pk", flat=True)) == [
        first.pk,
        second.pk,
    ]


def test_the_teacher_previews_a_lesson_without_recording_anything(client, classroom):
    client.force_login(classroom.teacher)
    page = client.get(
        reverse("learners:lesson", args=["algebra", classroom.lessons[0].pk])
    ).content.decode()
    assert "Preview as a student" in page
    right = classroom.single.choices.get(is_correct=True)
    result = client.post(
        reverse("learners:attempt", args=[classroom.single.pk]), {"answer": str(right.pk)}
    ).content.decode()
    assert "Correct!" in result
    assert "preview: not recorded" in result
    assert not classroom.single.attempts.exists()


def test_class_dashboard_shows_struggling_learners_difficulty_and_empty_states(client, classroom):
    struggler = UserFactory(username="struggler")
    from learners.models import Enrollment

    Enrollment.objects.create(user=struggler, course=classroom.course)
    for is_correct in (False, False, False, True):
        AttemptFactory(user=struggler, exercise=classroom.numeric, is_correct=is_correct)
    client.force_login(classroom.teacher)
    page = client.get(reverse("adaptive:class_dashboard", args=["algebra"])).content.decode()
    assert "2 enrolled learners" in page
    assert '<th scope="row">struggler</th><td>4</td><td>25%</td>' in page
    assert 'data-empty="heatmap"' in page
    assert 'data-empty="models"' in page
    assert "Retrain now" in page


def test_student_dashboard_shows_progress_activity_and_the_honest_empty_path(client, classroom):
    AttemptFactory(user=classroom.student, exercise=classroom.numeric, is_correct=True)
    client.force_login(classroom.student)
    page = client.get(reverse("adaptive:dashboard")).content.decode()
    assert "Algebra basics" in page
    assert "1 correct answers out of 1" in page
    assert "No learning path yet" in page
    assert 'data-empty="mastery"' in page
