"""Learning paths: the planner's inputs read from the database, and paths and mastery written back.

`learning_path_rebuild` serves one learner after an attempt; `path_refresh` serves every learner
of a course after a promotion, chunk by chunk (keyset pagination), with bulk writes that replace
a chunk's mastery, state and paths in one transaction, so no learner ever sees a path and a
mastery from different model versions.
"""

from __future__ import annotations

import io
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import cast

import numpy as np
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from adaptive.display import DisplayState, attempts_fold, shown_for_planning
from adaptive.display_store import display_graph, display_states_load, display_states_save
from adaptive.ml.bkt import BKTParams
from adaptive.models import (
    MASTERY_DTYPE,
    MASTERY_SKILL_DTYPE,
    LearnerState,
    LearningPath,
    MasteryDisplay,
    PathStep,
)
from adaptive.planning import (
    CourseGraph,
    ExerciseNode,
    LearnerSnapshot,
    LessonNode,
    PlannedStep,
    PlannerConfig,
    SkillNode,
    plan_build,
)
from adaptive.selectors import History, epoch_datetime, exercise_skill_map, histories_load
from adaptive.services.class_summary import class_summary_schedule
from adaptive.serving import Runtime, replay_batch, runtime_for_course
from courses.models import Exercise, Lesson, Skill, SkillPrerequisite
from learners.bulk import rows_insert
from learners.models import Attempt, Enrollment, LessonEvent

ProgressCallback = Callable[[int, int], None]


def planner_config_for(runtime: Runtime) -> PlannerConfig:
    """The planner's settings for the model kind serving a course (see the settings' comment)."""
    threshold = (
        settings.PATHWISE_MASTERY_THRESHOLD
        if runtime.knows_guess_and_slip
        else settings.PATHWISE_GRU_MASTERY_THRESHOLD
    )
    return PlannerConfig(mastery_threshold=threshold, max_steps=settings.PATHWISE_PATH_MAX_STEPS)


def course_graph_load(*, course_id: int) -> CourseGraph:
    """Skills with prerequisites, lessons and exercises of a course, in syllabus order."""
    prerequisites: dict[int, list[int]] = defaultdict(list)
    for skill_id, requires_id in SkillPrerequisite.objects.filter(
        skill__course_id=course_id
    ).values_list("skill_id", "requires_id"):
        prerequisites[skill_id].append(requires_id)
    skills = tuple(
        SkillNode(pk, name, tuple(sorted(prerequisites.get(pk, ()))))
        for pk, name in Skill.objects.filter(course_id=course_id)
        .order_by("pk")
        .values_list("pk", "name")
    )
    lesson_skills: dict[int, list[int]] = defaultdict(list)
    for lesson_id, skill_id in Lesson.skills.through.objects.filter(
        lesson__module__course_id=course_id
    ).values_list("lesson_id", "skill_id"):
        lesson_skills[lesson_id].append(skill_id)
    lessons = tuple(
        LessonNode(pk, title, tuple(sorted(lesson_skills.get(pk, ()))), order)
        for order, (pk, title) in enumerate(
            Lesson.objects.filter(module__course_id=course_id)
            .order_by("module__position", "position")
            .values_list("pk", "title")
        )
    )
    exercise_skills = exercise_skill_map(course_id=course_id)
    exercises = tuple(
        ExerciseNode(pk, title or f"Exercise {pk}", tuple(exercise_skills.get(pk, ())))
        for pk, title in Exercise.objects.filter(course_id=course_id)
        .order_by("pk")
        .values_list("pk", "title")
    )
    return CourseGraph(skills=skills, lessons=lessons, exercises=exercises)


class _RowView(Mapping):
    """A read-only id -> value view over one row of a matrix (exercise -> predicted success,
    skill -> raw mastery), so a learner's row is never copied into a dict."""

    def __init__(self, columns: Mapping[int, int], row: np.ndarray) -> None:
        self._columns = columns
        self._row = row

    def __getitem__(self, key: int) -> float:
        return float(self._row[self._columns[key]])

    def __iter__(self) -> Iterator[int]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)


