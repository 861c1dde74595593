"""Faults with real worker processes and Redis: a killed training run, repeats, locks, outages."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import psycopg2
import pytest
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from adaptive.ml_tasks import model_retrain_task
from adaptive.models import LearnerState, LearningPath, ModelVersion, TrainingRun
from adaptive.services.learning_paths import path_refresh
from adaptive.services.model_training import model_version_train
from adaptive.services.retraining import _lock_key, training_run_request
from courses.models import MAX_ATTEMPTS_LIMIT, Exercise
from learners.bulk import rows_insert, students_enrol_bulk
from learners.models import Attempt, User
from learners.services import attempt_submit
from tests.factories import CourseFactory, ExerciseFactory, SkillFactory
from tests.integration.conftest import ROOT, WORKER_APPLICATION, wait_until

pytestmark = pytest.mark.integration


def course_with_history(*, learners: int, attempts: int, seed: int = 5):
    """A course whose simulated learners master skills in order (so a model can learn)."""
    rng = np.random.default_rng(seed)
    course = CourseFactory()
    skills = [SkillFactory(course=course, name=f"Skill {i}") for i in range(8)]
    exercises: list[Exercise] = []
    for index in range(16):
        # Simulated histories answer an exercise more often than the default 3 attempts allow;
        # these tests are about delivery, not the attempt policy (tests/learners has that).
        exercise = ExerciseFactory(course=course, max_attempts=MAX_ATTEMPTS_LIMIT)
        exercise.skills.set([skills[index // 2]])
        exercises.append(exercise)
    ids = students_enrol_bulk(course_id=course.pk, username_prefix="sim-", count=learners)
    rows = []
    for learner in ids:
        ability = rng.uniform(0.1, 0.5)
        known = -1
        for step in range(attempts):
            # Half the time a skill already known (mostly right), else the next one (mostly wrong).
            review = known >= 0 and rng.random() < 0.5
            skill = int(rng.integers(0, known + 1)) if review else min(known + 1, 7)
            exercise = exercises[2 * skill + step % 2]
            correct = rng.random() < (0.9 if skill <= known else 0.2)
            if not review and rng.random() < ability:
                known = min(known + 1, 7)
            rows.append(
                (learner, exercise.pk, course.pk, "1", bool(correct), 0, timezone.now(), "")
            )
    rows_insert(
        Attempt,
        [
            "user",
            "exercise",
            "course",
            "answer",
            "is_correct",
            "hints_used",
            "created_at",
            "external_id",
        ],
        rows,
    )
    return course, ids


def admin_connection():
    """A connection to the server's maintenance database, outside the one under test."""
    db = connection.settings_dict
    admin = psycopg2.connect(
        dbname="postgres",
        user=db.get("USER") or "postgres",
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
    )
    admin.autocommit = True
    return admin


def task_finished(run_id: int) -> bool:
    """The retrain task is over: its run finished and, after a promotion, paths refreshed."""
    run = TrainingRun.objects.get(pk=run_id)
    if run.status not in ("succeeded", "failed", "skipped"):
        return False
    return run.outcome != "promoted" or "paths_refreshed" in run.progress


def paths_are_whole_and_unmixed(course, learner_ids, version_id):
    """Every learner has one path, and path, state and mastery come from `version_id`."""
    paths = dict(
        LearningPath.objects.filter(course=course).values_list("user_id", "model_version_id")
    )
    assert sorted(paths) == sorted(learner_ids)
    assert set(paths.values()) == {version_id}
    # the raw mastery is a vector on the state row: one version for both by construction
    states = LearnerState.objects.filter(course=course)
    assert set(states.values_list("model_version_id", flat=True)) == {version_id}
    assert sorted(states.values_list("user_id", flat=True)) == sorted(learner_ids)
    assert {len(bytes(m)) for m in states.values_list("mastery", flat=True)} == {4 * 8}


def reap_every(seconds: int) -> None:
    """The dead-run schedule (a data migration creates it; the test flush removed it)."""
    every, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
    PeriodicTask.objects.update_or_create(
        name="Fail and retry dead training runs (test)",
        defaults={"task": "adaptive.tasks.training_runs_reap_task", "interval": every},
    )


# Heartbeats every second, stale after 6 s (production: 10 s and 2 minutes), for test speed.
FAST_HEARTBEATS = {"PATHWISE_RUN_HEARTBEAT_SECONDS": "1", "PATHWISE_RUN_STALE_SECONDS": "6"}


