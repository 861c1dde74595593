"""Knowledge state: which model serves a course, and folding attempts into a learner's state.

Serving needs no TensorFlow: a GRU version is served from its exported NumPy step weights (one
GRU step per attempt from the stored `LearnerState`), a BKT version from its parameters. A
course without an active model is served by BKT with default parameters (cold start).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from django.db.models import Q
from django.utils import timezone

from adaptive.ml.artifacts import artifact_load
from adaptive.ml.bkt import BKTParams, bkt_update
from adaptive.ml.step import (
    StepWeights,
    state_initial,
    state_mastery,
    state_update,
    state_update_batch,
)
from adaptive.models import LearnerState, ModelVersion, SkillMastery
from courses.models import Exercise, Skill
from learners.models import Attempt

COLD_START_KIND = "bkt-default"


@dataclass(frozen=True)
class Runtime:
    """A servable model for one course: the vocabulary and the NumPy pieces to run it.

    Mastery is P(the skill is known). BKT tracks it directly. A GRU predicts P(correct on the
    next attempt), which guesses lift and slips cap; with `emission` (per-skill guess and slip,
    fitted by BKT's EM on the GRU's training data) it is mapped back to P(known) as
    (P(correct) - guess) / (1 - slip - guess), so one threshold means the same for both kinds.
    """

    model_version_id: int | None
    kind: str
    skill_ids: tuple[int, ...]
    step_weights: StepWeights | None = None
    bkt: BKTParams | None = None
    emission: BKTParams | None = None
    problem_index: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.step_weights is None) == (self.bkt is None):
            raise ValueError("a runtime needs exactly one of step_weights or bkt")

    @property
    def bkt_params(self) -> BKTParams:
        if self.bkt is None:
            raise ValueError("this runtime is not a BKT model")
        return self.bkt

    @property
    def knows_guess_and_slip(self) -> bool:
        """Whether mastery is on the P(known) scale (BKT, or a GRU with emission parameters)."""
        return self.bkt is not None or self.emission is not None

    @cached_property
    def skill_index(self) -> dict[int, int]:
        return {skill_id: index for index, skill_id in enumerate(self.skill_ids)}

    def initial_state(self) -> np.ndarray:
        if self.step_weights is not None:
            return state_initial(self.step_weights)[0]
        return self.bkt_params.prior.astype(np.float32)

    def mastery(self, state: np.ndarray) -> np.ndarray:
        """Per-skill mastery in vocabulary order, for one state or a batch of states."""
        if self.step_weights is None:
            return np.asarray(state, dtype=np.float32)
        correct = state_mastery(self.step_weights, state)
        if self.emission is None:
            return correct
        guess, slip = self.emission.guess, self.emission.slip
        known = (correct - guess) / np.maximum(1.0 - slip - guess, 1e-3)
        return np.clip(known, 0.0, 1.0).astype(np.float32)

    def correct_probability(self, mastery: np.ndarray) -> np.ndarray:
        """Per-skill P(correct on the next attempt) from mastery (one learner or a batch)."""
        params = self.bkt if self.bkt is not None else self.emission
        if params is None:
            return np.asarray(mastery, dtype=np.float32)
        known = np.asarray(mastery, dtype=np.float32)
        return known * (1 - params.slip) + (1 - known) * params.guess

    def step(
        self, state: np.ndarray, skill_ids: list[int], is_correct: bool, exercise_id: int
    ) -> np.ndarray:
        """Fold one attempt into the state (skills outside the vocabulary are ignored)."""
        index = self.skill_index
        skills = [index[s] for s in skill_ids if s in index]
        if not skills:
            return state
        if self.step_weights is not None:
            problem = self.problem_index.get(exercise_id, 0)
            return state_update(self.step_weights, state, skills, int(is_correct), problem)[0]
        return bkt_update(self.bkt_params, state, skills, is_correct).astype(np.float32)

    def predicted_success(self, mastery: np.ndarray, skill_ids: list[int]) -> float | None:
        """P(correct) on an exercise with these skills, or None when none is in the vocabulary."""
        index = self.skill_index
        skills = [index[s] for s in skill_ids if s in index]
        if not skills:
            return None
        return float(np.mean(self.correct_probability(mastery)[skills]))


_cache: dict[object, Runtime] = {}
_cache_lock = threading.Lock()


def model_version_active(*, course_id: int) -> ModelVersion | None:
    """The course's own active model, else the active global model, else None."""
    versions = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).filter(
        Q(course_id=course_id) | Q(course__isnull=True)
    )
    return min(versions, key=lambda version: version.course_id is None, default=None)


