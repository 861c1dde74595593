"""A course's path refresh split over the `default` workers: one idempotent task per chunk.

`path_refreshes_start` records a `PathRefresh` per course with the version serving it, splits
the enrolled learners into contiguous user-id ranges (`PathRefreshChunk`, keyset pagination),
and after commit sends one `path_refresh_chunk_task` per range as a Celery group. Each chunk
task calls `path_refresh_chunk_run`, which writes its learners' state, mastery, display and
path in one transaction and marks the chunk done in that same transaction; the chunk that
completes the count finishes the refresh (no chord: the project runs without a result backend,
and the database already knows which chunks are done). `path_refreshes_reap` (every half
minute, with the training-run reaper) sends again the chunks of a refresh that went silent and
fails one that stays silent.

Consistency, the three rules and what enforces each:

- One learner, one version: a chunk writes every row of a learner with one runtime in one
  transaction (`learning_paths.path_refresh_chunk`).
- A chunk delivered twice has one effect: the chunk is claimed with
  `UPDATE ... SET done_at WHERE done_at IS NULL` inside its write transaction; a second
  delivery (even a concurrent one, which waits on the row lock) claims nothing and returns.
- An older refresh never overwrites a newer one: starting a refresh locks the course row
  `FOR UPDATE` and marks the running refresh of the course superseded; a chunk's write
  transaction first locks the same row `FOR KEY SHARE` and only then reads its refresh's status.
  The two locks conflict, so either the old chunk commits before the new refresh exists (and
  the new refresh's chunks, sent after that, overwrite it) or it waits, sees "superseded" and
  writes nothing. `FOR KEY SHARE` rather than `FOR SHARE`: it is the lock every insert that
  references the course already takes (foreign-key checks), so chunks never block each other,
  attempts or edits of the course; only a refresh start (and `training_run_request`, which locks
  the course for a moment) waits for the chunks in flight, a few seconds at most. A refresh
  generation compared without a lock would leave the window between the check and the commit.
  Before it computes anything a chunk also re-resolves the course's runtime: a version other
  than its refresh's means a promotion landed, and the chunk supersedes its refresh instead of
  spending seconds on rows that the next refresh replaces.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from celery import current_app, group
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max, Min, QuerySet, Sum
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from adaptive.models import PathRefresh, PathRefreshChunk, TrainingRun
from adaptive.services.class_summary import class_summary_schedule
from adaptive.services.learning_paths import (
    course_graph_load,
    path_refresh_chunk,
    refresh_tables_analyze,
)
from adaptive.serving import runtime_for_course
from courses.models import Course, Skill
from learners.models import Enrollment

logger = logging.getLogger(__name__)

# By name: adaptive.tasks imports this module (and the web process sends it too).
CHUNK_TASK = "adaptive.tasks.path_refresh_chunk_task"
# The last chunk's range is open at the top, so a learner enrolled after the split is covered.
LAST_USER_ID = 2**63 - 1


def path_refresh_chunk_size(*, course_id: int) -> int:
    """Learners per chunk: PATHWISE_REFRESH_CHUNK_LEARNERS, fewer on a course of many skills."""
    skills = Skill.objects.filter(course_id=course_id).count()
    by_cells = settings.PATHWISE_REFRESH_CHUNK_CELLS // max(skills, 1)
    return max(1, min(settings.PATHWISE_REFRESH_CHUNK_LEARNERS, by_cells))


def _enrolled(course_id: int) -> QuerySet[Enrollment]:
    return Enrollment.objects.filter(course_id=course_id).exclude(status=Enrollment.Status.DROPPED)


def _learner_ranges(course_id: int, chunk_size: int) -> list[tuple[int, int, int]]:
    """Contiguous (first, last, learners) user-id ranges of `chunk_size` learners, by keyset."""
    ranges: list[tuple[int, int, int]] = []
    last = 0
    while True:
        ids = list(
            _enrolled(course_id)
            .filter(user_id__gt=last)
            .order_by("user_id")
            .values_list("user_id", flat=True)[:chunk_size]
        )
        if not ids:
            break
        # From just above the previous range, so that nobody enrolled later falls in a gap.
        ranges.append((last + 1, ids[-1], len(ids)))
        last = ids[-1]
    if ranges:
        first, _, count = ranges[-1]
        ranges[-1] = (first, LAST_USER_ID, count)
    return ranges


def _course_lock_shared(course_id: int) -> None:
    """The chunk's side of the guard (see the module docstring)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT 1 FROM {Course._meta.db_table} WHERE id = %s FOR KEY SHARE",  # noqa: S608
                [course_id],
            )
    # Elsewhere (the embedded SQLite) the chunk's first statement is the claim, a write, which
    # takes the database's single write lock for the rest of the transaction: the same effect.