def success_matrix(
    runtime: Runtime, mastery: np.ndarray, exercises: Sequence[ExerciseNode]
) -> tuple[dict[int, int], np.ndarray]:
    """Predicted P(correct) of every learner (rows) on every exercise (columns): the mean over
    the exercise's skills the model knows of P(correct on that skill)."""
    index = runtime.skill_index
    known = [[index[s] for s in exercise.skill_ids if s in index] for exercise in exercises]
    width = max((len(skills) for skills in known), default=0) or 1
    # A gather of each exercise's skills rather than a product with a skills x exercises
    # matrix that is nearly all zeros (1,223 skills x 2,446 exercises on an imported course).
    columns_of = np.zeros((len(exercises), width), dtype=np.int64)
    weights = np.zeros((len(exercises), width), dtype=np.float32)
    for row, skills in enumerate(known):
        if skills:
            columns_of[row, : len(skills)] = skills
            weights[row, : len(skills)] = 1.0 / len(skills)
    correct = np.atleast_2d(np.asarray(runtime.correct_probability(mastery), dtype=np.float32))
    if not any(known):
        # No exercise practises a skill the model knows (a course without skills yet): nothing
        # to predict, and the gather below would index an empty skill axis.
        return {}, np.zeros((correct.shape[0], len(exercises)), dtype=np.float32)
    matrix = (correct[:, columns_of] * weights).sum(axis=2, dtype=np.float32)
    columns = {exercise.id: column for column, exercise in enumerate(exercises) if known[column]}
    return columns, matrix


def mastery_for_skills(
    runtime: Runtime, mastery: np.ndarray, skill_ids: Sequence[int]
) -> np.ndarray:
    """Raw mastery of learners (rows) on the given skills (columns), clipped to [0, 1].

    `mastery` is in the runtime's vocabulary order (one learner or a batch); a skill the model
    does not know gets the cold-start prior.
    """
    values = np.clip(np.atleast_2d(np.asarray(mastery, dtype=np.float64)), 0.0, 1.0)
    index = runtime.skill_index
    positions = np.array([index.get(skill_id, -1) for skill_id in skill_ids], dtype=np.int64)
    out = np.full((values.shape[0], len(skill_ids)), float(BKTParams.default(1).prior[0]))
    known = positions >= 0
    out[:, known] = values[:, positions[known]]
    return out


def _lessons_completed(
    *, course_id: int, user_ids: Sequence[int]
) -> dict[int, dict[int, datetime]]:
    """user id -> lesson id -> when the learner last completed it, in one query."""
    completed: dict[int, dict[int, datetime]] = defaultdict(dict)
    for user_id, lesson_id, last in (
        LessonEvent.objects.filter(
            user_id__in=list(user_ids),
            lesson__module__course_id=course_id,
            verb=LessonEvent.Verb.COMPLETED,
            block__isnull=True,
        )
        .values_list("user_id", "lesson_id")
        .annotate(last=Max("created_at"))
        .order_by()
    ):
        completed[user_id][lesson_id] = last
    return completed


def _activity_of(
    history: History, exercise_skills: Mapping[int, tuple[int, ...]]
) -> tuple[dict[int, datetime], dict[int, datetime], dict[int, int]]:
    """(last practice per skill, last right answer per exercise, wrong answers per skill).

    From the history itself, oldest first, so the last assignment is the latest time; only
    those latest times become datetimes.
    """
    practised: dict[int, float] = {}
    solved_at: dict[int, float] = {}
    wrong: dict[int, int] = {}
    for exercise_id, is_correct, when in zip(
        history.exercise_ids, history.correct, history.created_at, strict=True
    ):
        skills = exercise_skills.get(exercise_id, ())
        for skill_id in skills:
            practised[skill_id] = when
        if is_correct:
            solved_at[exercise_id] = when
        else:
            for skill_id in skills:
                wrong[skill_id] = wrong.get(skill_id, 0) + 1
    return (
        {skill_id: epoch_datetime(when) for skill_id, when in practised.items()},
        {exercise_id: epoch_datetime(when) for exercise_id, when in solved_at.items()},
        wrong,
    )


