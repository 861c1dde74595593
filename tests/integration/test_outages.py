"""Outages with real processes: Redis stopped under load, a default worker killed mid-update.

Each test starts its own processes (a private redis-server where one is stopped, the web server,
workers with embedded beat) against the test database, and asserts what an operator is told to
expect: no attempt lost, no request hanging, every learner current soon after recovery.
"""

import os
import signal
import threading
import time
from dataclasses import dataclass

import pytest
import requests
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from rest_framework.authtoken.models import Token

from adaptive.models import LearnerState, TrainingRun
from learners.models import Attempt, User
from learners.services import attempt_submit
from tests.integration.conftest import wait_until
from tests.integration.test_worker_faults import course_with_history

pytestmark = pytest.mark.integration

STUDENTS = 20
# Redelivery of an unacknowledged update after 10 s instead of the default minute (test speed).
SHORT_VISIBILITY = {"CELERY_VISIBILITY_TIMEOUT_SECONDS": "10"}


def reconcile_every(seconds: int) -> None:
    """The reconciliation schedule (a data migration creates it; the test flush removed it)."""
    every, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
    PeriodicTask.objects.update_or_create(
        name="Catch up learners (test)",
        defaults={"task": "adaptive.tasks.learners_reconcile_task", "interval": every},
    )


def learners_behind(course, learner_ids) -> list[int]:
    """Learners whose newest attempt is not yet folded into their state."""
    newest = {}
    for user_id, attempt_id in Attempt.objects.filter(course=course).values_list("user_id", "pk"):
        newest[user_id] = max(attempt_id, newest.get(user_id, 0))
    done = dict(
        LearnerState.objects.filter(course=course).values_list("user_id", "last_attempt_id")
    )
    return [user_id for user_id in learner_ids if done.get(user_id) != newest.get(user_id)]


@dataclass
class Answer:
    user_id: int
    status: int
    seconds: float
    attempt_id: int | None
    started: float  # time.monotonic() when the request was sent


def students_answer(server_url, tokens, exercise_ids, stop: threading.Event) -> list[Answer]:
    """Each student posts an attempt through the API every ~0.3 s until told to stop."""
    answers: list[Answer] = []
    lock = threading.Lock()

    def student(user_id: int, token: str) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"
        turn = 0
        while not stop.is_set():
            exercise = exercise_ids[turn % len(exercise_ids)]
            turn += 1
            started = time.monotonic()
            try:
                response = session.post(
                    f"{server_url}/api/v1/attempts",
                    json={"exercise": exercise, "answer": 42 if turn % 3 else 7},
                    timeout=30,
                )
                status = response.status_code
                attempt_id = response.json().get("id") if status == 201 else None
            except requests.RequestException:
                status, attempt_id = 0, None
            with lock:
                answers.append(
                    Answer(user_id, status, time.monotonic() - started, attempt_id, started)
                )
            stop.wait(0.3)

    threads = [
        threading.Thread(target=student, args=(user_id, token), daemon=True)
        for user_id, token in tokens.items()
    ]
    for thread in threads:
        thread.start()
    stop.wait()
    for thread in threads:
        thread.join(timeout=40)
    return answers


