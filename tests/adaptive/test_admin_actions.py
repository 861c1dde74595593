"""Admin actions of the model registry: retrain a scope, activate a version."""

import pytest
from django.utils import timezone

from adaptive.ml.artifacts import artifact_save
from adaptive.ml.bkt import BKTParams
from adaptive.models import ModelVersion, TrainingRun
from tests.factories import CourseFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_retrain_action_queues_one_run_per_scope(
    admin_client, django_capture_on_commit_callbacks
):
    course = CourseFactory()
    versions = [
        ModelVersion.objects.create(course=course, kind="gru", status="rejected"),
        ModelVersion.objects.create(course=course, kind="gru", status="retired"),
        ModelVersion.objects.create(course=None, kind="bkt", status="rejected"),
    ]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(
            "/admin/adaptive/modelversion/",
            {"action": "retrain_scopes", "_selected_action": [v.pk for v in versions]},
            follow=True,
        )

    assert response.status_code == 200
    runs = TrainingRun.objects.order_by("pk")
    assert [(r.course_id, r.kind, r.trigger, r.status) for r in runs] == [
        (None, "bkt", "manual", "queued"),
        (course.pk, "gru", "manual", "queued"),
    ]
    assert len(callbacks) == 2


def test_activating_a_version_refreshes_the_paths_it_serves(
    admin_client, django_capture_on_commit_callbacks, monkeypatch, settings, tmp_path
):
    settings.PATHWISE_MODEL_ROOT = tmp_path
    course = CourseFactory()
    metadata = artifact_save(tmp_path / "retired", metadata={}, bkt=BKTParams.default(2))
    old = ModelVersion.objects.create(
        course=course, kind="bkt", status="active", activated_at=timezone.now()
    )
    new = ModelVersion.objects.create(
        course=course,
        kind="bkt",
        status="retired",
        artifact_path="retired",
        artifact_sha256=metadata.sha256,
        manifest_sha256=metadata.manifest_sha256,
    )
    sent = []
    monkeypatch.setattr(
        "adaptive.services.retraining.current_app.send_task",
        lambda name, kwargs: sent.append((name, kwargs)),
    )

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/adaptive/modelversion/",
            {"action": "activate_selected", "_selected_action": [new.pk]},
            follow=True,
        )

    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, new.status) == ("retired", "active")
    assert sent == [("adaptive.tasks.paths_refresh_dispatch_task", {"course_id": course.pk})]


def test_the_admin_shows_a_fallback_and_refuses_a_second_open_retrain(
    admin_client, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.PATHWISE_MODEL_ROOT = tmp_path
    course = CourseFactory()
    metadata = artifact_save(tmp_path / "verified", metadata={}, bkt=BKTParams.default(2))
    ModelVersion.objects.create(
        course=course,
        kind="bkt",
        status="retired",
        activated_at=timezone.now(),
        artifact_path="verified",
        artifact_sha256=metadata.sha256,
        manifest_sha256=metadata.manifest_sha256,
    )
    # given the active version has no recorded hash (it can never be verified)
    broken = ModelVersion.objects.create(
        course=course, kind="bkt", status="active", activated_at=timezone.now()
    )

    page = admin_client.get("/admin/adaptive/modelversion/").content.decode()
    assert f"FALLBACK: model version {broken.pk} artifact refused" in page

    # and a retrain while one is open is refused with the reason, as the API refuses it
    TrainingRun.objects.create(course=course, kind="bkt", trigger="manual", status="running")
    with django_capture_on_commit_callbacks(execute=False):
        response = admin_client.post(
            "/admin/adaptive/modelversion/",
            {"action": "retrain_scopes", "_selected_action": [broken.pk]},
            follow=True,
        )
    assert "still running" in response.content.decode()
    assert TrainingRun.objects.filter(course=course).count() == 1