@dataclass(frozen=True)
class ChunkPlans:
    """What planning many learners produced: raw mastery, paths, and display states to store."""

    skill_ids: list[int]  # the columns of `raw`: the course's skills, by id
    raw: np.ndarray  # learners (rows, in the order planned) x skills, clipped to [0, 1]
    plans: dict[int, list[PlannedStep]]
    # user id -> (display state, newest attempt folded into it), only where it changed
    displays: dict[int, tuple[DisplayState, int | None]]


def plans_build(
    *,
    course_id: int,
    user_ids: Sequence[int],
    runtime: Runtime,
    mastery: np.ndarray,
    graph: CourseGraph,
    config: PlannerConfig | None = None,
    now: datetime | None = None,
    histories: Mapping[int, History] | None = None,
) -> ChunkPlans:
    """Raw mastery and planned steps for each learner; `mastery` rows follow `user_ids`.

    The planner plans on the shown mastery: each learner's display state (adaptive.display) is
    brought up to date with the attempts not yet folded into it; the caller stores the changed
    ones (`ChunkPlans.displays`) in the transaction that stores the paths.
    """
    now = now or timezone.now()
    config = config or planner_config_for(runtime)
    skill_ids = [skill.id for skill in graph.skills]
    columns_by_skill = {skill_id: column for column, skill_id in enumerate(skill_ids)}
    raw = mastery_for_skills(runtime, mastery, skill_ids)
    completed = _lessons_completed(course_id=course_id, user_ids=user_ids)
    if histories is None:
        histories = histories_load(course_id=course_id, user_ids=list(user_ids))
    exercise_skills = {exercise.id: exercise.skill_ids for exercise in graph.exercises}
    columns, success = success_matrix(runtime, mastery, graph.exercises)
    shown_graph = display_graph(graph)
    shown_config = config.display
    states = display_states_load(course_id=course_id, user_ids=user_ids)
    changed: dict[int, tuple[DisplayState, int | None]] = {}
    plans: dict[int, list[PlannedStep]] = {}
    no_lessons: dict[int, datetime] = {}
    for row, user_id in enumerate(user_ids):
        history = histories[user_id]
        state = states.get(user_id)
        if (
            state is None
            or state.folded > len(history.exercise_ids)  # attempts were deleted
            or state.threshold not in (None, config.mastery_threshold)  # another model kind
        ):
            state = DisplayState()
        if state.folded < len(history.exercise_ids):
            pending = [
                (exercise_skills.get(exercise_id, ()), is_correct)
                for exercise_id, is_correct in zip(
                    history.exercise_ids[state.folded :],
                    history.correct[state.folded :],
                    strict=True,
                )
            ]
            state = attempts_fold(
                state, pending, _RowView(columns_by_skill, raw[row]), shown_graph, shown_config
            )
            changed[user_id] = (state, history.last_attempt_id)
        if user_id not in states or state.threshold is None:
            changed[user_id] = (state, history.last_attempt_id)
        state.threshold = config.mastery_threshold
        values, caveats = shown_for_planning(state, shown_graph, shown_config)
        practised, solved_at, wrong = _activity_of(history, exercise_skills)
        lessons = completed.get(user_id, no_lessons)
        snapshot = LearnerSnapshot(
            mastery=values,
            caveats=caveats,
            predicted_success=_RowView(columns, success[row]),
            completed_lesson_ids=frozenset(lessons),
            lesson_read_at=lessons,
            attempted_exercise_ids=frozenset(history.exercise_ids),
            last_practised=practised,
            solved_at=solved_at,
            wrong=wrong,
        )
        plans[user_id] = plan_build(graph, snapshot, config, now=now)
    return ChunkPlans(skill_ids=skill_ids, raw=raw, plans=plans, displays=changed)


# Bulk writes ------------------------------------------------------------------------------------