def runtime_for_version(version: ModelVersion) -> Runtime:
    """Load (once per process) the NumPy runtime of a trained model version, verifying its hash."""
    with _cache_lock:
        cached = _cache.get(version.pk)
    if cached is not None:
        return cached
    artifact = artifact_load(
        version.artifact_directory,
        expected_sha256=version.artifact_sha256 or None,
    )
    problems = artifact.metadata.get("problem_vocabulary") or []
    runtime = Runtime(
        model_version_id=version.pk,
        kind=version.kind,
        skill_ids=tuple(int(s) for s in version.skill_vocabulary),
        step_weights=getattr(artifact, "step_weights", None),
        bkt=getattr(artifact, "bkt", None),
        emission=(
            BKTParams.from_dict(artifact.metadata["emission"])
            if artifact.metadata.get("emission")
            else None
        ),
        # Problem index 0 means "unknown problem"; the vocabulary lists exercise ids from 1 on.
        problem_index={int(p): i + 1 for i, p in enumerate(problems)},
    )
    with _cache_lock:
        _cache[version.pk] = runtime
    return runtime


def runtime_for_course(*, course_id: int) -> Runtime:
    """The runtime that serves a course now (cold-start BKT when no model is active)."""
    version = model_version_active(course_id=course_id)
    if version is not None:
        return runtime_for_version(version)
    skill_ids = tuple(
        Skill.objects.filter(course_id=course_id).order_by("pk").values_list("pk", flat=True)
    )
    key = (COLD_START_KIND, course_id, skill_ids)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is None:
            cached = Runtime(
                model_version_id=None,
                kind=COLD_START_KIND,
                skill_ids=skill_ids,
                bkt=BKTParams.default(len(skill_ids)),
            )
            _cache[key] = cached
    return cached


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


def mastery_by_skill(
    runtime: Runtime, mastery: np.ndarray, course_skill_ids: list[int]
) -> dict[int, float]:
    """skill id -> probability for every skill of the course (unknown skills: the prior)."""
    index = runtime.skill_index
    values = np.clip(np.asarray(mastery, dtype=np.float64), 0.0, 1.0).tolist()
    prior = float(BKTParams.default(1).prior[0])
    return {
        skill_id: values[index[skill_id]] if skill_id in index else prior
        for skill_id in course_skill_ids
    }


@dataclass(frozen=True)
class StateUpdate:
    user_id: int
    course_id: int
    applied_attempts: int
    model_version_id: int | None
    mastery: dict[int, float]
    mastery_vector: np.ndarray


def learner_state_apply(*, user_id: int, course_id: int) -> StateUpdate:
    """Fold every attempt not yet in the learner's state into it, then store mastery.

    Attempts are applied in id order after `last_attempt_id`, so a task delivered twice, or
    tasks arriving out of order, leave the same state. A learner whose state came from another
    model version is replayed once from their history.
    """
    runtime = runtime_for_course(course_id=course_id)
    # Insert-if-missing first so that two workers lock the same row rather than racing to add it.
    LearnerState.objects.bulk_create(
        [LearnerState(user_id=user_id, course_id=course_id, state=b"")], ignore_conflicts=True
    )
    row = LearnerState.objects.select_for_update().get(user_id=user_id, course_id=course_id)
    stored = bytes(row.state)
    expected_size = len(runtime.initial_state())
    fresh = (
        not stored
        or row.model_version_id != runtime.model_version_id
        or len(stored) != expected_size * 4
    )
    state = runtime.initial_state() if fresh else np.frombuffer(stored, dtype=np.float32).copy()
    after = None if fresh else row.last_attempt_id
    pending = Attempt.objects.filter(user_id=user_id, course_id=course_id)
    if after is not None:
        pending = pending.filter(pk__gt=after)
    rows = list(pending.order_by("pk").values_list("pk", "exercise_id", "is_correct"))
    skills = exercise_skill_map(exercise_ids={exercise for _, exercise, _ in rows})
    for _, exercise_id, is_correct in rows:
        state = runtime.step(state, skills.get(exercise_id, []), is_correct, exercise_id)
    mastery = runtime.mastery(state)
    course_skill_ids = list(
        Skill.objects.filter(course_id=course_id).order_by("pk").values_list("pk", flat=True)
    )
    by_skill = mastery_by_skill(runtime, mastery, course_skill_ids)
    if rows or fresh:
        now = timezone.now()
        row.state = np.asarray(state, dtype=np.float32).tobytes()
        row.model_version_id = runtime.model_version_id
        row.last_attempt_id = rows[-1][0] if rows else row.last_attempt_id
        row.attempts_count = (0 if fresh else row.attempts_count) + len(rows)
        row.updated_at = now
        row.save(
            update_fields=[
                "state",
                "model_version",
                "last_attempt_id",
                "attempts_count",
                "updated_at",
            ]
        )
        SkillMastery.objects.bulk_create(
            [
                SkillMastery(
                    user_id=user_id,
                    skill_id=skill_id,
                    course_id=course_id,
                    probability=probability,
                    model_version_id=runtime.model_version_id,
                    updated_at=now,
                )
                for skill_id, probability in by_skill.items()
            ],
            update_conflicts=True,
            unique_fields=["user", "skill"],
            update_fields=["probability", "model_version", "updated_at", "course"],
        )
    return StateUpdate(
        user_id=user_id,
        course_id=course_id,
        applied_attempts=len(rows),
        model_version_id=runtime.model_version_id,
        mastery=by_skill,
        mastery_vector=mastery,
    )


