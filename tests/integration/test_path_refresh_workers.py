"""The fanned-out path refresh with real `default` worker processes, PostgreSQL and Redis.

Two workers share the chunks of one course; a chunk message sent twice (at the same time, and
again after the refresh) has one effect; a promotion that lands while chunks are pending ends
with every learner on the newer version, and no learner is ever seen with a path, a state and
a mastery from different versions.
"""

import ast
import re
import threading

import psycopg2
import pytest
from celery import current_app
from django.db import connection, transaction
from django.utils import timezone

from adaptive.ml.artifacts import artifact_save
from adaptive.ml.bkt import BKTParams
from adaptive.models import LearnerState, LearningPath, ModelVersion, PathRefresh
from adaptive.selectors import mastery_raw_load
from adaptive.services.learning_paths import path_refresh
from adaptive.services.model_versions import model_version_activate
from adaptive.services.path_refresh_fanout import (
    CHUNK_TASK,
    path_refresh_chunk_run,
    path_refreshes_start,
)
from adaptive.services.retraining import paths_refresh_request
from tests.integration.conftest import wait_until
from tests.integration.test_worker_faults import course_with_history

pytestmark = pytest.mark.integration

SUCCEEDED = re.compile(r"path_refresh_chunk_task\[[^\]]+\] succeeded in [^:]+: (\{.*\})")


def chunk_results(*workers) -> list[tuple[int, dict]]:
    """(worker number, returned dict) of every chunk task the workers finished."""
    return [
        (number, ast.literal_eval(match.group(1)))
        for number, worker in enumerate(workers)
        for match in SUCCEEDED.finditer(worker.output())
    ]


def bkt_version(course, directory, *, status, prior):
    skills = list(course.skills.order_by("pk").values_list("pk", flat=True))
    metadata = artifact_save(
        directory, metadata={}, bkt=BKTParams.default(len(skills), prior=prior, learn=0.2)
    )
    return ModelVersion.objects.create(
        course=course,
        kind="bkt",
        status=status,
        activated_at=timezone.now() if status == "active" else None,
        skill_vocabulary=skills,
        artifact_path=str(directory),
        artifact_sha256=metadata.sha256,
        manifest_sha256=metadata.manifest_sha256,
    )


# One statement, so one snapshot: a learner whose path, state and mastery rows disagree on the
# version (or who has some of them and not the others) would be counted.
MIXED = """
SELECT count(*) FROM (
    SELECT p.user_id FROM adaptive_learningpath p
    LEFT JOIN adaptive_learnerstate s ON s.user_id = p.user_id AND s.course_id = p.course_id
    WHERE p.course_id = %(course)s
      AND (s.id IS NULL OR length(s.mastery) = 0
           OR s.model_version_id IS DISTINCT FROM p.model_version_id)
    UNION ALL
    SELECT s.user_id FROM adaptive_learnerstate s
    LEFT JOIN adaptive_learningpath p ON p.user_id = s.user_id AND p.course_id = s.course_id
    WHERE s.course_id = %(course)s AND p.id IS NULL
) AS mixed
"""