def test_redis_stopped_for_30_s_under_load_loses_nothing_and_hangs_nothing(
    private_redis, start_web, start_worker
):
    course, learner_ids = course_with_history(learners=STUDENTS, attempts=5)
    exercise_ids = list(course.exercises.order_by("pk").values_list("pk", flat=True))
    tokens = {user_id: Token.objects.create(user_id=user_id).key for user_id in learner_ids}
    reconcile_every(2)
    start_worker(queues="default", name="default", broker_url=private_redis.url, beat=True)
    web = start_web(broker_url=private_redis.url)

    # given 20 students answering through the API
    stop = threading.Event()
    result: list[list[Answer]] = []
    load = threading.Thread(
        target=lambda: result.append(students_answer(web.url, tokens, exercise_ids, stop))
    )
    load.start()
    time.sleep(8)

    # when Redis is stopped for 30 s while they go on answering
    stopped = time.monotonic()
    private_redis.stop()
    time.sleep(30)
    private_redis.start()
    recovered = time.monotonic()
    time.sleep(5)
    stop.set()
    load.join(timeout=60)
    (answers,) = result

    # then every request was answered, stored, and none hung
    assert answers, "no request was made"
    assert {a.status for a in answers} == {201}, sorted({a.status for a in answers})
    slowest = max(a.seconds for a in answers)

    def p99(phase: list[Answer]) -> float:
        durations = sorted(a.seconds for a in phase)
        return durations[int(0.99 * (len(durations) - 1))] if durations else float("nan")

    before = [a for a in answers if a.started < stopped]
    during = [a for a in answers if stopped <= a.started < recovered]
    print(  # noqa: T201 - the figures for the README (pytest -s)
        f"redis outage: {len(answers)} attempts, 0 lost, slowest request {slowest:.3f} s; "
        f"p99 before the outage {p99(before):.3f} s, during it {p99(during):.3f} s; slowest "
        f"during it {max((a.seconds for a in during), default=0):.3f} s"
    )
    # "Never hangs": under 2 s, or (on a loaded machine, where requests are slow before the
    # outage too) no slower than 1.5 x the slowest request before it, a ratio within this run.
    limit = max(2.0, 1.5 * max(a.seconds for a in before))
    assert slowest < limit, f"slowest request {slowest:.2f} s (limit {limit:.2f} s)"
    stored = set(
        Attempt.objects.filter(pk__in=[a.attempt_id for a in answers]).values_list("pk", flat=True)
    )
    assert len(stored) == len(answers)

    # and every learner is current within 60 s of the recovery
    wait_until(
        lambda: not learners_behind(course, learner_ids),
        timeout=60 - (time.monotonic() - recovered),
        what=f"learners to catch up (behind: {learners_behind(course, learner_ids)})",
    )
    print(f"every learner current {time.monotonic() - recovered:.1f} s after recovery")  # noqa: T201


def test_killing_the_default_worker_mid_update_loses_no_update(start_worker):
    course, learner_ids = course_with_history(learners=STUDENTS, attempts=5)
    exercise = course.exercises.first()
    reconcile_every(2)
    worker = start_worker(
        queues="default",
        name="default",
        beat=True,
        extra_env={"CELERY_VISIBILITY_TIMEOUT_SECONDS": "10"},
    )
    wait_until(
        lambda: not learners_behind(course, learner_ids), timeout=60, what="a first catch-up"
    )

    # given every student answers at once, and the whole worker (parent and child) is killed
    # while their updates are queued and in flight
    for user in User.objects.filter(pk__in=learner_ids):
        attempt_submit(user=user, exercise=exercise, answer=42)
    os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait(timeout=10)
    behind_at_kill = learners_behind(course, learner_ids)

    # when a new worker starts
    started = time.monotonic()
    start_worker(
        queues="default",
        name="default",
        beat=True,
        extra_env={"CELERY_VISIBILITY_TIMEOUT_SECONDS": "10"},
    )

    # then the lost and unacknowledged updates are redelivered or reconciled within a minute
    wait_until(
        lambda: not learners_behind(course, learner_ids),
        timeout=60,
        what="every learner to be current after the kill",
    )
    assert behind_at_kill, "the kill came after every update: nothing was tested"
    assert time.monotonic() - started < 60


def test_a_retrain_requested_while_redis_is_down_is_a_503_and_frees_the_scope(
    private_redis, start_web
):
    course, _ = course_with_history(learners=3, attempts=2)
    token = Token.objects.create(user=course.owner).key
    web = start_web(broker_url=private_redis.url)
    headers = {"Authorization": f"Token {token}"}
    url = f"{web.url}/api/v1/courses/{course.pk}/retrain"

    # given Redis is away, a retrain request answers at once with a 503 and the reason
    private_redis.stop()
    started = time.monotonic()
    refused = requests.post(url, json={"kind": "bkt"}, headers=headers, timeout=30)
    assert time.monotonic() - started < 2.0
    assert refused.status_code == 503
    assert "task queue is unavailable" in refused.json()["error"]["message"]
    assert TrainingRun.objects.get(course=course).status == "failed"

    # and once it is back, the same request is queued (the failed run holds nothing open)
    private_redis.start()
    queued = requests.post(url, json={"kind": "bkt"}, headers=headers, timeout=30)
    assert queued.status_code == 202, queued.text
