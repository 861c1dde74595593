"""Every read of the adaptive app: the model registry, attempt histories, mastery, paths."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.models import F, Max, OuterRef, Prefetch, Q, QuerySet, Subquery

from adaptive.models import (
    LearnerState,
    LearningPath,
    ModelVersion,
    PathStep,
    TrainingRun,
    mastery_decode,
)
from courses.models import Course, Exercise, Skill
from learners.models import Attempt, Enrollment, User


def model_version_list(
    *, course: Course | None = None, all_scopes: bool = False, status: str | None = None
) -> QuerySet[ModelVersion]:
    """Model versions of one scope (a course, or global when ``course`` is None), newest first."""
    versions = ModelVersion.objects.select_related("course")
    if not all_scopes:
        versions = (
            versions.filter(course__isnull=True)
            if course is None
            else versions.filter(course=course)
        )
    if status is not None:
        versions = versions.filter(status=status)
    return versions.order_by("-created_at", "-pk")


def model_version_active(
    *, course_id: int | None, include_global: bool = False
) -> ModelVersion | None:
    """The active version of a scope (a course, or global when ``course_id`` is None).

    With ``include_global`` a course without an active model of its own gets the active global
    model: the version the registry says serves the course (what actually serves, after the
    artifact check, is `adaptive.serving.serving_status`).
    """
    scope = Q(course_id=course_id) if course_id is not None else Q(course__isnull=True)
    if include_global and course_id is not None:
        scope |= Q(course__isnull=True)
    versions = ModelVersion.objects.filter(scope, status=ModelVersion.Status.ACTIVE)
    return min(versions, key=lambda version: version.course_id is None, default=None)


def training_run_list(*, course: Course | None = None, all_scopes: bool = False) -> QuerySet:
    """Training runs of one scope, newest first, with their model version."""
    runs = TrainingRun.objects.select_related("course", "model_version", "requested_by")
    if not all_scopes:
        runs = runs.filter(course__isnull=True) if course is None else runs.filter(course=course)
    return runs.order_by("-created_at", "-pk")


def learning_path_list_for_user(*, user: Any, course_id: int | None = None) -> list[LearningPath]:
    """The user's learning paths (one per course), steps and their targets prefetched."""
    paths = LearningPath.objects.filter(user=user).select_related("course", "model_version")
    if course_id is not None:
        paths = paths.filter(course_id=course_id)
    steps = PathStep.objects.select_related("lesson", "exercise", "skill").order_by("position")
    return list(paths.order_by("course__title").prefetch_related(Prefetch("steps", queryset=steps)))


@dataclass(frozen=True)
class CourseRoster:
    """A page of a course's learners and its skills: the axes of the class heatmap."""

    skills: list[tuple[int, str]]
    learners: list[tuple[int, str]]


def course_roster(*, course: Course, learner_ids: list[int]) -> CourseRoster:
    """The course's skills and the given learners' names, in two queries."""
    skills = list(Skill.objects.filter(course=course).order_by("pk").values_list("pk", "name"))
    names = dict(User.objects.filter(pk__in=learner_ids).values_list("pk", "username"))
    return CourseRoster(
        skills=skills, learners=[(user_id, names.get(user_id, "")) for user_id in learner_ids]
    )


def course_learner_ids(*, course: Course) -> QuerySet:
    """Ids of the course's enrolled learners (not dropped), ascending."""
    return (
        Enrollment.objects.filter(course=course)
        .exclude(status=Enrollment.Status.DROPPED)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )


# Reads for the web pages (dashboard, class dashboard) ----------------------------------------


@dataclass(frozen=True)
class ModelVersionRow:
    id: int
    kind: str
    status: str
    auc: float | None
    created_at: datetime
    # What the training really ran on ("cpu", "gpu"), as the training recorded it.
    device: str = ""


def model_version_rows_for_course(*, course_id: int, limit: int = 20) -> list[ModelVersionRow]:
    """The newest model versions serving a course (its own and global ones), oldest first."""
    versions = ModelVersion.objects.filter(Q(course_id=course_id) | Q(course__isnull=True))
    newest = list(versions.order_by("-created_at", "-pk")[:limit])
    return [
        ModelVersionRow(
            id=version.pk,
            kind=version.kind,
            status=version.status,
            auc=version.auc,
            created_at=version.created_at,
            device=version.device,
        )
        for version in reversed(newest)
    ]


# Reads for the online update and the refresh ----------------------------------------------


def exercise_skill_map(*, exercise_ids: set[int] | None = None, course_id: int | None = None):
    """exercise id -> its skill ids, from the M2M table in one query."""
    through = Exercise.skills.through.objects.all()
    if exercise_ids is not None:
        through = through.filter(exercise_id__in=exercise_ids)
    if course_id is not None:
        through = through.filter(exercise__course_id=course_id)
    skills: dict[int, list[int]] = defaultdict(list)
    for exercise_id, skill_id in through.order_by("skill_id").values_list(
        "exercise_id", "skill_id"
    ):
        skills[exercise_id].append(skill_id)
    return skills