def _paths_replace(
    *,
    course_id: int,
    model_version_id: int | None,
    plans: Mapping[int, list[PlannedStep]],
    now: datetime,
) -> int:
    """Replace the learners' paths for the course (their version, date and steps); returns rows
    written."""
    user_ids = list(plans)
    if connection.vendor == "postgresql":
        path_ids = _paths_upsert(
            course_id=course_id, model_version_id=model_version_id, user_ids=user_ids, now=now
        )
    else:
        # Steps first and by a plain DELETE: Django's cascade would load every path into memory.
        PathStep.objects.filter(path__course_id=course_id, path__user_id__in=user_ids)._raw_delete(
            PathStep.objects.db
        )
        LearningPath.objects.filter(course_id=course_id, user_id__in=user_ids)._raw_delete(
            LearningPath.objects.db
        )
        paths = LearningPath.objects.bulk_create(
            [
                LearningPath(
                    user_id=user_id,
                    course_id=course_id,
                    model_version_id=model_version_id,
                    generated_at=now,
                )
                for user_id in user_ids
            ]
        )
        path_ids = {path.user_id: path.pk for path in paths}
    if connection.vendor == "postgresql":
        # COPY text lines written directly: the generic row writer's per-value calls cost more
        # than the planning of a step. json.dumps escapes control characters (ensure_ascii), so
        # only COPY's backslash needs doubling.
        lines = [
            f"{path_ids[user_id]}\t{step.position}\t{step.kind}\t{step.skill_id}\t"
            f"{_copy_id(step.lesson_id)}\t{_copy_id(step.exercise_id)}\t"
            + json.dumps(step.reason, separators=(",", ":")).replace("\\", "\\\\")
            + "\n"
            for user_id, planned in plans.items()
            for step in planned
        ]
        steps = _copy_lines(
            PathStep, ["path", "position", "kind", "skill", "lesson", "exercise", "reason"], lines
        )
    else:
        steps = rows_insert(
            PathStep,
            ["path", "position", "kind", "skill", "lesson", "exercise", "reason"],
            (
                (
                    path_ids[user_id],
                    step.position,
                    step.kind,
                    step.skill_id,
                    step.lesson_id,
                    step.exercise_id,
                    step.reason,
                )
                for user_id, planned in plans.items()
                for step in planned
            ),
        )
    return len(path_ids) + steps


def _copy_id(value: int | None) -> str:
    return "\\N" if value is None else str(value)


def _copy_lines(model: type[models.Model], fields: Sequence[str], lines: list[str]) -> int:
    """PostgreSQL: COPY pre-formatted text lines into the model's table; returns the count."""
    if not lines:
        return 0
    columns = [str(cast(models.Field, model._meta.get_field(name)).column) for name in fields]
    with connection.cursor() as cursor:
        # Table and column names come from model metadata, never from input.
        cursor.copy_expert(
            f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN",
            io.StringIO("".join(lines)),
        )
    return len(lines)


def _paths_upsert(
    *, course_id: int, model_version_id: int | None, user_ids: list[int], now: datetime
) -> dict[int, int]:
    """PostgreSQL: keep each learner's path row (new version and date), drop its steps.

    An upsert and a join-delete instead of deleting and re-inserting the paths: no foreign-key
    checks at commit for rows that keep their keys, two statements per chunk.
    """
    path_table, step_table = LearningPath._meta.db_table, PathStep._meta.db_table
    # Table names come from model metadata; every value is a parameter.
    upsert = (
        f"INSERT INTO {path_table} (user_id, course_id, model_version_id, generated_at)"  # noqa: S608
        " SELECT u, %s, %s, %s FROM unnest(%s::bigint[]) AS t(u)"
        " ON CONFLICT (user_id, course_id) DO UPDATE SET"
        " model_version_id = EXCLUDED.model_version_id, generated_at = EXCLUDED.generated_at"
        " RETURNING user_id, id"
    )
    with connection.cursor() as cursor:
        cursor.execute(upsert, [course_id, model_version_id, now, user_ids])
        path_ids = dict(cursor.fetchall())
        # `= ANY` on the leading column of the only index that has it: a join with the ids was
        # planned as a merge join walking the index from its start when statistics were stale.
        cursor.execute(
            f"DELETE FROM {step_table} WHERE path_id = ANY(%s::bigint[])",  # noqa: S608
            [list(path_ids.values())],
        )
    return path_ids


