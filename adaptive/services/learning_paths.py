"""Learning paths: the planner's inputs read from the database, and paths and mastery written back.

`learning_path_rebuild` serves one learner after an attempt; `path_refresh` serves every learner
of a course after a promotion, chunk by chunk (keyset pagination), with bulk writes that replace
a chunk's mastery, state and paths in one transaction, so no learner ever sees a path and a
mastery from different model versions.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from adaptive.display import DisplayState, attempts_fold, shown_mastery
from adaptive.display_store import display_graph, display_states_load, display_states_save
from adaptive.models import LearnerState, LearningPath, PathStep, SkillMastery
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
from adaptive.selectors import History, exercise_skill_map, histories_load
from adaptive.serving import Runtime, mastery_by_skill, replay_batch, runtime_for_course
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


class _SuccessRow(Mapping):
    """A read-only exercise id -> predicted success view over one row of a matrix."""

    def __init__(self, columns: dict[int, int], row: np.ndarray) -> None:
        self._columns = columns
        self._row = row

    def __getitem__(self, exercise_id: int) -> float:
        return float(self._row[self._columns[exercise_id]])

    def __iter__(self) -> Iterator[int]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)


def success_matrix(
    runtime: Runtime, mastery: np.ndarray, exercises: Sequence[ExerciseNode]
) -> tuple[dict[int, int], np.ndarray]:
    """Predicted P(correct) of every learner (rows) on every exercise (columns) in one product."""
    index = runtime.skill_index
    incidence = np.zeros((len(exercises), len(runtime.skill_ids)), dtype=np.float32)
    for row, exercise in enumerate(exercises):
        known = [index[s] for s in exercise.skill_ids if s in index]
        if known:
            incidence[row, known] = 1.0 / len(known)
    matrix = runtime.correct_probability(mastery) @ incidence.T
    columns = {
        exercise.id: column for column, exercise in enumerate(exercises) if incidence[column].any()
    }
    return columns, matrix.astype(np.float32)


@dataclass(frozen=True)
class Activity:
    """Per learner: completed lessons, attempted exercises, last practice per skill, and when
    each exercise was last answered right."""

    completed: dict[int, dict[int, datetime]]  # lesson id -> when last completed
    attempted: dict[int, set[int]]
    practised: dict[int, dict[int, datetime]]
    solved_at: dict[int, dict[int, datetime]]


def _activity_load(*, course_id: int, user_ids: Sequence[int], graph: CourseGraph) -> Activity:
    """What the planner needs to know about many learners' activity, in three queries."""
    completed: dict[int, dict[int, datetime]] = defaultdict(dict)
    for user_id, lesson_id, last in (
        LessonEvent.objects.filter(
            user_id__in=user_ids,
            lesson__module__course_id=course_id,
            verb=LessonEvent.Verb.COMPLETED,
            block__isnull=True,
        )
        .values_list("user_id", "lesson_id")
        .annotate(last=Max("created_at"))
        .order_by()
    ):
        completed[user_id][lesson_id] = last
    exercise_skills = {exercise.id: exercise.skill_ids for exercise in graph.exercises}
    attempted: dict[int, set[int]] = defaultdict(set)
    practised: dict[int, dict[int, datetime]] = defaultdict(dict)
    attempts = Attempt.objects.filter(course_id=course_id, user_id__in=user_ids)
    for user_id, exercise_id, last in (
        attempts.values_list("user_id", "exercise_id").annotate(last=Max("created_at")).order_by()
    ):
        attempted[user_id].add(exercise_id)
        for skill_id in exercise_skills.get(exercise_id, ()):
            seen = practised[user_id].get(skill_id)
            if seen is None or last > seen:
                practised[user_id][skill_id] = last
    solved_at: dict[int, dict[int, datetime]] = defaultdict(dict)
    for user_id, exercise_id, last in (
        attempts.filter(is_correct=True)
        .values_list("user_id", "exercise_id")
        .annotate(last=Max("created_at"))
        .order_by()
    ):
        solved_at[user_id][exercise_id] = last
    return Activity(completed, attempted, practised, solved_at)


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
) -> tuple[dict[int, dict[int, float]], dict[int, list[PlannedStep]]]:
    """Raw mastery by skill and planned steps for each learner; `mastery` rows follow `user_ids`.

    The planner plans on the shown mastery: each learner's display state (adaptive.display) is
    brought up to date with the attempts not yet folded into it, and stored.
    """
    now = now or timezone.now()
    config = config or planner_config_for(runtime)
    course_skill_ids = [skill.id for skill in graph.skills]
    activity = _activity_load(course_id=course_id, user_ids=user_ids, graph=graph)
    if histories is None:
        histories = histories_load(course_id=course_id, user_ids=list(user_ids))
    exercise_skills = {exercise.id: exercise.skill_ids for exercise in graph.exercises}
    columns, success = success_matrix(runtime, mastery, graph.exercises)
    shown_graph = display_graph(graph)
    shown_config = config.display
    states = display_states_load(course_id=course_id, user_ids=user_ids)
    changed: dict[int, tuple[DisplayState, int | None]] = {}
    by_skill: dict[int, dict[int, float]] = {}
    plans: dict[int, list[PlannedStep]] = {}
    for row, user_id in enumerate(user_ids):
        raw = mastery_by_skill(runtime, mastery[row], course_skill_ids)
        by_skill[user_id] = raw
        history = histories[user_id]
        state = states.get(user_id)
        if (
            state is None
            or state.folded > len(history.exercise_ids)  # attempts were deleted
            or state.threshold not in (None, config.mastery_threshold)  # another model kind
        ):
            state = DisplayState()
        pending = [
            (exercise_skills.get(exercise_id, ()), is_correct)
            for exercise_id, is_correct in zip(
                history.exercise_ids[state.folded :], history.correct[state.folded :], strict=True
            )
        ]
        state = attempts_fold(state, pending, raw, shown_graph, shown_config)
        if pending or user_id not in states or state.threshold is None:
            state.threshold = config.mastery_threshold
            changed[user_id] = (state, history.last_attempt_id)
        shown = shown_mastery(state, raw, shown_graph, shown_config)
        snapshot = LearnerSnapshot(
            mastery={s: item.value for s, item in shown.items() if item.value is not None},
            caveats={s: item.caveat for s, item in shown.items() if item.caveat},
            predicted_success=_SuccessRow(columns, success[row]),
            completed_lesson_ids=frozenset(activity.completed.get(user_id, ())),
            lesson_read_at=activity.completed.get(user_id, {}),
            attempted_exercise_ids=frozenset(activity.attempted.get(user_id, ())),
            last_practised=activity.practised.get(user_id, {}),
            solved_at=activity.solved_at.get(user_id, {}),
            wrong=_wrong_answers(history, exercise_skills),
        )
        plans[user_id] = plan_build(graph, snapshot, config, now=now)
    if changed:
        display_states_save(course_id=course_id, states=changed, now=now)
    return by_skill, plans