@dataclass(frozen=True)
class History:
    """One learner's attempts in a course, oldest first.

    `created_at` holds each attempt's time in seconds since the epoch (UTC): a refresh reads
    millions of attempts and needs only a few of the times as datetimes (`epoch_datetime`).
    """

    user_id: int
    exercise_ids: tuple[int, ...]
    correct: tuple[bool, ...]
    last_attempt_id: int | None
    created_at: tuple[float, ...] = ()


def epoch_datetime(seconds: float) -> datetime:
    """An aware UTC datetime from seconds since the epoch (the inverse of `.timestamp()`)."""
    return datetime.fromtimestamp(seconds, tz=UTC)


def _epoch(value: datetime | str) -> float:
    # SQLite's raw cursor returns the stored UTC text (or a naive datetime); read it exactly
    # rather than through julianday(), whose float loses the microseconds.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def histories_load(*, course_id: int, user_ids: Sequence[int]) -> dict[int, History]:
    """Attempt histories of many learners in one raw query (no model objects, no ORM rows).

    A refresh reads 20+ attempts per learner for thousands of learners per chunk: ORM rows and
    aware datetimes cost more than the planning, so this reads ints and floats off the cursor.
    """
    grouped: dict[int, tuple[list[int], list[bool], list[int], list[float]]] = {
        user_id: ([], [], [], []) for user_id in user_ids
    }
    if not grouped:
        return {}
    ids = list(grouped)
    table = Attempt._meta.db_table
    # Table names come from model metadata; values are parameters. (created_at, id): the order
    # training exports and the online update folds attempts in.
    if connection.vendor == "postgresql":
        # A join with the ids (not `= ANY(array)` as a filter) keeps the (user, created_at)
        # index in use whatever the statistics say; without it a chunk scanned the course.
        query = (
            "SELECT a.user_id, a.id, a.exercise_id, a.is_correct,"  # noqa: S608
            " EXTRACT(EPOCH FROM a.created_at)::float8"
            f" FROM unnest(%s::bigint[]) AS u(id) JOIN {table} a ON a.user_id = u.id"
            " WHERE a.course_id = %s ORDER BY a.user_id, a.created_at, a.id"
        )
        params: list = [ids, course_id]
    else:
        query = (
            "SELECT user_id, id, exercise_id, is_correct, created_at"  # noqa: S608
            f" FROM {table} WHERE course_id = %s AND user_id IN ({', '.join(['%s'] * len(ids))})"
            " ORDER BY user_id, created_at, id"
        )
        params = [course_id, *ids]
    is_postgresql = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        while rows := cursor.fetchmany(20000):
            for user_id, attempt_id, exercise_id, is_correct, created_at in rows:
                exercises, correct, attempt_ids, times = grouped[user_id]
                exercises.append(exercise_id)
                correct.append(bool(is_correct))
                attempt_ids.append(attempt_id)
                times.append(created_at if is_postgresql else _epoch(created_at))
    return {
        user_id: History(user_id, tuple(ex), tuple(co), max(at) if at else None, tuple(times))
        for user_id, (ex, co, at, times) in grouped.items()
    }


def mastery_raw_load(*, course_id: int, user_ids: Sequence[int]) -> dict[int, dict[int, float]]:
    """The model's raw mastery of many learners: user id -> skill id -> P(mastered).

    The one read of stored raw mastery (heatmap, API, admin, display): a learner without a
    stored vector maps to an empty dict.
    """
    raw: dict[int, dict[int, float]] = {user_id: {} for user_id in user_ids}
    for user_id, values, skill_ids in LearnerState.objects.filter(
        course_id=course_id, user_id__in=list(user_ids)
    ).values_list("user_id", "mastery", "mastery_skill_ids"):
        raw[user_id] = mastery_decode(values, skill_ids)
    return raw


def mastery_raw_for_learner(*, user_id: int, course_id: int) -> dict[int, float]:
    """One learner's raw mastery in a course (skill id -> P(mastered)); empty if none stored."""
    return mastery_raw_load(course_id=course_id, user_ids=[user_id])[user_id]


def learners_behind(*, since: datetime, until: datetime, limit: int) -> list[tuple[int, int]]:
    """(user id, course id) of learners whose newest attempt in the window is not in their state.

    Looks course by course at attempts created in [since, until) (the (course, created_at)
    index), so it costs a range scan of recent attempts, not of the whole history.
    """
    states = LearnerState.objects.filter(
        user_id=OuterRef("user_id"), course_id=OuterRef("course_id")
    ).values("last_attempt_id")[:1]
    behind: list[tuple[int, int]] = []
    for course_id in Course.objects.order_by("pk").values_list("pk", flat=True):
        rows = (
            Attempt.objects.filter(course_id=course_id, created_at__gte=since, created_at__lt=until)
            .values("user_id", "course_id")
            .annotate(newest=Max("id"), done=Subquery(states))
            .filter(Q(done__isnull=True) | Q(done__lt=F("newest")))
            .order_by("user_id")
            .values_list("user_id", "course_id")[: limit - len(behind)]
        )
        behind.extend(rows)
        if len(behind) >= limit:
            break
    return behind