def learning_path_rebuild(
    *,
    user_id: int,
    course_id: int,
    runtime: Runtime,
    mastery: np.ndarray,
    config: PlannerConfig | None = None,
) -> list[PlannedStep]:
    """Plan and store one learner's path and shown mastery from their current mastery
    (vocabulary order); the caller's transaction holds it with the state it came from."""
    graph = course_graph_load(course_id=course_id)
    now = timezone.now()
    planned = plans_build(
        course_id=course_id,
        user_ids=[user_id],
        runtime=runtime,
        mastery=np.atleast_2d(mastery),
        graph=graph,
        config=config,
        now=now,
    )
    if planned.displays:
        display_states_save(course_id=course_id, states=planned.displays, now=now)
    _paths_replace(
        course_id=course_id,
        model_version_id=runtime.model_version_id,
        plans=planned.plans,
        now=now,
    )
    return planned.plans[user_id]


@dataclass(frozen=True)
class PathRefreshResult:
    course_id: int
    model_version_id: int | None
    learners: int
    rows: int
    seconds: float

    @property
    def learners_per_second(self) -> float:
        return self.learners / self.seconds if self.seconds else 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def _learner_chunks(course_id: int, chunk_size: int) -> Iterator[list[int]]:
    """Enrolled learner ids in ascending chunks, by keyset pagination (no OFFSET)."""
    last = 0
    while True:
        chunk = list(
            Enrollment.objects.filter(course_id=course_id, user_id__gt=last)
            .exclude(status=Enrollment.Status.DROPPED)
            .order_by("user_id")
            .values_list("user_id", flat=True)[:chunk_size]
        )
        if not chunk:
            return
        yield chunk
        last = chunk[-1]


def path_refresh_chunk(
    *,
    course_id: int,
    user_ids: Sequence[int],
    runtime: Runtime,
    graph: CourseGraph,
    config: PlannerConfig | None = None,
    enqueue_catch_up: Callable[[int], None] | None = None,
) -> int:
    """Recompute and replace state, mastery, shown mastery and path of some learners of a course.

    One transaction, one model version (`runtime`'s): reads, planning and writes of the chunk
    happen inside it, so no learner is ever stored with a path and a mastery of different
    versions. Attempts stored after the histories were read are handed to
    `enqueue_catch_up(attempt_id)` after commit. Returns the rows written.
    """
    return _chunk_refresh(
        course_id=course_id,
        user_ids=user_ids,
        runtime=runtime,
        graph=graph,
        config=config,
        enqueue_catch_up=enqueue_catch_up,
    )


HistoriesRead = Callable[..., Mapping[int, History]]
ExtraWrite = Callable[..., int]


@transaction.atomic
def _chunk_refresh(
    *,
    course_id: int,
    user_ids: Sequence[int],
    runtime: Runtime,
    graph: CourseGraph,
    config: PlannerConfig | None = None,
    enqueue_catch_up: Callable[[int], None] | None = None,
    histories_read: HistoriesRead | None = None,
    extra_write: ExtraWrite | None = None,
) -> int:
    # `histories_read` / `extra_write`: hooks for bench/path_refresh.py's measurement of the
    # previous design (ORM histories, a row per skill) on the same code path; None in the app.
    user_ids = list(user_ids)
    if not user_ids:
        return 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # A whole-course refresh rewrites these tables faster than statistics follow them,
            # and over-estimated join costs made PostgreSQL JIT-compile each statement (about
            # 250 ms a statement, more than the statement itself). Only this transaction.
            cursor.execute("SET LOCAL jit = off")
            # The commit does not wait for its WAL to reach the disk (at 1,223 skills that wait
            # was a third of a chunk). Nothing can be half-written: a crash of the database
            # server can only lose the last fraction of a second of whole chunks, and what marks
            # a fanned-out chunk done is in this same transaction, so the reaper sends it again;
            # `refresh_paths` in one process fails with the server and is run again.
            cursor.execute("SET LOCAL synchronous_commit = off")
    histories = (histories_read or histories_load)(course_id=course_id, user_ids=user_ids)
    ordered = [histories[user_id] for user_id in user_ids]
    skills_by_exercise = {exercise.id: list(exercise.skill_ids) for exercise in graph.exercises}
    states, mastery = replay_batch(runtime, ordered, skills_by_exercise)
    now = timezone.now()
    planned = plans_build(
        course_id=course_id,
        user_ids=user_ids,
        runtime=runtime,
        mastery=mastery,
        graph=graph,
        config=config,
        now=now,
        histories=histories,
    )
    rows = _chunk_write(
        course_id=course_id,
        runtime=runtime,
        histories=ordered,
        states=states,
        planned=planned,
        now=now,
    )
    if extra_write is not None:
        rows += extra_write(course_id=course_id, runtime=runtime, planned=planned, now=now)
    if enqueue_catch_up is not None:
        _catch_up_schedule(course_id, ordered, enqueue_catch_up)
    return rows


