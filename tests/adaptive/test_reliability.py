"""Retrain limits, runs whose worker died, duplicate deliveries and the reconciliation."""

from datetime import timedelta

import psycopg2
import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from adaptive.ml_tasks import model_retrain_task
from adaptive.models import LearnerState, LearningPath, ModelVersion, TrainingRun
from adaptive.services.knowledge_state import learners_reconcile
from adaptive.services.retraining import _lock_key, training_runs_reap
from learners.models import Attempt
from tests.factories import CourseFactory, ExerciseFactory, SkillFactory, UserFactory

pytestmark = pytest.mark.django_db


def retrain(client, course):
    return client.post(f"/api/v1/courses/{course.pk}/retrain", {"kind": "bkt"}, format="json")


@pytest.fixture
def owner_client():
    course = CourseFactory()
    client = APIClient()
    client.force_authenticate(course.owner)
    return course, client


def test_a_second_retrain_while_one_is_open_is_a_409_with_the_open_run(
    owner_client, django_capture_on_commit_callbacks
):
    course, client = owner_client
    with django_capture_on_commit_callbacks(execute=False):
        first = retrain(client, course)
        second = retrain(client, course)

    assert first.status_code == 202
    assert second.status_code == 409
    error = second.json()["error"]
    assert error["code"] == "conflict"
    assert f"Training run {first.json()['id']} of this course is still queued" in error["message"]
    assert TrainingRun.objects.filter(course=course).count() == 1


def test_retrains_past_the_window_budget_are_a_429_with_retry_after(
    owner_client, settings, django_capture_on_commit_callbacks
):
    course, client = owner_client
    settings.PATHWISE_RETRAIN_MAX_REQUESTS = 3
    codes = []
    with django_capture_on_commit_callbacks(execute=False):
        for _ in range(4):
            response = retrain(client, course)
            codes.append(response.status_code)
            # each run ends before the next request, so only the budget can refuse
            TrainingRun.objects.filter(course=course).update(status="succeeded")

    assert codes == [202, 202, 202, 429]
    assert int(response["Retry-After"]) > 3000
    assert "retrained 3 times in the last 60 minutes" in response.json()["error"]["message"]
    assert TrainingRun.objects.filter(course=course).count() == 3


def test_the_class_dashboard_retrain_button_answers_409_with_the_message(
    client, django_capture_on_commit_callbacks
):
    course = CourseFactory()
    client.force_login(course.owner)
    url = f"/studio/courses/{course.slug}/class/retrain/"
    with django_capture_on_commit_callbacks(execute=False):
        assert client.post(url).status_code == 302
        response = client.post(url)
    assert response.status_code == 409
    assert "still queued" in response.content.decode()


def open_run(course, *, status, heartbeat_seconds_ago, attempt=1):
    now = timezone.now()
    return TrainingRun.objects.create(
        course=course,
        kind="bkt",
        trigger="manual",
        status=status,
        started_at=now - timedelta(hours=1),
        heartbeat_at=now - timedelta(seconds=heartbeat_seconds_ago),
        attempt=attempt,
        celery_task_id="task-of-the-first-worker",
    )


