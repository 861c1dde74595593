"""Dashboards with the adaptive loop's data: heatmap, mastery bars, AUC chart, retrain button."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from adaptive.models import ModelVersion, SkillMastery, TrainingRun

pytestmark = pytest.mark.django_db


def test_class_dashboard_draws_the_heatmap_and_the_auc_of_each_version(client, classroom):
    fractions, equations = classroom.skills
    SkillMastery.objects.create(
        user=classroom.student, skill=fractions, course=classroom.course, probability=0.9
    )
    SkillMastery.objects.create(
        user=classroom.student, skill=equations, course=classroom.course, probability=0.2
    )
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
    assert '<th scope="row">student</th>' in page
    assert '<td class="m-4">90</td>' in page  # Fractions first: columns are in name order
    assert '<td class="m-1">20</td>' in page
    assert page.count('class="point"') == 3
    assert "0.780" in page


def test_student_dashboard_shows_a_bar_per_mastered_skill(client, classroom):
    SkillMastery.objects.create(
        user=classroom.student,
        skill=classroom.skills[0],
        course=classroom.course,
        probability=0.64,
    )
    client.force_login(classroom.student)
    page = client.get(reverse("adaptive:dashboard")).content.decode()
    assert 'style="width: 64%"' in page
    assert 'data-empty="mastery"' not in page


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
