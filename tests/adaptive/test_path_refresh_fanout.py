"""The fanned-out path refresh, in-process (eager Celery): chunks, repeats, supersession, reaper.

tests/integration/test_path_refresh_workers.py runs the same with real worker processes.
"""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from adaptive.ml.artifacts import artifact_save
from adaptive.ml.bkt import BKTParams
from adaptive.models import (
    LearnerState,
    LearningPath,
    ModelVersion,
    PathRefresh,
    PathRefreshChunk,
    TrainingRun,
)
from adaptive.selectors import mastery_raw_load
from adaptive.services import path_refresh_fanout as fanout
from adaptive.services.path_refresh_fanout import (
    LAST_USER_ID,
    path_refresh_chunk_run,
    path_refresh_chunk_size,
    path_refreshes_reap,
    path_refreshes_start,
)
from adaptive.tasks import training_runs_reap_task
from learners.models import Enrollment
from tests.adaptive.conftest import course_with_history
from tests.factories import (
    CourseFactory,
    SkillFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def course_with_learners():
    course, skills, _exercises, learners = course_with_history(learners=7, seed=3, attempts=(1, 6))
    return course, skills, learners


def activate_bkt(course, skills, directory, *, prior=0.5):
    """A verified BKT version of the course becomes the active one (retiring the previous)."""
    metadata = artifact_save(
        directory, metadata={}, bkt=BKTParams.default(len(skills), prior=prior, learn=0.2)
    )
    ModelVersion.objects.filter(course=course, status="active").update(status="retired")
    return ModelVersion.objects.create(
        course=course,
        kind="bkt",
        status="active",
        activated_at=timezone.now(),
        skill_vocabulary=[skill.pk for skill in skills],
        artifact_path=str(directory),
        artifact_sha256=metadata.sha256,
        manifest_sha256=metadata.manifest_sha256,
    )


def versions_of(course):
    """learner -> (state, path, {mastery}) versions."""
    states = dict(
        LearnerState.objects.filter(course=course).values_list("user_id", "model_version_id")
    )
    paths = dict(
        LearningPath.objects.filter(course=course).values_list("user_id", "model_version_id")
    )
    # The raw mastery vector lives on the learner's state row: its version is the state's.
    mastery: dict[int, set] = {
        user_id: {version}
        for user_id, version, values in LearnerState.objects.filter(course=course).values_list(
            "user_id", "model_version_id", "mastery"
        )
        if values
    }
    return {
        user_id: (states.get(user_id), paths.get(user_id), mastery.get(user_id))
        for user_id in set(states) | set(paths) | set(mastery)
    }


def test_a_refresh_splits_learners_into_chunks_and_every_chunk_writes_its_learners(
    course_with_learners, django_capture_on_commit_callbacks, settings, tmp_path
):
    # given a course served by a trained version
    course, skills, learners = course_with_learners
    version = activate_bkt(course, skills, tmp_path / "v1")

    # when a refresh starts in chunks of 3 (the chunk tasks run in-process after commit)
    with django_capture_on_commit_callbacks(execute=True):
        [refresh] = path_refreshes_start(course_ids=[course.pk], chunk_size=3)

    # then 3 contiguous ranges, open at the top, each done once, and the refresh finished
    refresh.refresh_from_db()
    assert (refresh.status, refresh.model_version_id) == ("finished", version.pk)
    assert (refresh.chunks_done, refresh.chunks_total) == (3, 3)
    assert (refresh.learners, refresh.learners_total) == (7, 7)
    chunks = list(refresh.chunks.order_by("index"))
    ids = sorted(learner.pk for learner in learners)
    assert [(c.first_user_id, c.last_user_id) for c in chunks] == [
        (1, ids[2]),
        (ids[2] + 1, ids[5]),
        (ids[5] + 1, LAST_USER_ID),
    ]
    assert [(c.outcome, c.learners) for c in chunks] == [("written", 3)] * 2 + [("written", 1)]
    assert refresh.rows == sum(c.rows for c in chunks) > 0
    # and every learner has a state, a path and a mastery per skill, all of the version
    assert versions_of(course) == {pk: (version.pk, version.pk, {version.pk}) for pk in ids}
    raw = mastery_raw_load(course_id=course.pk, user_ids=ids)
    assert sorted(len(skills) for skills in raw.values()) == [3] * 7


def test_a_chunk_delivered_twice_has_one_effect(
    course_with_learners, django_capture_on_commit_callbacks
):
    course, _, _ = course_with_learners
    with django_capture_on_commit_callbacks(execute=False):
        [refresh] = path_refreshes_start(course_ids=[course.pk], chunk_size=4)
    first = refresh.chunks.get(index=0)

    written = path_refresh_chunk_run(chunk_id=first.pk)
    paths = set(LearningPath.objects.filter(course=course).values_list("pk", flat=True))
    again = path_refresh_chunk_run(chunk_id=first.pk)

    assert (written.outcome, written.learners) == ("written", 4)
    assert (again.outcome, again.learners, again.rows) == ("duplicate", 0, 0)
    # the rows of the first delivery are untouched, counted once
    assert set(LearningPath.objects.filter(course=course).values_list("pk", flat=True)) == paths
    refresh.refresh_from_db()
    assert (refresh.chunks_done, refresh.learners, refresh.status) == (1, 4, "running")


def test_a_newer_refresh_supersedes_the_older_whose_chunks_then_write_nothing(
    course_with_learners, django_capture_on_commit_callbacks, tmp_path
):
    # given a refresh of version 1 whose chunks have not run yet
    course, skills, learners = course_with_learners
    old = activate_bkt(course, skills, tmp_path / "v1")
    with django_capture_on_commit_callbacks(execute=False):
        [older] = path_refreshes_start(course_ids=[course.pk], chunk_size=2)

    # when version 2 is promoted and its refresh starts
    new = activate_bkt(course, skills, tmp_path / "v2", prior=0.3)
    with django_capture_on_commit_callbacks(execute=False) as sent:
        [newer] = path_refreshes_start(course_ids=[course.pk], chunk_size=2)

    # then the older is superseded, and its late chunks write nothing
    older.refresh_from_db()
    assert older.status == "superseded"
    late = [path_refresh_chunk_run(chunk_id=chunk.pk) for chunk in older.chunks.all()]
    assert {result.outcome for result in late} == {"skipped"}
    assert versions_of(course) == {}
    # and the newer one's chunks put every learner on version 2
    for callback in sent:
        callback()
    newer.refresh_from_db()
    assert newer.status == "finished"
    assert versions_of(course) == {learner.pk: (new.pk, new.pk, {new.pk}) for learner in learners}
    assert old.pk != new.pk


def test_a_chunk_that_finds_another_version_serving_stops_its_refresh(
    course_with_learners, django_capture_on_commit_callbacks, tmp_path
):
    # given a cold-start refresh, and a promotion that lands before its chunks run
    course, skills, _ = course_with_learners
    with django_capture_on_commit_callbacks(execute=False):
        [refresh] = path_refreshes_start(course_ids=[course.pk], chunk_size=3)
    version = activate_bkt(course, skills, tmp_path / "v1")

    result = path_refresh_chunk_run(chunk_id=refresh.chunks.get(index=0).pk)

    assert result.outcome == "skipped"
    refresh.refresh_from_db()
    assert refresh.status == "superseded"
    assert f"now served by model version {version.pk}" in refresh.error
    assert versions_of(course) == {}
    assert PathRefreshChunk.objects.filter(refresh=refresh, done_at__isnull=False).count() == 0


def test_a_learner_enrolled_after_the_split_is_refreshed_by_the_last_chunk(
    course_with_learners, django_capture_on_commit_callbacks
):
    course, _, _ = course_with_learners
    with django_capture_on_commit_callbacks(execute=False) as sent:
        [refresh] = path_refreshes_start(course_ids=[course.pk], chunk_size=5)
    late = UserFactory()
    Enrollment.objects.create(user=late, course=course)

    for callback in sent:
        callback()

    refresh.refresh_from_db()
    assert (refresh.status, refresh.learners, refresh.learners_total) == ("finished", 8, 7)
    assert LearningPath.objects.filter(course=course, user=late).exists()


def test_the_training_run_shows_the_refresh_progress_and_its_end(
    course_with_learners, django_capture_on_commit_callbacks
):
    course, _, _ = course_with_learners
    run = TrainingRun.objects.create(
        course=course, trigger="manual", status="succeeded", outcome="promoted"
    )
    with django_capture_on_commit_callbacks(execute=False) as sent:
        [refresh] = path_refreshes_start(
            course_ids=[course.pk], training_run_id=run.pk, chunk_size=3
        )
    run.refresh_from_db()
    assert run.progress == {
        "stage": "refresh",
        "path_refresh_ids": [refresh.pk],
        "chunks_done": 0,
        "chunks_total": 3,
        "learners_done": 0,
        "learners_total": 7,
    }

    with django_capture_on_commit_callbacks(execute=True):
        for callback in sent:
            callback()

    run.refresh_from_db()
    assert run.progress["stage"] == "done"
    assert (run.progress["paths_refreshed"], run.progress["refresh_status"]) == (7, "finished")
    assert (run.progress["chunks_done"], run.progress["chunks_total"]) == (3, 3)
    assert run.timings["refresh_seconds"] >= 0


def test_a_silent_refresh_is_sent_again_then_failed(
    course_with_learners, django_capture_on_commit_callbacks, settings
):
    # given a refresh whose first chunk was done and whose other chunks were lost
    settings.PATHWISE_REFRESH_STALE_SECONDS = 60
    settings.PATHWISE_REFRESH_MAX_DISPATCHES = 2
    course, _, _ = course_with_learners
    with django_capture_on_commit_callbacks(execute=False):
        [refresh] = path_refreshes_start(course_ids=[course.pk], chunk_size=3)
    path_refresh_chunk_run(chunk_id=refresh.chunks.get(index=0).pk)

    def silent_for(seconds):
        PathRefresh.objects.filter(pk=refresh.pk).update(
            progressed_at=timezone.now() - timedelta(seconds=seconds)
        )

    # when it has been silent for less than the limit, nothing happens
    silent_for(30)
    assert path_refreshes_reap() == fanout.ReapResult([], [])

    # when silent past the limit, its missing chunks are sent again (once)
    silent_for(90)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert path_refreshes_reap() == fanout.ReapResult([refresh.pk], [])
    assert len(callbacks) == 1
    missing = list(
        refresh.chunks.filter(index__gt=0).order_by("index").values_list("pk", flat=True)
    )
    assert callbacks[0].args == (refresh.pk, missing)
    refresh.refresh_from_db()
    assert (refresh.dispatches, refresh.status) == (2, "running")

    # and silent again after the last allowed send, it is failed with the reason
    silent_for(90)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        training_runs_reap_task.apply()
    assert callbacks == []
    refresh.refresh_from_db()
    assert refresh.status == "failed"
    assert refresh.error.startswith("2 of 3 chunks were not done after 2 sends")
    assert refresh.finished_at is not None


def test_chunk_size_follows_the_number_of_skills(settings):
    settings.PATHWISE_REFRESH_CHUNK_LEARNERS = 1000
    settings.PATHWISE_REFRESH_CHUNK_CELLS = 55_000
    few, many = CourseFactory(), CourseFactory()
    for index in range(11):
        SkillFactory(course=few, name=f"few {index}")
    for index in range(1100):
        SkillFactory(course=many, name=f"many {index}")

    assert path_refresh_chunk_size(course_id=few.pk) == 1000
    assert path_refresh_chunk_size(course_id=many.pk) == 50


def test_the_command_fans_out_on_request_and_runs_inline_by_default(
    course_with_learners, django_capture_on_commit_callbacks, capsys
):
    course, _, _ = course_with_learners

    with django_capture_on_commit_callbacks(execute=True):
        call_command("refresh_paths", "--course", course.slug, "--fan-out", "--chunk-size", "2")
    out = capsys.readouterr().out
    refresh = PathRefresh.objects.get(course=course)
    assert f"path refresh {refresh.pk} sent as 4 chunks of 2 learners (7 learners" in out
    assert PathRefresh.objects.get(course=course).status == "finished"

    call_command("refresh_paths", "--course", course.slug)
    assert "7 learners" in capsys.readouterr().out
    assert PathRefresh.objects.count() == 1  # inline records no fan-out