def test_a_run_whose_heartbeat_stopped_is_failed_and_retried_a_bounded_number_of_times(
    settings, django_capture_on_commit_callbacks
):
    settings.PATHWISE_RUN_STALE_SECONDS = 60
    settings.PATHWISE_RUN_MAX_ATTEMPTS = 2
    course = CourseFactory()
    dead = open_run(course, status="running", heartbeat_seconds_ago=600)
    TrainingRun.objects.filter(pk=dead.pk).update(epochs=7)
    dead.refresh_from_db()
    half_made = ModelVersion.objects.create(course=course, kind="bkt", status="candidate")
    dead.model_version = half_made
    dead.save()
    live = open_run(CourseFactory(), status="running", heartbeat_seconds_ago=5)

    with django_capture_on_commit_callbacks(execute=False) as sent:
        retries = training_runs_reap()

    dead.refresh_from_db()
    assert (dead.status, dead.outcome) == ("failed", "worker lost")
    assert "stopped sending heartbeats" in dead.error
    assert ModelVersion.objects.get(pk=half_made.pk).status == "rejected"
    (retry,) = TrainingRun.objects.filter(pk__in=retries)
    assert (retry.status, retry.attempt, retry.retry_of_id) == ("queued", 2, dead.pk)
    assert retry.epochs == 7  # the retry trains what was asked for
    assert len(sent) == 1
    live.refresh_from_db()
    assert live.status == "running"

    # when the retry dies too, it is the last attempt: failed, and nothing more is queued
    TrainingRun.objects.filter(pk=retry.pk).update(
        status="running", heartbeat_at=timezone.now() - timedelta(seconds=600)
    )
    assert training_runs_reap() == []
    retry.refresh_from_db()
    assert retry.status == "failed"
    assert "Gave up after 2 attempts" in retry.log


def test_a_duplicate_delivery_never_touches_a_live_run(transactional_db):
    course = CourseFactory()
    live = open_run(course, status="running", heartbeat_seconds_ago=1)
    # given another worker (another database session) trains the scope and holds its lock
    db = connection.settings_dict
    holder = psycopg2.connect(
        dbname=db["NAME"], user=db["USER"] or "postgres", host=db["HOST"] or "127.0.0.1"
    )
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [_lock_key(course.pk)])
        # when the same run's task is delivered a second time
        result = model_retrain_task.apply(kwargs={"training_run_id": live.pk}).get()
    finally:
        holder.close()

    # then the run, its status and its task id are untouched
    assert result == {"status": "duplicate", "training_run_id": live.pk}
    live.refresh_from_db()
    assert (live.status, live.celery_task_id) == ("running", "task-of-the-first-worker")


def test_reconciliation_catches_up_learners_whose_update_was_lost(settings):
    settings.PATHWISE_RECONCILE_GRACE_SECONDS = 0
    course = CourseFactory()
    skill = SkillFactory(course=course)
    exercise = ExerciseFactory(course=course)
    exercise.skills.set([skill])
    learners = [UserFactory() for _ in range(3)]
    # given attempts stored while their online updates were lost (no update ran)
    for learner in learners:
        for correct in (True, False, True):
            Attempt.objects.create(
                user=learner, exercise=exercise, course=course, answer=1, is_correct=correct
            )
    # and one learner who is current already
    current = learners[0]
    from adaptive.services.knowledge_state import learner_refresh

    learner_refresh(user_id=current.pk, course_id=course.pk, replan_always=False)

    result = learners_reconcile()

    assert (result.caught_up, result.failed) == (2, 0)
    for learner in learners:
        newest = Attempt.objects.filter(user=learner).order_by("-pk").first()
        state = LearnerState.objects.get(user=learner, course=course)
        assert (state.last_attempt_id, state.attempts_count) == (newest.pk, 3)
        assert LearningPath.objects.filter(user=learner, course=course).exists()
    assert learners_reconcile().caught_up == 0


def test_a_run_that_died_refreshing_paths_after_its_promotion_only_refreshes_again(
    settings, django_capture_on_commit_callbacks
):
    settings.PATHWISE_RUN_STALE_SECONDS = 60
    course = CourseFactory()
    dead = open_run(course, status="running", heartbeat_seconds_ago=600)
    promoted = ModelVersion.objects.create(
        course=course, kind="bkt", status="active", activated_at=timezone.now()
    )
    TrainingRun.objects.filter(pk=dead.pk).update(
        model_version=promoted, progress={"stage": "refresh", "learners_done": 10}
    )

    with django_capture_on_commit_callbacks(execute=False) as sent:
        assert training_runs_reap() == []

    dead.refresh_from_db()
    assert dead.status == "failed"
    assert "path refresh is queued again" in dead.error
    assert ModelVersion.objects.get(pk=promoted.pk).status == "active"
    assert len(sent) == 1  # the refresh task, and no second training
    assert TrainingRun.objects.filter(course=course).count() == 1