def path_refreshes_start(
    *,
    course_ids: Sequence[int],
    training_run_id: int | None = None,
    chunk_size: int | None = None,
) -> list[PathRefresh]:
    """Start a fanned-out refresh of every path of each course; the chunk tasks leave after
    commit. A running refresh of a course is superseded by the new one."""
    refreshes = []
    if course_ids:
        refresh_tables_analyze()
    for course_id in course_ids:
        size = chunk_size or path_refresh_chunk_size(course_id=course_id)
        # The split and the artifact check read a lot; neither needs the lock, so both run first.
        ranges = _learner_ranges(course_id, size)
        runtime_for_course(course_id=course_id)
        with transaction.atomic():
            if Course.objects.select_for_update().filter(pk=course_id).first() is None:
                continue
            # Under the lock: a promotion committed before it is the version recorded here.
            runtime = runtime_for_course(course_id=course_id)
            now = timezone.now()
            superseded = list(
                PathRefresh.objects.select_for_update()
                .filter(course_id=course_id, status=PathRefresh.Status.RUNNING)
                .values_list("pk", "training_run_id")
            )
            PathRefresh.objects.filter(pk__in=[pk for pk, _ in superseded]).update(
                status=PathRefresh.Status.SUPERSEDED,
                finished_at=now,
                error="A newer refresh of the course started.",
            )
            refresh = PathRefresh.objects.create(
                course_id=course_id,
                model_version_id=runtime.model_version_id,
                training_run_id=training_run_id,
                chunk_size=size,
                chunks_total=len(ranges),
                learners_total=sum(count for _, _, count in ranges),
                started_at=now,
                progressed_at=now,
                status=PathRefresh.Status.RUNNING if ranges else PathRefresh.Status.FINISHED,
                finished_at=None if ranges else now,
            )
            chunks = PathRefreshChunk.objects.bulk_create(
                PathRefreshChunk(
                    refresh=refresh, index=index, first_user_id=first, last_user_id=last
                )
                for index, (first, last, _) in enumerate(ranges)
            )
            for run_id in {run_id for _, run_id in superseded if run_id} | {training_run_id}:
                if run_id is not None:
                    _training_run_progress(run_id)
            if chunks:
                transaction.on_commit(
                    partial(_chunks_send, refresh.pk, [chunk.pk for chunk in chunks])
                )
        refreshes.append(refresh)
    return refreshes


def _chunks_send(refresh_id: int, chunk_ids: list[int]) -> None:
    """Publish the chunk tasks as one group; a broker that is away is left to the reaper."""
    tasks = group(current_app.signature(CHUNK_TASK, kwargs={"chunk_id": pk}) for pk in chunk_ids)
    try:
        tasks.apply_async()
    except (BrokerError, OSError) as error:
        logger.error(
            "chunks of path refresh %s not sent (%s); the reaper sends them again",
            refresh_id,
            error,
        )


@dataclass(frozen=True)
class ChunkResult:
    chunk_id: int
    # written | duplicate (already done) | skipped (its refresh is over) | missing
    outcome: str
    refresh_id: int | None = None
    learners: int = 0
    rows: int = 0
    refresh_finished: bool = False


