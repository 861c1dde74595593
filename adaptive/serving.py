"""The served model: which version serves a course, its NumPy runtime, the cache, the fallback.

Serving needs no TensorFlow: a GRU version is served from its exported NumPy step weights (one
GRU step per attempt from the stored `LearnerState`), a BKT version from its parameters. A
course without an active model is served by BKT with default parameters (cold start).

An artifact is verified before it is loaded (`_artifact_load`: `adaptive.ml.artifacts` checks
the manifest hash stored on the version, then every file against the manifest). When the active
version's artifact fails, the course is served by the last version of its scope that verifies
(then the global model, then the cold start): online updates and refreshes go on, the failure is
logged once per process, and `serving_status` tells the admin and the class dashboard which
version serves and why.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from django.db.models import Q

from adaptive.ml.artifacts import ArtifactError, artifact_load
from adaptive.ml.bkt import BKTParams, bkt_update
from adaptive.ml.step import (
    StepWeights,
    state_initial,
    state_mastery,
    state_update,
    state_update_batch,
)
from adaptive.models import ModelVersion
from adaptive.selectors import History, model_version_active
from courses.models import Skill

logger = logging.getLogger(__name__)

COLD_START_KIND = "bkt-default"
# A refused artifact is not re-hashed on every update; it is checked again after this long
# (so a repaired file, or a restored backup, serves again without a restart).
REFUSED_RECHECK_SECONDS = 30.0


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


def _artifact_load(version: ModelVersion):
    # What "verified" means lives in adaptive.ml.artifacts: the manifest's sha256 stored on the
    # version (a blank one is refused), then every file against the manifest, before any read.
    return artifact_load(version.artifact_directory, manifest_sha256=version.manifest_sha256 or "")


_cache: dict[object, Runtime] = {}
# version id -> (monotonic time of the refusal, reason)
_refused: dict[int, tuple[float, str]] = {}
_cache_lock = threading.Lock()


def runtime_for_version(version: ModelVersion) -> Runtime:
    """Verify and load (once per process) the NumPy runtime of a trained model version.

    Raises `ArtifactError` when the artifact is missing or fails verification; the refusal is
    remembered for REFUSED_RECHECK_SECONDS so that a broken file is not hashed on every update.
    """
    with _cache_lock:
        cached = _cache.get(version.pk)
        refused = _refused.get(version.pk)
    if cached is not None:
        return cached
    if refused is not None and time.monotonic() - refused[0] < REFUSED_RECHECK_SECONDS:
        raise ArtifactError(refused[1])
    try:
        artifact = _artifact_load(version)
    except ArtifactError as error:
        reason = f"model version {version.pk} artifact refused: {error}"
        with _cache_lock:
            first = version.pk not in _refused
            _refused[version.pk] = (time.monotonic(), reason)
        if first:
            logger.error("%s; serving falls back to the last verified version", reason)
        raise ArtifactError(reason) from error
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
        _refused.pop(version.pk, None)
    return runtime


def _cold_start(course_id: int) -> Runtime:
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


@dataclass(frozen=True)
class ServingStatus:
    """Which model serves a course, and whether it is the one the registry calls active."""

    course_id: int
    served_version_id: int | None  # None: the cold-start BKT
    served_kind: str
    active_version_id: int | None
    fallback: bool
    reason: str
    refused: tuple[str, ...] = ()  # why each skipped version was refused


def _fallback_candidates(active: ModelVersion, course_id: int) -> list[ModelVersion]:
    """Versions to try after a refused active one: its scope's earlier actives, newest first,
    then (for a course's own model) the global active model and its earlier actives."""
    scopes = [Q(course_id=active.course_id) if active.course_id else Q(course__isnull=True)]
    if active.course_id is not None:
        scopes.append(Q(course__isnull=True))
    candidates: list[ModelVersion] = []
    for scope in scopes:
        candidates.extend(
            ModelVersion.objects.filter(scope, activated_at__isnull=False)
            .filter(status__in=[ModelVersion.Status.ACTIVE, ModelVersion.Status.RETIRED])
            .exclude(pk=active.pk)
            .order_by("-status", "-activated_at", "-pk")  # "retired" < "active": active first
        )
    return candidates


def runtime_resolve(*, course_id: int) -> tuple[Runtime, ServingStatus]:
    """The runtime that serves a course now, and the status that explains it.

    Resolve it once per update and pass the runtime on, so that a learner's state, mastery and
    path always come from one version even if a promotion lands in between.
    """
    active = model_version_active(course_id=course_id, include_global=True)
    if active is None:
        return _cold_start(course_id), ServingStatus(
            course_id, None, COLD_START_KIND, None, False, "no trained model is active"
        )
    try:
        runtime = runtime_for_version(active)
    except ArtifactError as error:
        refused = [str(error)]
    else:
        return runtime, ServingStatus(
            course_id, active.pk, active.kind, active.pk, False, "the active version"
        )
    for candidate in _fallback_candidates(active, course_id):
        try:
            runtime = runtime_for_version(candidate)
        except ArtifactError as error:
            refused.append(str(error))
            continue
        return runtime, ServingStatus(
            course_id,
            candidate.pk,
            candidate.kind,
            active.pk,
            True,
            f"{refused[0]}; serving the last verified version {candidate.pk}",
            tuple(refused),
        )
    return _cold_start(course_id), ServingStatus(
        course_id,
        None,
        COLD_START_KIND,
        active.pk,
        True,
        f"{refused[0]}; no earlier version verifies, serving the cold-start BKT",
        tuple(refused),
    )


def runtime_for_course(*, course_id: int) -> Runtime:
    """The runtime that serves a course now (see `runtime_resolve`)."""
    return runtime_resolve(course_id=course_id)[0]


def serving_status(*, course_id: int) -> ServingStatus:
    """Which version serves the course and why: a fallback is shown in the admin and dashboard."""
    return runtime_resolve(course_id=course_id)[1]


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
    # Each exercise coded once (its known skill indices and problem index), then every
    # learner's attempts laid out as (learner, time) arrays, so each time step is one slice.
    codes: dict[int, tuple[list[int], int]] = {}
    coded: list[list[int]] = []
    for history in histories:
        steps = []
        for exercise_id, is_correct in zip(history.exercise_ids, history.correct, strict=True):
            code = codes.get(exercise_id)
            if code is None:
                known = [index[s] for s in skills_by_exercise.get(exercise_id, []) if s in index]
                code = codes[exercise_id] = (known, runtime.problem_index.get(exercise_id, 0))
            if code[0]:
                steps.append(exercise_id if is_correct else -exercise_id - 1)
        coded.append(steps)
    lengths = np.array([len(steps) for steps in coded], dtype=np.int64)
    longest = int(lengths.max(initial=0))
    width = max((len(known) for known, _ in codes.values()), default=1) or 1
    exercise_ids = list(codes)
    row_of = {exercise_id: row for row, exercise_id in enumerate(exercise_ids)}
    skill_table = np.full((len(exercise_ids) + 1, width), -1, dtype=np.int64)
    problem_table = np.zeros(len(exercise_ids) + 1, dtype=np.int64)
    for row, exercise_id in enumerate(exercise_ids):
        known, problem = codes[exercise_id]
        skill_table[row, : len(known)] = known
        problem_table[row] = problem
    exercise_rows = np.full((len(coded), longest), len(exercise_ids), dtype=np.int64)
    correct_grid = np.zeros((len(coded), longest), dtype=np.int64)
    for b, steps in enumerate(coded):
        if steps:
            exercise_rows[b, : len(steps)] = [row_of[e if e >= 0 else -e - 1] for e in steps]
            correct_grid[b, : len(steps)] = [1 if e >= 0 else 0 for e in steps]
    for t in range(longest):
        rows = np.flatnonzero(lengths > t)
        at = exercise_rows[rows, t]
        skills = skill_table[at]
        correct = correct_grid[rows, t]
        problems = problem_table[at]
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
