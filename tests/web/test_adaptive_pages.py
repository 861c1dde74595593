"""Dashboards with the adaptive loop's data: heatmap, mastery bars, AUC chart, retrain button."""

import itertools
import re
from datetime import timedelta

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from adaptive.display_store import learner_shown
from adaptive.models import LearnerState, ModelVersion, TrainingRun, mastery_encode
from adaptive.services.knowledge_state import learner_refresh
from courses.models import SkillPrerequisite
from learners.services import attempt_submit, enrollment_create, lesson_event_record

pytestmark = pytest.mark.django_db


def _answer(classroom, *, right: bool, exercise=None) -> None:
    """Answer through the service: the attempt commits, the (eager) task updates the state."""
    exercise = exercise or classroom.numeric
    attempt_submit(user=classroom.student, exercise=exercise, answer=42 if right else 7)


def test_class_dashboard_counts_the_shown_status_per_skill_and_the_auc_of_each_version(
    client, classroom, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _answer(classroom, right=True)
    now = timezone.now()
    for days, auc in ((3, 0.71), (2, 0.74), (1, 0.78)):
        ModelVersion.objects.create(
            course=classroom.course,
            kind="gru",
            status="retired",
            metrics={"auc": auc},
            created_at=now - timedelta(days=days),
        )
    client.force_login(classroom.teacher)
    page = client.get(reverse("adaptive:class_dashboard", args=["algebra"])).content.decode()
    assert 'data-empty="heatmap"' not in page
    # the student's row in the learner list links to their page
    learner_url = reverse("adaptive:class_learner", args=["algebra", classroom.student.pk])
    assert f'<a href="{learner_url}">student</a>' in page
    # Equations: one right answer, "learning" as the student sees it; Fractions never practised
    shown = learner_shown(user_id=classroom.student.pk, course_id=classroom.course.pk)
    equations = next(item for item in shown.skills if item.name == "Equations")
    assert equations.status == "learning"
    rows = dict(
        re.findall(r'<tr data-skill="\d+">\s*<th scope="row">(\w+)</th>(.*?)</tr>', page, re.S)
    )
    counts = {
        name: dict(re.findall(r'data-status="(\w+)">(\d+)</td>', cells))
        for name, cells in rows.items()
    }
    assert counts["Equations"] == {
        "not_started": "0",
        "learning": "1",
        "almost": "0",
        "mastered": "0",
    }
    assert counts["Fractions"] == {
        "not_started": "1",
        "learning": "0",
        "almost": "0",
        "mastered": "0",
    }
    # weakest first: Equations (started, none mastered) before Fractions (nobody started)
    assert list(rows) == ["Equations", "Fractions"]
    assert page.count('class="point"') == 3
    assert "0.780" in page


def test_a_new_student_sees_not_started_on_every_skill_and_a_planned_path(
    client, django_capture_on_commit_callbacks
):
    course, student = _published_course_and_student()
    with django_capture_on_commit_callbacks(execute=True):
        enrollment_create(user=student, course=course)
    # a model that thinks everybody knows everything must not show up as bars
    skill_ids = list(course.skills.order_by("pk").values_list("pk", flat=True))
    mastery, stored_ids = mastery_encode(skill_ids, np.full(len(skill_ids), 0.81))
    LearnerState.objects.filter(user=student).update(mastery=mastery, mastery_skill_ids=stored_ids)
    client.force_login(student)
    page = client.get(reverse("adaptive:dashboard")).content.decode()
    assert page.count('data-status="not_started"') == 2
    assert "81%" not in page
    assert 'style="width:' not in page
    # enrolment planned the path at once: the first lesson, said plainly
    assert "Start Basics with this lesson: you have not practised it yet." in page


def _published_course_and_student():
    from tests.factories import (
        CourseFactory,
        LessonFactory,
        ModuleFactory,
        SkillFactory,
        UserFactory,
    )

    course = CourseFactory(slug="fresh", title="Fresh course", status="published")
    basics = SkillFactory(course=course, name="Basics")
    advanced = SkillFactory(course=course, name="Advanced")
    SkillPrerequisite.objects.create(skill=advanced, requires=basics)
    lesson = LessonFactory(module=ModuleFactory(course=course), title="Basics 1", position=1)
    lesson.skills.set([basics])
    return course, UserFactory(username="newcomer")


def test_a_right_answer_raises_the_bar_and_a_wrong_one_never_does(
    client, classroom, django_capture_on_commit_callbacks
):
    client.force_login(classroom.student)
    url = reverse("adaptive:learner-panel", args=["algebra"])
    seen = []
    for right in (False, True, True, False, True, True, True):
        with django_capture_on_commit_callbacks(execute=True):
            _answer(classroom, right=right)
        page = client.get(url).content.decode()
        assert 'data-updating="false"' in page
        match = re.search(
            r'data-status="(\w+)"><span class="skill-name">Equations.*?'
            r'(?:style="width: (\d+)%")',
            page,
            re.S,
        )
        assert match is not None
        seen.append((right, int(match.group(2)), match.group(1)))
    for (_, before, _s), (right, after, _t) in itertools.pairwise(seen):
        assert after >= before if right else after <= before
    # three right in a row: mastered on the bar, as in the planner
    assert seen[-1][2] == "mastered"


def test_the_panel_says_updating_until_the_worker_applied_the_answer(
    client, classroom, django_capture_on_commit_callbacks
):
    client.force_login(classroom.student)
    url = reverse("adaptive:learner-panel", args=["algebra"])
    with django_capture_on_commit_callbacks(execute=False):  # no task ran yet
        _answer(classroom, right=True)
    page = client.get(url).content.decode()
    assert 'data-updating="true"' in page
    assert "every 1s" in page
    learner_refresh(user_id=classroom.student.pk, course_id=classroom.course.pk, replan_always=True)
    page = client.get(url).content.decode()
    assert 'data-updating="false"' in page
    assert "every 1s" not in page
    assert 'hx-trigger="attempt-recorded from:body"' in page


def test_the_panel_shows_only_the_callers_own_course_data(client, classroom):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="outsider"))
    assert client.get(reverse("adaptive:learner-panel", args=["algebra"])).status_code == 404
    client.logout()
    response = client.get(reverse("adaptive:learner-panel", args=["algebra"]))
    assert response.status_code == 302


