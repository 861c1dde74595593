"""Teacher studio and class dashboard through Django's test client."""

import io
import re

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
    assert 'data-empty="heatmap"' in page
    # struggling is a filter of the learner list
    url = reverse("adaptive:class_learners", args=["algebra"])
    listed = client.get(url, {"show": "struggling"}).content.decode()
    assert re.findall(r'<tr data-learner="\d+">\s*<th scope="row"><a [^>]*>(\w+)</a>', listed) == [
        "struggler"
    ]
    assert "<td>4</td>\n      <td>25%</td>" in listed
    assert 'data-empty="models"' in page
    assert "Retrain now" in page


def test_student_dashboard_shows_progress_activity_and_the_honest_empty_path(client, classroom):
    AttemptFactory(user=classroom.student, exercise=classroom.numeric, is_correct=True)
    client.force_login(classroom.student)
    page = client.get(reverse("adaptive:dashboard")).content.decode()
    assert "Algebra basics" in page
    assert "Right answers: 1 of 1." in page
    assert "No learning path yet" in page
    assert 'data-empty="mastery"' in page


# Studio fixes (issue 12) --------------------------------------------------------------------


def test_a_student_opening_the_studio_gets_the_styled_403_with_a_way_to_ask(client, classroom):
    client.force_login(classroom.student)
    response = client.get(reverse("courses:studio_home"))
    page = response.content.decode()
    assert response.status_code == 403
    assert 'data-error="403"' in page
    assert "Only teachers can use the studio." in page
    assert reverse("learners:teach_request") in page
    assert 'class="site-header"' in page  # the site's layout, not a bare "403 Forbidden"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_missing_page_is_the_styled_404_in_the_visitors_language(client, language):
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE=language)
    page = response.content.decode()
    assert response.status_code == 404
    assert 'data-error="404"' in page
    assert f'<html lang="{language}">' in page


def test_the_500_page_renders_without_a_request():
    from django.template.loader import render_to_string
    from django.utils import translation

    # The language of an earlier test's request stays active in the thread: ask for English.
    with translation.override("en"):
        page = render_to_string("500.html")
    assert 'data-error="500"' in page
    assert "Something went wrong on our side" in page


def test_the_api_keeps_json_errors(client):
    response = client.get("/api/v1/no-such-endpoint")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_new_block_page_is_titled_add_block_and_marks_fields_by_kind(client, classroom):
    client.force_login(classroom.teacher)
    lesson = classroom.lessons[0]
    page = client.get(
        reverse("courses:studio_block_create", args=["algebra", lesson.pk]) + "?kind=image"
    ).content.decode()
    assert "<h1>Add block</h1>" in page
    assert "<title>Add block" in page
    assert 'data-kinds="video audio image"><div class="field' in page  # the media field
    assert 'data-kinds="image"><div class="field' in page  # alt text
    assert 'data-kinds="exercise"><div class="field' in page
    assert '<option value="image" selected>' in page


def test_text_typed_for_another_kind_is_not_saved_on_an_exercise_block(client, classroom):
    client.force_login(classroom.teacher)
    lesson = classroom.lessons[1]
    client.post(
        reverse("courses:studio_block_create", args=["algebra", lesson.pk]),
        {"kind": "exercise", "exercise": classroom.single.pk, "body_md": "typed before"},
    )
    block = LessonBlock.objects.filter(lesson=lesson).order_by("-position").first()
    assert (block.kind, block.exercise_id, block.body_md) == ("exercise", classroom.single.pk, "")


def test_an_exercise_takes_any_number_of_choices_and_drops_removed_ones(client, classroom):
    client.force_login(classroom.teacher)
    data = {
        "title": "Primes",
        "kind": "multiple",
        "prompt_md": "Which are prime?",
        "choices-TOTAL_FORMS": "7",
        "choices-INITIAL_FORMS": "0",
        "choices-MIN_NUM_FORMS": "2",
        "choices-MAX_NUM_FORMS": "50",
    }
    for index, number in enumerate([2, 3, 4, 5, 6, 7, 9]):
        data[f"choices-{index}-text"] = str(number)
        if number in (2, 3, 5, 7):
            data[f"choices-{index}-is_correct"] = "on"
    data["choices-6-DELETE"] = "on"  # "9" was removed on the page
    response = client.post(reverse("courses:studio_exercise_create", args=["algebra"]), data)
    assert response.status_code == 302, response.content.decode()
    exercise = Exercise.objects.get(title="Primes")
    assert [c.text for c in exercise.choices.all()] == ["2", "3", "4", "5", "6", "7"]
    # the editor shows every stored choice again (no fixed number of rows)
    page = client.get(
        reverse("courses:studio_exercise_edit", args=["algebra", exercise.pk])
    ).content.decode()
    assert page.count('class="choice-row"') == 6 + 1  # six rows and the template row
    assert (
        'value="6" name="choices-TOTAL_FORMS"' in page
        or 'name="choices-TOTAL_FORMS" value="6"' in page
    )