@dataclass(frozen=True)
class History:
    """One learner's attempts in a course, oldest first."""

    user_id: int
    exercise_ids: tuple[int, ...]
    correct: tuple[bool, ...]
    last_attempt_id: int | None


def histories_load(*, course_id: int, user_ids: list[int]) -> dict[int, History]:
    """Attempt histories of many learners in one query, as plain tuples (no model objects)."""
    grouped: dict[int, tuple[list[int], list[bool], list[int]]] = {
        user_id: ([], [], []) for user_id in user_ids
    }
    attempts = (
        Attempt.objects.filter(course_id=course_id, user_id__in=user_ids)
        .order_by("user_id", "pk")
        .values_list("user_id", "pk", "exercise_id", "is_correct")
    )
    for user_id, attempt_id, exercise_id, is_correct in attempts.iterator(chunk_size=20000):
        exercises, correct, ids = grouped[user_id]
        exercises.append(exercise_id)
        correct.append(is_correct)
        ids.append(attempt_id)
    return {
        user_id: History(user_id, tuple(ex), tuple(co), ids[-1] if ids else None)
        for user_id, (ex, co, ids) in grouped.items()
    }


def replay_batch(
    runtime: Runtime, histories: list[History], skills_by_exercise: dict[int, list[int]]
) -> tuple[np.ndarray, np.ndarray]:
    """Final states and mastery of many learners, stepping all of them through time together.

    Equal to applying `Runtime.step` attempt by attempt for each learner (the same NumPy
    arithmetic), but with one matrix operation per time step for the whole batch.
    """
    index = runtime.skill_index
    initial = runtime.initial_state()
    states = np.tile(initial, (len(histories), 1)).astype(np.float32)
    coded: list[list[tuple[list[int], int, int]]] = []
    for history in histories:
        steps = []
        for exercise_id, is_correct in zip(history.exercise_ids, history.correct, strict=True):
            known = [index[s] for s in skills_by_exercise.get(exercise_id, []) if s in index]
            if known:
                steps.append((known, int(is_correct), runtime.problem_index.get(exercise_id, 0)))
        coded.append(steps)
    longest = max((len(steps) for steps in coded), default=0)
    width = max((len(known) for steps in coded for known, _, _ in steps), default=1)
    for t in range(longest):
        rows = np.array([b for b, steps in enumerate(coded) if len(steps) > t], dtype=np.int64)
        skills = np.full((len(rows), width), -1, dtype=np.int64)
        correct = np.zeros(len(rows), dtype=np.int64)
        problems = np.zeros(len(rows), dtype=np.int64)
        for slot, b in enumerate(rows):
            step_skills, is_correct, problem = coded[b][t]
            skills[slot, : len(step_skills)] = step_skills
            correct[slot] = is_correct
            problems[slot] = problem
        if runtime.step_weights is not None:
            states[rows] = state_update_batch(
                runtime.step_weights, states[rows], skills, correct, problems
            )[0]
        else:
            states[rows] = _bkt_update_batch(runtime.bkt_params, states[rows], skills, correct)
    return states, np.atleast_2d(runtime.mastery(states))


def _bkt_update_batch(
    params: BKTParams, mastery: np.ndarray, skills: np.ndarray, correct: np.ndarray
) -> np.ndarray:
    """`bkt_update` for a batch of learners with one attempt each (skills padded with -1)."""
    updated = mastery.astype(np.float64, copy=True)
    rows = np.repeat(np.arange(len(skills)), skills.shape[1])
    flat = skills.ravel()
    keep = flat >= 0
    rows, flat = rows[keep], flat[keep]
    known = updated[rows, flat]
    slip, guess, learn = params.slip[flat], params.guess[flat], params.learn[flat]
    right = correct[rows].astype(bool)
    posterior = np.where(
        right,
        known * (1 - slip) / (known * (1 - slip) + (1 - known) * guess),
        known * slip / (known * slip + (1 - known) * (1 - guess)),
    )
    updated[rows, flat] = posterior + (1 - posterior) * learn
    return updated.astype(np.float32)