def _wrong_answers(
    history: History, exercise_skills: Mapping[int, tuple[int, ...]]
) -> dict[int, int]:
    """skill id -> the learner's wrong answers on it."""
    wrong: dict[int, int] = {}
    for exercise_id, is_correct in zip(history.exercise_ids, history.correct, strict=True):
        if not is_correct:
            for skill_id in exercise_skills.get(exercise_id, ()):
                wrong[skill_id] = wrong.get(skill_id, 0) + 1
    return wrong


# Bulk writes ------------------------------------------------------------------------------------


def _paths_replace(
    *,
    course_id: int,
    model_version_id: int | None,
    plans: Mapping[int, list[PlannedStep]],
    now: datetime,
) -> int:
    """Replace the learners' paths for the course with fresh rows; returns rows written."""
    user_ids = list(plans)
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
    return len(paths) + steps


def learning_path_rebuild(
    *,
    user_id: int,
    course_id: int,
    runtime: Runtime,
    mastery: np.ndarray,
    config: PlannerConfig | None = None,
) -> list[PlannedStep]:
    """Plan and store one learner's path from their current mastery (vocabulary order)."""
    graph = course_graph_load(course_id=course_id)
    now = timezone.now()
    _, plans = plans_build(
        course_id=course_id,
        user_ids=[user_id],
        runtime=runtime,
        mastery=np.atleast_2d(mastery),
        graph=graph,
        config=config,
        now=now,
    )
    _paths_replace(
        course_id=course_id, model_version_id=runtime.model_version_id, plans=plans, now=now
    )
    return plans[user_id]


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