@pytest.mark.parametrize("victim", ["pool child", "whole worker"])
def test_killing_the_ml_worker_mid_training_keeps_the_champion_and_a_retry_completes(
    start_worker, victim
):
    # given a course served by a BKT champion, every path written by it
    course, learner_ids = course_with_history(learners=200, attempts=30)
    champion_run = model_version_train(course=course, kind=ModelVersion.Kind.BKT)
    champion = champion_run.model_version
    assert champion.status == ModelVersion.Status.ACTIVE
    path_refresh(course_id=course.pk)
    reap_every(2)
    start_worker(queues="default", name="default", beat=True, extra_env=FAST_HEARTBEATS)
    worker = start_worker(queues="ml", name="ml", extra_env=FAST_HEARTBEATS)

    # when a GRU retrain runs and the worker is killed (-9) during an epoch
    run = training_run_request(course=course, epochs=3)
    wait_until(
        lambda: TrainingRun.objects.filter(
            pk=run.pk, progress__stage="epoch", progress__epoch__gte=1
        ).exists(),
        timeout=240,
        what="the first training epoch",
    )
    killed_at = time.monotonic()
    if victim == "pool child":
        for pid in worker.pool_pids():
            os.kill(pid, signal.SIGKILL)
    else:
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait(timeout=10)
        start_worker(queues="ml", name="ml", extra_env=FAST_HEARTBEATS)

    # then, at once, the champion is still active and every path is still its own
    assert ModelVersion.objects.get(course=course, status="active") == champion
    paths_are_whole_and_unmixed(course, learner_ids, champion.pk)

    # and the run is failed with the reason within seconds, its retry queued
    wait_until(
        lambda: TrainingRun.objects.filter(pk=run.pk, status="failed").exists(),
        timeout=60,
        what="the dead run to be failed",
    )
    run.refresh_from_db()
    assert run.outcome == "worker lost"
    assert "stopped sending heartbeats" in run.error
    assert time.monotonic() - killed_at < 60
    retry = TrainingRun.objects.get(retry_of=run)
    assert retry.attempt == 2

    # and the retry completes; nothing of the killed run ever served
    wait_until(lambda: task_finished(retry.pk), timeout=300, what="the retry to finish")
    retry.refresh_from_db()
    assert retry.status == "succeeded", retry.error
    assert list(TrainingRun.objects.filter(course=course).exclude(pk=champion_run.pk)) == [
        retry,
        run,
    ]
    active = ModelVersion.objects.get(course=course, status="active")
    candidate = retry.model_version
    assert active == (candidate if retry.outcome == "promoted" else champion)
    interrupted = ModelVersion.objects.filter(course=course).exclude(
        pk__in=[champion.pk, candidate.pk]
    )
    assert all(v.status == "rejected" for v in interrupted)
    paths_are_whole_and_unmixed(course, learner_ids, active.pk)

    # and a second delivery of the finished task has no effect
    versions = ModelVersion.objects.count()
    repeated = model_retrain_task.apply(kwargs={"training_run_id": retry.pk}).get()
    assert repeated == {"status": "succeeded", "training_run_id": retry.pk, "repeated": True}
    assert ModelVersion.objects.count() == versions


def test_a_second_retrain_of_a_busy_scope_is_a_logged_no_op(start_worker):
    course, _ = course_with_history(learners=60, attempts=10)
    start_worker(queues="ml", name="ml")
    # given another process holds the course's retrain lock
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_lock_key(course.pk)])
    try:
        run = training_run_request(course=course, kind="bkt")

        wait_until(
            lambda: TrainingRun.objects.get(pk=run.pk).status != "queued",
            timeout=60,
            what="the run to be picked up",
        )
        run.refresh_from_db()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_lock_key(course.pk)])

    assert (run.status, run.outcome) == ("skipped", "scope busy")
    assert not ModelVersion.objects.filter(course=course).exists()


def test_a_brief_database_outage_is_retried(start_worker):
    course, (learner, *_) = course_with_history(learners=3, attempts=4)
    exercise = course.exercises.first()
    worker = start_worker(queues="default", name="default")
    database = connection.settings_dict["NAME"]
    learner_user = User.objects.get(pk=learner)
    before = LearnerState.objects.filter(user=learner_user).count()

    # given the database refuses the worker's connections for a few seconds
    admin = admin_connection()
    with admin.cursor() as cursor:
        cursor.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            [WORKER_APPLICATION],
        )
    try:
        # when an attempt is recorded (its update task is sent after commit)
        attempt_submit(user=learner_user, exercise=exercise, answer=42)
        wait_until(
            lambda: "Retry in" in worker.output(),
            timeout=60,
            what="the task to fail and be retried",
        )
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
        admin.close()

    # then a retry succeeds once the database is back
    wait_until(
        lambda: LearnerState.objects.filter(
            user=learner_user, course=course, attempts_count=5
        ).exists(),
        timeout=90,
        what="the retried update",
    )
    assert before == 0
    assert LearningPath.objects.filter(user=learner_user, course=course).count() == 1


def test_the_ml_task_module_does_not_import_tensorflow():
    # The prefork parent imports every task module; TensorFlow must wait for a task to run.
    code = (
        "import django, sys; django.setup(); import adaptive.ml_tasks, adaptive.tasks; "
        "print(sorted(m for m in ('tensorflow', 'keras', 'jax') if m in sys.modules))"
    )
    result = subprocess.run(  # a fresh interpreter, as a worker starts
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
    )
    assert result.stdout.strip() == "[]"