def path_refresh_chunk_run(
    *, chunk_id: int, enqueue_catch_up: Callable[[int], None] | None = None
) -> ChunkResult:
    """Refresh one chunk's learners, once, unless its refresh was superseded or is over."""
    chunk = PathRefreshChunk.objects.select_related("refresh").filter(pk=chunk_id).first()
    if chunk is None:
        return ChunkResult(chunk_id, "missing")
    refresh = chunk.refresh
    if chunk.done_at is not None:
        return ChunkResult(chunk_id, "duplicate", refresh.pk)
    if refresh.status != PathRefresh.Status.RUNNING:
        return ChunkResult(chunk_id, "skipped", refresh.pk)
    runtime = runtime_for_course(course_id=refresh.course_id)
    if runtime.model_version_id != refresh.model_version_id:
        _refresh_supersede(
            refresh,
            f"The course is now served by model version {runtime.model_version_id or 'cold start'}"
            f"; the refresh of version {refresh.model_version_id or 'cold start'} stopped.",
        )
        return ChunkResult(chunk_id, "skipped", refresh.pk)
    graph = course_graph_load(course_id=refresh.course_id)
    with transaction.atomic():
        _course_lock_shared(refresh.course_id)
        now = timezone.now()
        claimed = PathRefreshChunk.objects.filter(pk=chunk.pk, done_at__isnull=True).update(
            done_at=now
        )
        if not claimed:
            return ChunkResult(chunk_id, "duplicate", refresh.pk)
        if not PathRefresh.objects.filter(
            pk=refresh.pk, status=PathRefresh.Status.RUNNING
        ).exists():
            PathRefreshChunk.objects.filter(pk=chunk.pk).update(
                outcome=PathRefreshChunk.Outcome.SKIPPED
            )
            return ChunkResult(chunk_id, "skipped", refresh.pk)
        user_ids = list(
            _enrolled(refresh.course_id)
            .filter(user_id__gte=chunk.first_user_id, user_id__lte=chunk.last_user_id)
            .order_by("user_id")
            .values_list("user_id", flat=True)
        )
        rows = (
            path_refresh_chunk(
                course_id=refresh.course_id,
                user_ids=user_ids,
                runtime=runtime,
                graph=graph,
                enqueue_catch_up=enqueue_catch_up,
            )
            if user_ids
            else 0
        )
        PathRefreshChunk.objects.filter(pk=chunk.pk).update(
            outcome=PathRefreshChunk.Outcome.WRITTEN, learners=len(user_ids), rows=rows
        )
        # Last, so the refresh row is locked only for the commit: chunks queue on it briefly.
        PathRefresh.objects.filter(pk=refresh.pk).update(
            chunks_done=F("chunks_done") + 1,
            learners=F("learners") + len(user_ids),
            rows=F("rows") + rows,
            progressed_at=now,
        )
        # This transaction holds the row's lock now: the counts read are its own.
        done, total = (
            PathRefresh.objects.filter(pk=refresh.pk)
            .values_list("chunks_done", "chunks_total")
            .get()
        )
        finished = done == total
        if finished:
            PathRefresh.objects.filter(pk=refresh.pk).update(
                status=PathRefresh.Status.FINISHED, finished_at=now
            )
            # The refresh may have folded pending answers into what learners are shown.
            class_summary_schedule(course_id=refresh.course_id, countdown=0)
        if refresh.training_run_id is not None:
            _training_run_progress(refresh.training_run_id)
    return ChunkResult(chunk_id, "written", refresh.pk, len(user_ids), rows, finished)


def _refresh_supersede(refresh: PathRefresh, reason: str) -> None:
    with transaction.atomic():
        ended = PathRefresh.objects.filter(pk=refresh.pk, status=PathRefresh.Status.RUNNING).update(
            status=PathRefresh.Status.SUPERSEDED, finished_at=timezone.now(), error=reason
        )
        if ended and refresh.training_run_id is not None:
            _training_run_progress(refresh.training_run_id)
    if ended:
        logger.info("path refresh %s superseded: %s", refresh.pk, reason)


