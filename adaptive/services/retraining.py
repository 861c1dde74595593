"""Retraining: requests and their limits, scope locks, dead runs, the refresh flow, schedules.

A retrain request creates a queued `TrainingRun` and, after commit, the `model_retrain_task` on
the `ml` queue; a scope has at most one open (queued or running) run, and a course at most
PATHWISE_RETRAIN_MAX_REQUESTS manual requests per window. The task takes a per-scope lock (a
PostgreSQL advisory lock; a file lock on the embedded SQLite default), trains and gates through
the model registry, and after a promotion refreshes every path of the scope. While it trains it
sends a heartbeat; `training_runs_reap` fails a run whose heartbeat went stale (its worker
died), frees its scope and queues a retry, at most PATHWISE_RUN_MAX_ATTEMPTS tries in all.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from kombu.exceptions import OperationalError as BrokerError

from adaptive.exceptions import (
    ModelVersionStateError,
    TaskQueueUnavailableError,
    TrainingRunOpenError,
    TrainingRunRateError,
)
from adaptive.models import ModelVersion, TrainingRun
from adaptive.services.class_summary import class_summary_schedule
from adaptive.services.learning_paths import PathRefreshResult, path_refresh
from courses.models import Course
from learners.models import Attempt

logger = logging.getLogger(__name__)

RETRAIN_TASK = "adaptive.ml_tasks.model_retrain_task"
REFRESH_TASK = "adaptive.ml_tasks.paths_refresh_task"
# A course trains its own model once it has this much data; others share the global model.
MIN_COURSE_ATTEMPTS = 2000
MIN_COURSE_LEARNERS = 50


def _lock_key(course_id: int | None) -> int:
    digest = hashlib.sha256(f"pathwise-retrain:{course_id or 'global'}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextlib.contextmanager
def retrain_lock(*, course_id: int | None) -> Iterator[bool]:
    """Hold the scope's retrain lock for the block; yields False when another holder has it.

    PostgreSQL: a session advisory lock, released by the server if the worker dies. Elsewhere
    (the SQLite default): an exclusive lock on a file under var/, released by the kernel.
    """
    if connection.vendor == "postgresql":
        key = _lock_key(course_id)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            acquired = bool(cursor.fetchone()[0])
        try:
            yield acquired
        finally:
            if acquired:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    folder = settings.VAR_DIR / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"retrain-{course_id or 'global'}.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


OPEN_STATUSES = (TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING)


def _scope_filter(course_id: int | None) -> Q:
    return Q(course_id=course_id) if course_id is not None else Q(course__isnull=True)


def _retrain_limits_check(*, course: Course | None, trigger: str, budget: bool) -> None:
    """Refuse a request while the scope has an open run, or past the course's request budget."""
    course_id = course.pk if course is not None else None
    open_run = (
        TrainingRun.objects.filter(_scope_filter(course_id), status__in=OPEN_STATUSES)
        .order_by("pk")
        .first()
    )
    if open_run is not None:
        raise TrainingRunOpenError(
            _("Training run %(id)s of this course is still %(status)s: wait until it ends.")
            % {"id": open_run.pk, "status": open_run.get_status_display().lower()},
            {"training_run_id": open_run.pk},
        )
    if course is None or trigger != TrainingRun.Trigger.MANUAL or not budget:
        return
    window = settings.PATHWISE_RETRAIN_WINDOW_SECONDS
    limit = settings.PATHWISE_RETRAIN_MAX_REQUESTS
    since = timezone.now() - timedelta(seconds=window)
    recent = list(
        TrainingRun.objects.filter(
            course=course, trigger=TrainingRun.Trigger.MANUAL, created_at__gte=since
        )
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    if len(recent) >= limit:
        # The oldest request in the window leaves it first.
        retry_after = max(1, int((recent[0] - since).total_seconds()) + 1)
        minutes = max(1, round(window / 60))
        raise TrainingRunRateError(
            ngettext(
                "This course was retrained %(count)d time in the last %(minutes)d minutes, "
                "the most allowed: try again in %(wait)d seconds.",
                "This course was retrained %(count)d times in the last %(minutes)d minutes, "
                "the most allowed: try again in %(wait)d seconds.",
                len(recent),
            )
            % {"count": len(recent), "minutes": minutes, "wait": retry_after},
            retry_after=retry_after,
        )


def _retrain_send(run_id: int, epochs: int | None) -> None:
    """Publish the retrain task; a broker that is away fails the run with the reason."""
    try:
        # By name: the task module imports this one, and the web process must not import it.
        current_app.send_task(RETRAIN_TASK, kwargs={"training_run_id": run_id, "epochs": epochs})
    except (BrokerError, OSError) as error:
        logger.error("could not queue training run %s: %s", run_id, error)
        TrainingRun.objects.filter(pk=run_id, status=TrainingRun.Status.QUEUED).update(
            status=TrainingRun.Status.FAILED,
            outcome="not queued",
            error=f"The task queue is unavailable ({error}); request the retrain again.",
            finished_at=timezone.now(),
        )


def training_run_request(
    *,
    course: Course | None,
    trigger: str = TrainingRun.Trigger.MANUAL,
    kind: str = ModelVersion.Kind.GRU,
    requested_by: Any = None,
    epochs: int | None = None,
    attempt: int = 1,
    retry_of: TrainingRun | None = None,
) -> TrainingRun:
    """Queue a retrain of a scope; returns the queued run (its progress is readable at once).

    Raises `TrainingRunOpenError` while the scope has an open run, `TrainingRunRateError` past
    the course's request budget, and `TaskQueueUnavailableError` when the broker refused it.
    """
    if kind not in ModelVersion.Kind.values:
        raise ModelVersionStateError(f"Unknown model kind {kind!r}; use gru or bkt.")
    if epochs is not None and not 1 <= epochs <= 500:
        raise ModelVersionStateError("epochs must be between 1 and 500.")
    with transaction.atomic():
        if course is not None:
            # Serialises concurrent requests for one course, so two cannot both pass the checks.
            Course.objects.select_for_update().filter(pk=course.pk).first()
        # An automatic retry of a dead run does not spend the teachers' request budget.
        _retrain_limits_check(course=course, trigger=trigger, budget=retry_of is None)
        run = TrainingRun.objects.create(
            course=course,
            kind=kind,
            trigger=trigger,
            requested_by=requested_by,
            status=TrainingRun.Status.QUEUED,
            progress={"stage": "queued"},
            attempt=attempt,
            retry_of=retry_of,
            epochs=epochs,
        )
        transaction.on_commit(partial(_retrain_send, run.pk, epochs))
    if not transaction.get_connection().in_atomic_block:
        run.refresh_from_db()
        if run.status == TrainingRun.Status.FAILED:
            raise TaskQueueUnavailableError(run.error, {"training_run_id": run.pk})
    return run


def paths_refresh_request(*, course_id: int | None) -> None:
    """Refresh, on the ml worker and after commit, every path a scope's model serves."""
    transaction.on_commit(
        lambda: current_app.send_task(REFRESH_TASK, kwargs={"course_id": course_id})
    )


def _courses_served_by(course_id: int | None) -> list[int]:
    """Courses whose paths a promotion in this scope changes."""
    if course_id is not None:
        return [course_id]
    with_own = ModelVersion.objects.filter(
        status=ModelVersion.Status.ACTIVE, course__isnull=False
    ).values_list("course_id", flat=True)
    return list(Course.objects.exclude(pk__in=with_own).order_by("pk").values_list("pk", flat=True))


def paths_refresh_for_scope(
    *,
    course_id: int | None,
    on_progress: Callable[[int, int, int], None] | None = None,
    enqueue_catch_up: Callable[[int], None] | None = None,
) -> list[PathRefreshResult]:
    """Refresh every path the scope's active model serves, course by course."""
    results = []
    for course_id_served in _courses_served_by(course_id):
        results.append(
            path_refresh(
                course_id=course_id_served,
                on_progress=(
                    partial(on_progress, course_id_served) if on_progress is not None else None
                ),
                enqueue_catch_up=enqueue_catch_up,
            )
        )
        # The refresh may have folded pending answers into what learners are shown.
        class_summary_schedule(course_id=course_id_served, countdown=0)
    return results


@dataclass(frozen=True)
class ScopeDemand:
    course_id: int | None
    new_attempts: int


def retrain_scopes_nightly() -> list[int | None]:
    """Scopes to retrain tonight: each course with enough data, else one global model."""
    courses: list[int] = list(
        Attempt.objects.values("course_id")
        .annotate(attempts=Count("id"), learners=Count("user_id", distinct=True))
        .filter(attempts__gte=MIN_COURSE_ATTEMPTS, learners__gte=MIN_COURSE_LEARNERS)
        .order_by("course_id")
        .values_list("course_id", flat=True)
    )
    if not courses:
        return [None] if Attempt.objects.exists() else []
    scopes: list[int | None] = list(courses)
    if Attempt.objects.exclude(course_id__in=courses).exists():
        scopes.append(None)
    return scopes


def retrain_scopes_with_new_attempts(*, min_new_attempts: int) -> list[ScopeDemand]:
    """Scopes with at least `min_new_attempts` attempts since their active model's data cutoff."""
    demands = []
    for scope in retrain_scopes_nightly():
        active = (
            ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE)
            .filter(Q(course_id=scope) if scope is not None else Q(course__isnull=True))
            .first()
        )
        attempts = Attempt.objects.all()
        if scope is not None:
            attempts = attempts.filter(course_id=scope)
        if active is not None and active.data_cutoff is not None:
            attempts = attempts.filter(created_at__gt=active.data_cutoff)
        new = attempts.count()
        if new >= min_new_attempts:
            demands.append(ScopeDemand(scope, new))
    return demands