def test_a_duplicate_prerequisite_is_refused_with_a_message(client, classroom):
    client.force_login(classroom.teacher)
    fractions, equations = classroom.skills
    url = reverse("courses:studio_skills", args=["algebra"])
    body = {"action": "add_prerequisite", "skill": equations.pk, "requires": fractions.pk}
    assert client.post(url, body).status_code == 302
    page = client.post(url, body).content.decode()
    assert "Equations already requires Fractions." in page
    assert SkillPrerequisite.objects.count() == 1


def test_publishing_warns_about_empty_modules_and_lessons_without_blocks(client):
    teacher = TeacherFactory(username="ada")
    client.force_login(teacher)
    client.post(reverse("courses:studio_course_create"), {"title": "Gaps", "language": "en"})
    course = Course.objects.get(title="Gaps")
    client.post(reverse("courses:studio_module_create", args=[course.slug]), {"title": "Full"})
    client.post(reverse("courses:studio_module_create", args=[course.slug]), {"title": "Hollow"})
    full = Module.objects.get(course=course, title="Full")
    client.post(
        reverse("courses:studio_lesson_create", args=[course.slug, full.pk]),
        {"title": "Blank lesson", "estimated_minutes": "5"},
    )
    page = client.get(reverse("courses:studio_course", args=[course.slug])).content.decode()
    assert "The module “Hollow” has no lesson yet." in page
    assert "The lesson “Blank lesson” has no content block yet." in page
    assert "Publish anyway" in page
    status = reverse("courses:studio_course_status", args=[course.slug])
    client.post(status, {"action": "publish"})  # a stale page without the warnings
    course.refresh_from_db()
    assert course.status == Course.Status.DRAFT
    client.post(status, {"action": "publish", "confirm": "1"})
    course.refresh_from_db()
    assert course.status == Course.Status.PUBLISHED


def test_the_course_page_has_no_duplicate_ids(client, classroom):
    client.force_login(classroom.teacher)
    page = client.get(reverse("courses:studio_course", args=["algebra"])).content.decode()
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert ids, page
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    assert 'id="id_title"' in page
    assert 'id="id_module_title"' in page


def test_a_json_reorder_leaves_no_message_for_the_next_page(client, classroom):
    client.force_login(classroom.teacher)
    first, second = classroom.lessons
    client.post(
        reverse("courses:studio_reorder", args=["algebra"]),
        {"kind": "lesson", "parent": first.module_id, "ids": [second.pk, first.pk]},
        HTTP_ACCEPT="application/json",
    )
    page = client.get(reverse("courses:studio_course", args=["algebra"])).content.decode()
    assert "New order saved." not in page


def test_the_owner_adds_and_removes_a_co_instructor_who_can_then_edit(client, classroom):
    colleague = TeacherFactory(username="grace")
    url = reverse("courses:studio_course_instructors", args=["algebra"])
    course_url = reverse("courses:studio_course", args=["algebra"])
    client.force_login(colleague)
    assert client.get(course_url).status_code == 403
    client.force_login(classroom.teacher)
    client.post(url, {"action": "add", "username": "grace@example.org"})  # by e-mail
    assert list(classroom.course.instructors.all()) == [colleague]
    page = client.post(url, {"action": "add", "username": "student"}, follow=True)
    assert "student is not a teacher yet" in page.content.decode()
    assert list(classroom.course.instructors.all()) == [colleague]
    # the co-instructor edits the course but does not choose its instructors
    client.force_login(colleague)
    assert client.get(course_url).status_code == 200
    assert "Add the co-instructor" not in client.get(course_url).content.decode()
    assert client.post(url, {"action": "remove", "user": colleague.pk}).status_code == 403
    client.force_login(classroom.teacher)
    client.post(url, {"action": "remove", "user": colleague.pk})
    assert not classroom.course.instructors.exists()
    client.force_login(colleague)
    assert client.get(course_url).status_code == 403


# Class dashboard in the teacher's words ------------------------------------------------------