def test_an_exercise_step_links_to_the_exercise_and_a_completed_lesson_leaves_at_once(
    client, classroom, django_capture_on_commit_callbacks
):
    client.force_login(classroom.student)
    first_url = reverse("learners:lesson", args=["algebra", classroom.lessons[0].pk])
    second_url = reverse("learners:lesson", args=["algebra", classroom.lessons[1].pk])

    def path() -> str:
        page = client.get(reverse("adaptive:dashboard")).content.decode()
        return page[page.index('id="learning-path"') : page.index('id="activity"')]

    with django_capture_on_commit_callbacks(execute=True):
        learner_refresh(
            user_id=classroom.student.pk, course_id=classroom.course.pk, replan_always=True
        )
    before = path()
    assert f'href="{first_url}"' in before  # Fractions is new: its lesson comes first
    # Equations has no lesson: its exercise, on the second lesson's page, at its anchor
    assert f'href="{second_url}#exercise-{classroom.numeric.pk}"' in before

    with django_capture_on_commit_callbacks(execute=True):
        lesson_event_record(user=classroom.student, lesson=classroom.lessons[0], verb="completed")

    after = path()  # re-planned on completion, no answer needed
    assert f'href="{first_url}"' not in after
    assert f'href="{first_url}#exercise-{classroom.single.pk}"' in after


def test_the_retrain_button_queues_one_run_and_its_progress_is_polled(
    client, classroom, django_capture_on_commit_callbacks
):
    client.force_login(classroom.teacher)
    url = reverse("adaptive:class_retrain", args=["algebra"])
    # the task is sent after commit: not executed here, so no worker or broker is involved
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(url)
        client.post(url)
    assert len(callbacks) == 1
    run = TrainingRun.objects.get()
    assert (run.course, run.trigger, run.requested_by) == (
        classroom.course,
        "manual",
        classroom.teacher,
    )
    run.status, run.progress = "running", {"stage": "epoch", "epoch": 3, "epochs": 20}
    run.save()
    fragment = client.get(
        reverse("adaptive:class_training_run", args=["algebra"]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "epoch 3 of 20" in fragment
    assert 'hx-trigger="every 2s"' in fragment
    run.status, run.outcome = "succeeded", "promoted"
    run.save()
    fragment = client.get(reverse("adaptive:class_training_run", args=["algebra"])).content
    assert b"hx-trigger" not in fragment
    assert b"The new model predicts better and is now in use." in fragment


def test_students_cannot_retrain(client, classroom):
    client.force_login(classroom.student)
    assert client.post(reverse("adaptive:class_retrain", args=["algebra"])).status_code == 403
    assert not TrainingRun.objects.exists()


def test_answers_applied_without_a_re_plan_are_caught_up_by_the_panel(client, classroom):
    # given an answer stored in bulk (no event) and folded by the worker, but never re-planned
    from adaptive.services.knowledge_state import learner_state_apply
    from tests.factories import AttemptFactory

    AttemptFactory(user=classroom.student, exercise=classroom.numeric, is_correct=True)
    learner_state_apply(user_id=classroom.student.pk, course_id=classroom.course.pk)
    client.force_login(classroom.student)
    url = reverse("adaptive:learner-panel", args=["algebra"])

    # when the panel polls, it says "updating" and queues the re-plan (run eagerly in tests)
    assert 'data-updating="true"' in client.get(url).content.decode()

    # then the next poll shows the answer
    page = client.get(url).content.decode()
    assert 'data-updating="false"' in page
    assert 'data-status="learning"><span class="skill-name">Equations' in page


def test_the_class_dashboard_says_which_version_serves_when_the_active_one_fails_verification(
    client, classroom, settings, tmp_path
):
    from adaptive.ml.artifacts import artifact_save
    from adaptive.ml.bkt import BKTParams

    # given a verified earlier version and an active one whose manifest hash is blank
    settings.PATHWISE_MODEL_ROOT = tmp_path
    skills = list(classroom.course.skills.order_by("pk"))
    saved = artifact_save(tmp_path / "v1", metadata={}, bkt=BKTParams.default(len(skills)))
    now = timezone.now()
    verified = ModelVersion.objects.create(
        course=classroom.course,
        kind="bkt",
        status="retired",
        activated_at=now - timedelta(hours=1),
        skill_vocabulary=[skill.pk for skill in skills],
        artifact_path="v1",
        artifact_sha256=saved.sha256,
        manifest_sha256=saved.manifest_sha256,
    )
    broken = ModelVersion.objects.create(
        course=classroom.course, kind="bkt", status="active", activated_at=now
    )
    client.force_login(classroom.teacher)

    page = client.get(reverse("adaptive:class_dashboard", args=["algebra"])).content.decode()

    # then the teacher reads which version serves, in words, and the raw reason stays out
    assert 'data-serving="fallback"' in page
    assert (
        f"Version {broken.pk}, the one marked in use, could not be verified (a file of it is "
        f"missing or changed), so your learners are served by version {verified.pk}"
    ) in page
    assert "artifact refused" not in page