def training_run_open_exists(*, course_id: int | None) -> bool:
    """The scope has a queued or running run (a dead one is failed by `training_runs_reap`)."""
    return TrainingRun.objects.filter(_scope_filter(course_id), status__in=OPEN_STATUSES).exists()


def training_run_heartbeat(*, run_id: int) -> None:
    """Record that the worker holding the run is alive (called every few seconds)."""
    TrainingRun.objects.filter(pk=run_id).update(heartbeat_at=timezone.now())


def _scope_lock_release(course_id: int | None) -> None:
    """End the database session that still holds a dead run's scope lock (PostgreSQL only).

    A killed worker's session normally ends with its socket; one whose host vanished can linger
    until TCP gives up, and would keep the scope locked for that long.
    """
    if connection.vendor != "postgresql":
        return  # a file lock dies with its process
    key = _lock_key(course_id)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
            "AND classid = %s AND objid = %s AND objsubid = 1 AND pid <> pg_backend_pid()",
            [(key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF],
        )


def training_runs_reap() -> list[int]:
    """Fail every open run whose heartbeat is stale, free its scope and queue a bounded retry.

    Returns the ids of the retries queued. A queued run without a heartbeat has not been picked
    up yet and is left alone; a running one without any (from before heartbeats) counts from
    its start.
    """
    stale = timedelta(seconds=settings.PATHWISE_RUN_STALE_SECONDS)
    cutoff = timezone.now() - stale
    dead_ids = list(
        TrainingRun.objects.filter(status__in=OPEN_STATUSES)
        .filter(
            Q(heartbeat_at__lt=cutoff)
            | Q(heartbeat_at__isnull=True, status=TrainingRun.Status.RUNNING, started_at__lt=cutoff)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    retries = []
    for run_id in dead_ids:
        with transaction.atomic():
            run = (
                TrainingRun.objects.select_for_update()
                .filter(pk=run_id, status__in=OPEN_STATUSES)
                .first()
            )
            if run is None:
                continue  # it finished meanwhile
            last = run.heartbeat_at or run.started_at
            reason = (
                f"The worker stopped sending heartbeats (last at "
                f"{last.isoformat(timespec='seconds') if last else 'never'}, limit "
                f"{int(stale.total_seconds())} s): it was probably killed or lost its host."
            )
            logger.error("training run %s failed: %s", run.pk, reason)
            ModelVersion.objects.filter(
                training_runs=run,
                status__in=[ModelVersion.Status.TRAINING, ModelVersion.Status.CANDIDATE],
            ).update(
                status=ModelVersion.Status.REJECTED,
                rejection_reason=f"training run {run.pk} lost its worker",
            )
            if (run.progress or {}).get("stage") == "refresh":
                # It died after its version was promoted, while refreshing paths: the version
                # serves; only the refresh is left to do, not another training.
                TrainingRun.objects.filter(pk=run.pk).update(
                    status=TrainingRun.Status.FAILED,
                    outcome="worker lost",
                    error=f"{reason} Its version was promoted; the path refresh is queued again.",
                    finished_at=timezone.now(),
                )
                _scope_lock_release(run.course_id)
                paths_refresh_request(course_id=run.course_id)
                continue
            retry = run.attempt < settings.PATHWISE_RUN_MAX_ATTEMPTS
            TrainingRun.objects.filter(pk=run.pk).update(
                status=TrainingRun.Status.FAILED,
                outcome="worker lost",
                error=reason,
                finished_at=timezone.now(),
                log=Concat(
                    F("log"),
                    Value(
                        f"{reason} Retried as attempt {run.attempt + 1}.\n"
                        if retry
                        else f"{reason} Gave up after {run.attempt} attempts.\n"
                    ),
                ),
            )
            _scope_lock_release(run.course_id)
            if retry:
                retries.append(
                    training_run_request(
                        course=run.course,
                        trigger=run.trigger,
                        kind=run.kind,
                        requested_by=run.requested_by,
                        epochs=run.epochs,
                        attempt=run.attempt + 1,
                        retry_of=run,
                    ).pk
                )
    return retries