def _training_run_progress(run_id: int) -> None:
    """Write the refresh's progress into the training run that asked for it (its API shows it)."""
    refreshes = PathRefresh.objects.filter(training_run_id=run_id)
    totals = refreshes.aggregate(
        chunks_done=Sum("chunks_done"),
        chunks_total=Sum("chunks_total"),
        learners_done=Sum("learners"),
        learners_total=Sum("learners_total"),
        started=Min("started_at"),
        finished=Max("finished_at"),
    )
    statuses = set(refreshes.values_list("status", flat=True))
    run = TrainingRun.objects.select_for_update().filter(pk=run_id).first()
    if run is None:
        return
    progress = {
        **(run.progress or {}),
        "stage": "refresh" if PathRefresh.Status.RUNNING in statuses else "done",
        "path_refresh_ids": sorted(refreshes.values_list("pk", flat=True)),
        "chunks_done": totals["chunks_done"] or 0,
        "chunks_total": totals["chunks_total"] or 0,
        "learners_done": totals["learners_done"] or 0,
        "learners_total": totals["learners_total"] or 0,
    }
    timings = dict(run.timings or {})
    if PathRefresh.Status.RUNNING not in statuses:
        progress["paths_refreshed"] = totals["learners_done"] or 0
        progress["refresh_status"] = (
            PathRefresh.Status.FINISHED
            if statuses <= {PathRefresh.Status.FINISHED}
            else sorted(statuses - {PathRefresh.Status.FINISHED})[0]
        )
        if totals["started"] is not None and totals["finished"] is not None:
            timings["refresh_seconds"] = round(
                (totals["finished"] - totals["started"]).total_seconds(), 3
            )
    run.progress = progress
    run.timings = timings
    run.save(update_fields=["progress", "timings"])


@dataclass(frozen=True)
class ReapResult:
    resent: list[int]
    failed: list[int]


def path_refreshes_reap() -> ReapResult:
    """Send again the missing chunks of each running refresh silent for
    PATHWISE_REFRESH_STALE_SECONDS; fail it after PATHWISE_REFRESH_MAX_DISPATCHES sends."""
    stale = settings.PATHWISE_REFRESH_STALE_SECONDS
    cutoff = timezone.now() - timedelta(seconds=stale)
    candidates = list(
        PathRefresh.objects.filter(status=PathRefresh.Status.RUNNING, progressed_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    resent, failed = [], []
    for refresh_id in candidates:
        with transaction.atomic():
            refresh = (
                PathRefresh.objects.select_for_update()
                .filter(pk=refresh_id, status=PathRefresh.Status.RUNNING, progressed_at__lt=cutoff)
                .first()
            )
            if refresh is None:
                continue  # it moved on meanwhile
            missing = list(
                refresh.chunks.filter(done_at__isnull=True)
                .order_by("index")
                .values_list("pk", flat=True)
            )
            now = timezone.now()
            if refresh.dispatches < settings.PATHWISE_REFRESH_MAX_DISPATCHES:
                PathRefresh.objects.filter(pk=refresh.pk).update(
                    dispatches=F("dispatches") + 1, progressed_at=now
                )
                transaction.on_commit(partial(_chunks_send, refresh.pk, missing))
                logger.warning(
                    "path refresh %s: no chunk done for %d s; %d chunks sent again",
                    refresh.pk,
                    stale,
                    len(missing),
                )
                resent.append(refresh.pk)
                continue
            reason = (
                f"{len(missing)} of {refresh.chunks_total} chunks were not done after "
                f"{refresh.dispatches} sends ({int(stale)} s without progress each time): the "
                "default workers are down, or these chunks kill or time out their worker. "
                "Their learners move to the new version at their next attempt."
            )
            logger.error("path refresh %s failed: %s", refresh.pk, reason)
            PathRefresh.objects.filter(pk=refresh.pk).update(
                status=PathRefresh.Status.FAILED, finished_at=now, error=reason
            )
            if refresh.training_run_id is not None:
                _training_run_progress(refresh.training_run_id)
            failed.append(refresh.pk)
    return ReapResult(resent, failed)