def mixed_learners(course_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(MIXED, {"course": course_id})
        return int(cursor.fetchone()[0])


def every_learner_on(course, learner_ids, version_id, skills=8):
    assert dict(
        LearningPath.objects.filter(course=course).values_list("user_id", "model_version_id")
    ) == dict.fromkeys(learner_ids, version_id)
    assert dict(
        LearnerState.objects.filter(course=course).values_list("user_id", "model_version_id")
    ) == dict.fromkeys(learner_ids, version_id)
    # The raw mastery vector is on the state row (one version with it): every skill has one.
    raw = mastery_raw_load(course_id=course.pk, user_ids=learner_ids)
    assert {len(values) for values in raw.values()} == {skills}
    assert mixed_learners(course.pk) == 0


def test_two_workers_share_the_chunks_and_a_chunk_sent_twice_counts_once(start_worker):
    # given a course of 300 learners and two default workers
    course, learner_ids = course_with_history(learners=300, attempts=12)
    workers = [start_worker(queues="default", name=f"default-{n}") for n in range(2)]

    # when a refresh starts in chunks of 10, and the first chunk's message goes out twice: one
    # copy just ahead of the group, so that both workers take the two copies at the same time
    def send_first_chunk_again() -> None:
        refresh = PathRefresh.objects.get(course=course)
        current_app.send_task(CHUNK_TASK, kwargs={"chunk_id": refresh.chunks.get(index=0).pk})

    with transaction.atomic():
        transaction.on_commit(send_first_chunk_again)
        [refresh] = path_refreshes_start(course_ids=[course.pk], chunk_size=10)

    wait_until(
        lambda: PathRefresh.objects.filter(pk=refresh.pk, status="finished").exists(),
        timeout=180,
        what="the refresh to finish",
    )

    # then 30 chunks, each written once; both workers wrote some
    refresh.refresh_from_db()
    assert (refresh.chunks_total, refresh.chunks_done) == (30, 30)
    assert (refresh.learners, refresh.learners_total) == (300, 300)
    first = refresh.chunks.get(index=0)
    wait_until(
        lambda: len([r for _, r in chunk_results(*workers) if r["chunk_id"] == first.pk]) == 2,
        timeout=30,
        what="both copies of the first chunk to be done",
    )
    # A worker logs a task's result after the task's transaction commits: the refresh can be
    # finished in the database a moment before the last chunk's line is in the worker's log.
    chunk_ids = sorted(refresh.chunks.values_list("pk", flat=True))

    def written_results() -> list[tuple[int, dict]]:
        return [(n, r) for n, r in chunk_results(*workers) if r["outcome"] == "written"]

    wait_until(
        lambda: len(written_results()) >= len(chunk_ids),
        timeout=30,
        what="every chunk's result in the workers' logs",
    )
    results = chunk_results(*workers)
    assert sorted(r["outcome"] for _, r in results if r["chunk_id"] == first.pk) == [
        "duplicate",
        "written",
    ]
    written = written_results()
    assert sorted(r["chunk_id"] for _, r in written) == chunk_ids
    assert {number for number, _ in written} == {0, 1}
    every_learner_on(course, learner_ids, None)

    # and the same message once more, after the end, changes nothing
    paths = set(LearningPath.objects.filter(course=course).values_list("pk", "generated_at"))
    current_app.send_task(CHUNK_TASK, kwargs={"chunk_id": first.pk})
    wait_until(
        lambda: len([r for _, r in chunk_results(*workers) if r["chunk_id"] == first.pk]) == 3,
        timeout=30,
        what="the third copy",
    )
    assert set(LearningPath.objects.filter(course=course).values_list("pk", "generated_at")) == (
        paths
    )
    refresh.refresh_from_db()
    assert (refresh.chunks_done, refresh.learners) == (30, 300)


def test_a_promotion_mid_refresh_ends_with_every_learner_on_the_newer_version(
    start_worker, settings, tmp_path
):
    # given a course of 400 learners served by version 1, and a candidate version 2
    settings.PATHWISE_MODEL_ROOT = tmp_path / "models"
    course, learner_ids = course_with_history(learners=400, attempts=12)
    old = bkt_version(course, tmp_path / "v1", status="active", prior=0.5)
    new = bkt_version(course, tmp_path / "v2", status="candidate", prior=0.2)
    workers = [start_worker(queues="default", name=f"default-{n}") for n in range(2)]
    seen_mixed: list[int] = []
    watching = threading.Event()

    def watch() -> None:
        # Reads all the time, from its own connection, while both refreshes write.
        try:
            while not watching.is_set():
                seen_mixed.append(mixed_learners(course.pk))
        finally:
            connection.close()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        # when the refresh of version 1 has done a few of its 100 chunks
        [older] = path_refreshes_start(course_ids=[course.pk], chunk_size=4)
        wait_until(
            lambda: PathRefresh.objects.filter(pk=older.pk, chunks_done__gte=3).exists(),
            timeout=120,
            what="the first chunks of version 1",
        )
        # and version 2 is promoted, its refresh requested as after an activation
        with transaction.atomic():
            model_version_activate(version=new)
            paths_refresh_request(course_id=course.pk)
        newer = wait_until(
            lambda: PathRefresh.objects.filter(course=course, model_version=new).first(),
            timeout=60,
            what="the refresh of version 2 to start",
        )
        wait_until(
            lambda: PathRefresh.objects.filter(pk=newer.pk, status="finished").exists(),
            timeout=240,
            what="the refresh of version 2 to finish",
        )
    finally:
        watching.set()
        watcher.join(timeout=30)

    # then the older refresh stopped part-way, and every learner is on version 2
    older.refresh_from_db()
    assert older.status == "superseded"
    assert 3 <= older.chunks_done < older.chunks_total == 100
    every_learner_on(course, learner_ids, new.pk)
    # and no reader ever saw a learner with rows of two versions
    assert seen_mixed
    assert set(seen_mixed) == {0}

    # and every chunk of version 1 sent again, after the end, writes nothing
    older_ids = set(older.chunks.values_list("pk", flat=True))

    def older_outcomes() -> list[str]:
        return [r["outcome"] for _, r in chunk_results(*workers) if r["chunk_id"] in older_ids]

    before = older_outcomes()
    for chunk_id in sorted(older_ids):
        current_app.send_task(CHUNK_TASK, kwargs={"chunk_id": chunk_id})
    wait_until(
        lambda: len(older_outcomes()) == len(before) + 100,
        timeout=60,
        what="the late chunks of version 1",
    )
    assert older_outcomes().count("written") == before.count("written") == older.chunks_done
    every_learner_on(course, learner_ids, new.pk)
    assert ModelVersion.objects.get(pk=old.pk).status == "retired"


def session_on_the_test_database():
    db = connection.settings_dict
    return psycopg2.connect(
        dbname=db["NAME"],
        user=db.get("USER") or "postgres",
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
    )


def test_a_refresh_start_waits_for_the_chunk_in_flight_of_the_older_refresh(
    transactional_db, celery_sends_for_real, settings, tmp_path
):
    # given learners refreshed at cold start, and a new cold-start refresh (its chunk messages
    # wait in Redis: no worker here, the chunks are run by hand below)
    settings.PATHWISE_MODEL_ROOT = tmp_path / "models"
    course, learner_ids = course_with_history(learners=20, attempts=6)
    path_refresh(course_id=course.pk)
    new = bkt_version(course, tmp_path / "v2", status="candidate", prior=0.2)
    [older] = path_refreshes_start(course_ids=[course.pk], chunk_size=10)
    first = older.chunks.get(index=0)
    # and its first chunk, mid-write, held up by a row lock of another session
    blocker = session_on_the_test_database()
    blocker.cursor().execute(
        "SELECT 1 FROM adaptive_learnerstate WHERE user_id = %s FOR UPDATE", [min(learner_ids)]
    )
    results = {}

    def run(name, function, **kwargs):
        try:
            results[name] = function(**kwargs)
        finally:
            connection.close()

    chunk = threading.Thread(
        target=run, args=("chunk", path_refresh_chunk_run), kwargs={"chunk_id": first.pk}
    )
    start = threading.Thread(
        target=run, args=("start", path_refreshes_start), kwargs={"course_ids": [course.pk]}
    )
    try:
        chunk.start()
        wait_until(lambda: waiting_sessions() >= 1, timeout=30, what="the chunk to wait")

        # when version 2 is promoted and its refresh starts meanwhile
        model_version_activate(version=new)
        start.start()

        # then the start waits for the chunk in flight: no newer refresh exists yet
        wait_until(lambda: waiting_sessions() >= 2, timeout=30, what="the start to wait")
        assert not PathRefresh.objects.filter(model_version=new).exists()
    finally:
        blocker.rollback()  # on a failure too, or the blocked threads would hang the teardown
        blocker.close()
        chunk.join(timeout=60)
        if start.ident is not None:  # started
            start.join(timeout=60)
    assert results["chunk"].outcome == "written"
    [newer] = results["start"]
    older.refresh_from_db()
    assert older.status == "superseded"
    # and the older refresh's chunk committed first, so the newer one's chunks overwrite it
    for each in newer.chunks.order_by("index"):
        assert path_refresh_chunk_run(chunk_id=each.pk).outcome == "written"
    assert path_refresh_chunk_run(chunk_id=older.chunks.get(index=1).pk).outcome == "skipped"
    every_learner_on(course, learner_ids, new.pk)


def waiting_sessions() -> int:
    """Sessions of this test database waiting for a lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return int(cursor.fetchone()[0])