def test_a_failed_training_shows_what_to_do_not_the_exception(client, classroom):
    from adaptive.models import TrainingRun
    from adaptive.services.model_export import SPLIT_FRACTIONS
    from adaptive.views import MIN_TRAINING_LEARNERS

    TrainingRun.objects.create(
        course=classroom.course,
        trigger="manual",
        status="failed",
        outcome="failed",
        error="TrainingDataError: not enough data: the holdout learners have 0 scored attempts",
    )
    client.force_login(classroom.teacher)
    page = client.get(reverse("adaptive:class_dashboard", args=["algebra"])).content.decode()
    assert "TrainingDataError" not in page
    assert "scored attempts" not in page
    assert f"it needs at least {MIN_TRAINING_LEARNERS} learners with attempts" in page
    # every learner group of the split needs a learner: the sentence's number follows the split
    assert round(1 / min(SPLIT_FRACTIONS)) == MIN_TRAINING_LEARNERS


def test_versions_are_labelled_dated_and_name_the_device_used(client, classroom):
    from datetime import timedelta

    from django.utils import timezone

    from adaptive.models import ModelVersion, TrainingRun

    now = timezone.now()
    old = ModelVersion.objects.create(
        course=classroom.course,
        kind="bkt",
        status="retired",
        metrics={"auc": 0.7},
        device="cpu",
        created_at=now - timedelta(days=3),
    )
    new = ModelVersion.objects.create(
        course=classroom.course,
        kind="gru",
        status="active",
        metrics={"auc": 0.8},
        device="cpu",
        created_at=now,
        activated_at=now,
    )
    TrainingRun.objects.create(
        course=classroom.course,
        trigger="manual",
        status="succeeded",
        outcome="promoted",
        model_version=new,
    )
    client.force_login(classroom.teacher)
    page = client.get(reverse("adaptive:class_dashboard", args=["algebra"])).content.decode()
    assert ">GRU deep knowledge tracing<" in page
    assert ">Bayesian knowledge tracing<" in page
    assert ">In use<" in page
    assert ">Replaced by a newer model<" in page
    assert "retired" not in page.replace('class="badge retired"', "")
    assert "GPU" not in page
    assert "the last model was trained on its CPU" in page
    assert "The new model predicts better and is now in use." in page
    # one date under the axis per version (3 days apart)
    from django.utils.formats import date_format

    for version in (old, new):
        day = date_format(timezone.localtime(version.created_at), "SHORT_DATE_FORMAT")
        assert f'class="axis-label date">{day}</text>' in page


def test_the_live_panel_polls_while_a_run_is_open_and_shows_the_new_version(client, classroom):
    from django.utils import timezone

    from adaptive.models import ModelVersion, TrainingRun

    run = TrainingRun.objects.create(
        course=classroom.course, trigger="manual", status="running", progress={"stage": "gate"}
    )
    client.force_login(classroom.teacher)
    url = reverse("adaptive:class_training_run", args=["algebra"])
    fragment = client.get(url).content.decode()
    assert 'hx-trigger="every 2s"' in fragment
    assert "Checking the new model on learners it has not seen" in fragment
    assert 'data-empty="models"' in fragment
    version = ModelVersion.objects.create(
        course=classroom.course,
        kind="gru",
        status="active",
        metrics={"auc": 0.75},
        device="gpu",
        activated_at=timezone.now(),
    )
    run.status, run.outcome, run.model_version = "succeeded", "promoted", version
    run.save()
    fragment = client.get(url).content.decode()
    assert "hx-trigger" not in fragment
    assert f'data-version="{version.pk}"' in fragment
    assert "<circle" in fragment
    assert (
        "Trained on the worker&#x27;s GPU." in fragment
        or "Trained on the worker's GPU." in fragment
    )


def test_a_form_sent_without_its_csrf_token_gets_the_styled_page(classroom):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(classroom.teacher)
    response = strict.post(reverse("courses:studio_course_create"), {"title": "No token"})
    assert response.status_code == 403
    assert 'data-error="403-csrf"' in response.content.decode()
    assert not Course.objects.filter(title="No token").exists()


def test_the_studio_home_says_whether_one_owns_or_co_teaches_a_course(client, classroom):
    from tests.factories import CourseFactory

    colleague = TeacherFactory(username="grace")
    CourseFactory(owner=colleague, slug="geometry", title="Geometry")
    classroom.course.instructors.add(colleague)
    client.force_login(colleague)
    page = client.get(reverse("courses:studio_home")).content.decode()
    rows = re.findall(r"<tr>.*?</tr>", page, flags=re.S)
    algebra = next(row for row in rows if "Algebra basics" in row)
    geometry = next(row for row in rows if "Geometry" in row)
    assert "Co-instructor" in algebra
    assert "Owner" in geometry
