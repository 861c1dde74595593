"""Retraining: requests, one-at-a-time scope locks, the retrain-then-refresh flow, schedules.

A retrain request creates a queued `TrainingRun` and, after commit, the `model_retrain_task` on
the `ml` queue. The task takes a per-scope lock (a PostgreSQL advisory lock; a file lock on the
embedded SQLite default), so a second request for the same scope is a logged no-op, trains and
gates through the model registry, and after a promotion refreshes every path of the scope.
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
from django.db.models import Count, Q
from django.utils import timezone

from adaptive.exceptions import ModelVersionStateError
from adaptive.models import ModelVersion, TrainingRun
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


def training_run_request(
    *,
    course: Course | None,
    trigger: str = TrainingRun.Trigger.MANUAL,
    kind: str = ModelVersion.Kind.GRU,
    requested_by: Any = None,
    epochs: int | None = None,
) -> TrainingRun:
    """Queue a retrain of a scope; returns the queued run (its progress is readable at once)."""
    if kind not in ModelVersion.Kind.values:
        raise ModelVersionStateError(f"Unknown model kind {kind!r}; use gru or bkt.")
    if epochs is not None and not 1 <= epochs <= 500:
        raise ModelVersionStateError("epochs must be between 1 and 500.")
    with transaction.atomic():
        run = TrainingRun.objects.create(
            course=course,
            kind=kind,
            trigger=trigger,
            requested_by=requested_by,
            status=TrainingRun.Status.QUEUED,
            progress={"stage": "queued"},
        )
        # By name: the task module imports this one, and the web process must not import it.
        transaction.on_commit(
            lambda: current_app.send_task(
                RETRAIN_TASK, kwargs={"training_run_id": run.pk, "epochs": epochs}
            )
        )
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
    """A queued or running run of this scope exists (started within the hard time limit)."""
    since = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    return TrainingRun.objects.filter(
        Q(course_id=course_id) if course_id is not None else Q(course__isnull=True),
        status__in=[TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING],
        created_at__gte=since,
    ).exists()