def refresh_tables_analyze() -> None:
    """PostgreSQL: fresh statistics on the tables a refresh rewrites, before it starts.

    Autovacuum keeps them on a default server; where it is off or behind (a first refresh after
    an import writes a course's rows faster than it follows), a plan cached while a table was
    nearly empty stays cached: the foreign-key check of each new path step against its path was
    planned as a scan of every path and ran for every step (100,000 learners: 310,000 scans
    of up to 100,000 rows). ANALYZE samples a bounded number of rows, and new statistics
    invalidate such plans in every session. A role that does not own the tables only gets a
    warning from PostgreSQL, never an error.
    """
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(
        model._meta.db_table for model in (LearnerState, LearningPath, PathStep, MasteryDisplay)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")  # table names from model metadata


def path_refresh(
    *,
    course_id: int,
    chunk_size: int = 1000,
    config: PlannerConfig | None = None,
    on_progress: ProgressCallback | None = None,
    enqueue_catch_up: Callable[[int], None] | None = None,
) -> PathRefreshResult:
    """Recompute state, mastery and path of every learner of a course with the model serving it.

    Chunk by chunk (`path_refresh_chunk`, one transaction each). Attempts stored after a
    chunk's histories were read are handed to `enqueue_catch_up(attempt_id)` after commit, so
    none is lost.
    """
    started = time.perf_counter()
    refresh_tables_analyze()
    runtime = runtime_for_course(course_id=course_id)
    graph = course_graph_load(course_id=course_id)
    total = (
        Enrollment.objects.filter(course_id=course_id)
        .exclude(status=Enrollment.Status.DROPPED)
        .count()
    )
    learners = rows = 0
    for user_ids in _learner_chunks(course_id, chunk_size):
        rows += path_refresh_chunk(
            course_id=course_id,
            user_ids=user_ids,
            runtime=runtime,
            graph=graph,
            config=config,
            enqueue_catch_up=enqueue_catch_up,
        )
        learners += len(user_ids)
        if on_progress is not None:
            on_progress(learners, total)
    # The refresh may have folded pending answers into what learners are shown: the class
    # dashboard's figures follow (a fanned-out refresh does the same when its last chunk ends).
    class_summary_schedule(course_id=course_id, countdown=0)
    return PathRefreshResult(
        course_id=course_id,
        model_version_id=runtime.model_version_id,
        learners=learners,
        rows=rows,
        seconds=time.perf_counter() - started,
    )


def _chunk_write(
    *,
    course_id: int,
    runtime: Runtime,
    histories: Sequence[History],
    states: np.ndarray,
    planned: ChunkPlans,
    now: datetime,
) -> int:
    """Replace the chunk's learner states (with their raw mastery), shown mastery and paths."""
    user_ids = [history.user_id for history in histories]
    version = runtime.model_version_id
    mastery = np.ascontiguousarray(planned.raw, dtype=MASTERY_DTYPE)
    states = np.ascontiguousarray(states, dtype=MASTERY_DTYPE)
    skill_ids = np.asarray(planned.skill_ids, dtype=MASTERY_SKILL_DTYPE)
    if connection.vendor == "postgresql":
        written = _states_upsert(
            course_id=course_id,
            model_version_id=version,
            histories=histories,
            states=states,
            mastery=mastery,
            skill_ids=skill_ids,
            now=now,
        )
    else:
        LearnerState.objects.filter(course_id=course_id, user_id__in=user_ids)._raw_delete(
            LearnerState.objects.db
        )
        skill_bytes = skill_ids.tobytes()
        written = rows_insert(
            LearnerState,
            [
                "user",
                "course",
                "model_version",
                "state",
                "mastery",
                "mastery_skill_ids",
                "last_attempt_id",
                "attempts_count",
                "updated_at",
            ],
            (
                (
                    history.user_id,
                    course_id,
                    version,
                    states[row].tobytes(),
                    mastery[row].tobytes(),
                    skill_bytes,
                    history.last_attempt_id,
                    len(history.exercise_ids),
                    now,
                )
                for row, history in enumerate(histories)
            ),
        )
    if planned.displays:
        display_states_save(course_id=course_id, states=planned.displays, now=now)
        written += len(planned.displays)
    written += _paths_replace(
        course_id=course_id, model_version_id=version, plans=planned.plans, now=now
    )
    return written


def _states_upsert(
    *,
    course_id: int,
    model_version_id: int | None,
    histories: Sequence[History],
    states: np.ndarray,
    mastery: np.ndarray,
    skill_ids: np.ndarray,
    now: datetime,
) -> int:
    """PostgreSQL: insert or replace the learners' states in one statement; returns the count.

    An upsert rather than a delete and a COPY: ON CONFLICT finds each row through the
    (user, course) key by definition, where a DELETE's plan follows the statistics, and a
    course's states are rewritten faster than statistics follow (with them stale, the delete
    scanned every state of the course: 0.8 s a chunk at 100,000 learners instead of 11 ms).
    The vectors travel as one bytea per column, cut per learner by the server: no per-learner
    literal to build.
    """
    state_width = states.shape[1] * states.itemsize if states.ndim == 2 else 0
    mastery_width = mastery.shape[1] * mastery.itemsize if mastery.ndim == 2 else 0
    # The table name comes from model metadata; every value is a parameter.
    upsert = (
        f"INSERT INTO {LearnerState._meta.db_table} (user_id, course_id, model_version_id,"  # noqa: S608
        " state, mastery, mastery_skill_ids, last_attempt_id, attempts_count, updated_at)"
        " SELECT u, %(course)s, %(version)s,"
        " substring(%(states)s::bytea FROM (o::integer - 1) * %(state_width)s + 1"
        " FOR %(state_width)s),"
        " substring(%(mastery)s::bytea FROM (o::integer - 1) * %(mastery_width)s + 1"
        " FOR %(mastery_width)s),"
        " %(skills)s::bytea, a, n, %(now)s"
        " FROM unnest(%(users)s::bigint[], %(attempts)s::bigint[], %(counts)s::integer[])"
        " WITH ORDINALITY AS t(u, a, n, o)"
        " ON CONFLICT (user_id, course_id) DO UPDATE SET"
        " model_version_id = EXCLUDED.model_version_id, state = EXCLUDED.state,"
        " mastery = EXCLUDED.mastery, mastery_skill_ids = EXCLUDED.mastery_skill_ids,"
        " last_attempt_id = EXCLUDED.last_attempt_id,"
        " attempts_count = EXCLUDED.attempts_count, updated_at = EXCLUDED.updated_at"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            upsert,
            {
                "course": course_id,
                "version": model_version_id,
                "states": states.tobytes(),
                "state_width": state_width,
                "mastery": mastery.tobytes(),
                "mastery_width": mastery_width,
                "skills": skill_ids.tobytes(),
                "now": now,
                "users": [history.user_id for history in histories],
                "attempts": [history.last_attempt_id for history in histories],
                "counts": [len(history.exercise_ids) for history in histories],
            },
        )
    return len(histories)


def _catch_up_schedule(
    course_id: int, histories: Sequence[History], enqueue: Callable[[int], None]
) -> None:
    included = {history.user_id: history.last_attempt_id or 0 for history in histories}
    newer = (
        Attempt.objects.filter(course_id=course_id, user_id__in=list(included))
        .values("user_id")
        .annotate(last=Max("pk"))
        .values_list("user_id", "last")
    )
    for user_id, last in newer:
        if last > included[user_id]:
            transaction.on_commit(partial(enqueue, last))