def path_refresh(
    *,
    course_id: int,
    chunk_size: int = 1000,
    config: PlannerConfig | None = None,
    on_progress: ProgressCallback | None = None,
    enqueue_catch_up: Callable[[int], None] | None = None,
) -> PathRefreshResult:
    """Recompute state, mastery and path of every learner of a course with the model serving it.

    Each chunk is replaced in one transaction. Attempts stored after a chunk's histories were
    read are handed to `enqueue_catch_up(attempt_id)` after commit, so none is lost.
    """
    started = time.perf_counter()
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
    return PathRefreshResult(
        course_id=course_id,
        model_version_id=runtime.model_version_id,
        learners=learners,
        rows=rows,
        seconds=time.perf_counter() - started,
    )


def path_refresh_chunk(
    *,
    course_id: int,
    user_ids: Sequence[int],
    runtime: Runtime,
    graph: CourseGraph,
    config: PlannerConfig | None = None,
    enqueue_catch_up: Callable[[int], None] | None = None,
) -> int:
    """Recompute and replace state, mastery, display and paths of these learners with
    `runtime`'s version, in one transaction; returns the rows written."""
    skills_by_exercise = {exercise.id: list(exercise.skill_ids) for exercise in graph.exercises}
    user_ids = list(user_ids)
    with transaction.atomic():
        histories = histories_load(course_id=course_id, user_ids=user_ids)
        ordered = [histories[user_id] for user_id in user_ids]
        states, mastery = replay_batch(runtime, ordered, skills_by_exercise)
        now = timezone.now()
        by_skill, plans = plans_build(
            course_id=course_id,
            user_ids=user_ids,
            runtime=runtime,
            mastery=mastery,
            graph=graph,
            config=config,
            now=now,
            histories=histories,
        )
        rows = _chunk_replace(
            course_id=course_id,
            runtime=runtime,
            histories=ordered,
            states=states,
            by_skill=by_skill,
            plans=plans,
            now=now,
        )
        if enqueue_catch_up is not None:
            _catch_up_schedule(course_id, ordered, enqueue_catch_up)
    return rows


def _chunk_replace(
    *,
    course_id: int,
    runtime: Runtime,
    histories: list,
    states: np.ndarray,
    by_skill: dict[int, dict[int, float]],
    plans: dict[int, list[PlannedStep]],
    now: datetime,
) -> int:
    user_ids = [history.user_id for history in histories]
    version = runtime.model_version_id
    # One timestamp for the chunk, formatted once for COPY rather than once per row.
    stamp = now.isoformat() if connection.vendor == "postgresql" else now
    LearnerState.objects.filter(course_id=course_id, user_id__in=user_ids)._raw_delete(
        LearnerState.objects.db
    )
    written = rows_insert(
        LearnerState,
        [
            "user",
            "course",
            "model_version",
            "state",
            "last_attempt_id",
            "attempts_count",
            "updated_at",
        ],
        (
            (
                history.user_id,
                course_id,
                version,
                _bytea(states[row]),
                history.last_attempt_id,
                len(history.exercise_ids),
                now,
            )
            for row, history in enumerate(histories)
        ),
    )
    SkillMastery.objects.filter(course_id=course_id, user_id__in=user_ids)._raw_delete(
        SkillMastery.objects.db
    )
    written += rows_insert(
        SkillMastery,
        ["user", "skill", "course", "probability", "model_version", "updated_at"],
        (
            (user_id, skill_id, course_id, probability, version, stamp)
            for user_id, skills in by_skill.items()
            for skill_id, probability in skills.items()
        ),
    )
    written += _paths_replace(course_id=course_id, model_version_id=version, plans=plans, now=now)
    return written


def _bytea(vector: np.ndarray) -> object:
    raw = np.asarray(vector, dtype=np.float32).tobytes()
    # COPY's text format takes bytea as \x-prefixed hex; bulk_create takes bytes.
    return "\\x" + raw.hex() if connection.vendor == "postgresql" else raw


def _catch_up_schedule(course_id: int, histories: list, enqueue: Callable[[int], None]) -> None:
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
