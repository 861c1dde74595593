"""From attempt rows to learner sequences, learner-level splits and padded training windows.

The pipeline is::

    rows (learner, time, skills, correct[, problem])
        -> sequences_build()   one ordered sequence per learner, invalid rows dropped and counted
        -> learners_split() / learners_kfold() / sequences_subset()   split by learner, seeded
        -> chunks_build()      consecutive 200-step chunks of each learner for training by
                               truncated backpropagation through time (state carried across chunks)
        -> windows_build()     independent 200-step windows (the pyKT protocol; "windowed" figures)

Encoding (``ENCODING_VERSION``):

* Skill ids are positions in a skill vocabulary, ``0 .. n_skills - 1``, at the API boundary.
  Inside windows they are stored 1-based (``skill + 1``) so that 0 can mean padding.
* An interaction is ``skill_id + n_skills * correct`` over 1-based skill ids, so it lies in
  ``1 .. 2 * n_skills`` and 0 is padding (``Embedding(mask_zero=True)`` semantics).
* An attempt on an exercise with several skills is ONE step: its skills occupy the last axis of
  the ``interactions`` array (``(windows, steps, max_skills)``), padded with 0, and the model sums
  their embeddings. A multi-skill attempt is never split into several steps, so it is never
  predicted from a copy of itself.
* Problems (exercises) are optional; problem ids are 1-based too (0 = unknown or padding).

Missing values rule: a row is dropped, and counted in :class:`CleaningReport`, when its skill list
is empty or missing (``dropped_without_skill``), its correctness is missing or not 0/1
(``dropped_missing_correct``), or its time is missing (``dropped_missing_time``). Nothing is
imputed. Learners left with fewer than ``min_length`` attempts are dropped afterwards
(``dropped_short_learners`` learners, ``dropped_short_attempts`` attempts).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

ENCODING_VERSION = 1
DEFAULT_WINDOW = 200
DEFAULT_MIN_LENGTH = 3


@dataclass(frozen=True)
class CleaningReport:
    """Counts of what :func:`sequences_build` kept and dropped, by reason."""

    rows_in: int
    dropped_without_skill: int
    dropped_missing_correct: int
    dropped_missing_time: int
    dropped_short_learners: int
    dropped_short_attempts: int
    attempts_kept: int
    learners_kept: int

    def as_dict(self) -> dict[str, int]:
        """Return the counts as a JSON-ready dict."""
        return {name: int(getattr(self, name)) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class SequenceSet:
    """Learner sequences in ragged form: learner ``i`` owns steps ``offsets[i]:offsets[i+1]``.

    ``skills`` is ``(n_steps, max_skills)`` with 0-based skill ids and ``-1`` padding;
    ``problems`` is ``(n_steps,)`` with 1-based problem ids (0 = unknown) or ``None``.
    """

    learner_ids: np.ndarray
    offsets: np.ndarray
    skills: np.ndarray
    correct: np.ndarray
    n_skills: int
    problems: np.ndarray | None = None
    n_problems: int = 0
    report: CleaningReport | None = None

    @property
    def n_learners(self) -> int:
        """Number of learners."""
        return len(self.learner_ids)

    @property
    def n_attempts(self) -> int:
        """Number of attempts (steps) over all learners."""
        return int(self.offsets[-1])

    @property
    def lengths(self) -> np.ndarray:
        """Sequence length of every learner."""
        return np.diff(self.offsets)


@dataclass(frozen=True)
class Windows:
    """Post-padded model inputs and next-step targets, one row per window.

    Position ``t`` of a window holds the attempt ``t`` as input and the attempt ``t + 1`` as the
    target; ``labels`` is ``-1`` where there is no target (last step, padding).
    """

    interactions: np.ndarray  # (n, T, K) int32, 0 = padding
    target_skills: np.ndarray  # (n, T, K) int32, 1-based, 0 = padding
    labels: np.ndarray  # (n, T) float32, -1 = no target
    lengths: np.ndarray  # (n,) int32: attempts in the window
    learner_index: np.ndarray  # (n,) int64: row of SequenceSet.learner_ids
    n_skills: int
    problems: np.ndarray | None = None  # (n, T) int32, problem of step t, 1-based, 0 = unknown
    target_problems: np.ndarray | None = None  # (n, T) int32, 1-based, 0 = unknown
    n_problems: int = 0
    # Set by chunks_build only: the chunk's position within its learner's history (0, 1, ...).
    chunk_index: np.ndarray | None = None

    @property
    def n_windows(self) -> int:
        """Number of windows."""
        return int(self.labels.shape[0])

    @property
    def n_targets(self) -> int:
        """Number of scored next-step predictions."""
        return int((self.labels >= 0).sum())

    def model_inputs(
        self,
        rows: np.ndarray | slice | None = None,
        steps: int | None = None,
        *,
        problems: bool = True,
    ) -> dict[str, np.ndarray]:
        """Return the dict of arrays the Keras model takes, optionally for some rows and steps.

        ``problems=False`` leaves out the problem arrays, for a model trained without them.
        """
        selected = slice(None) if rows is None else rows
        time = slice(None) if steps is None else slice(0, steps)
        inputs = {
            "interactions": self.interactions[selected, time],
            "target_skills": self.target_skills[selected, time],
        }
        if problems and self.problems is not None and self.target_problems is not None:
            inputs["problems"] = self.problems[selected, time]
            inputs["target_problems"] = self.target_problems[selected, time]
        return inputs

    def batch(
        self, rows: np.ndarray, steps: int, *, problems: bool = True
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Model inputs and labels of some rows, ``steps`` long (as :meth:`ChunkPlan.batch`)."""
        return self.model_inputs(rows, steps, problems=problems), self.labels[rows, :steps]

    @property
    def window(self) -> int:
        """Length of a row."""
        return int(self.labels.shape[1])

    def target_rate(self) -> float:
        """Share of right answers among the targets (for class weights)."""
        targets = self.labels[self.labels >= 0]
        return float(targets.mean()) if targets.size else 0.0


def _skill_matrix(skills: Sequence[Any] | np.ndarray, n_skills: int) -> np.ndarray:
    """Turn ragged skill lists (or a padded array) into ``(n, max_skills)`` with -1 padding.

    A signed integer matrix is used as it is (no 64-bit copy), so a 20 M-row export stays small.
    """
    if isinstance(skills, np.ndarray) and skills.ndim == 2:
        matrix = skills if skills.dtype.kind == "i" else skills.astype(np.int64)
        if (matrix < -1).any():
            matrix = np.where(matrix < 0, -1, matrix)
    elif isinstance(skills, np.ndarray) and skills.ndim == 1 and skills.dtype != object:
        matrix = skills.astype(np.int64).reshape(-1, 1)
    else:
        lists = [() if entry is None else tuple(np.atleast_1d(entry)) for entry in skills]
        width = max((len(entry) for entry in lists), default=1) or 1
        matrix = np.full((len(lists), width), -1, dtype=np.int64)
        for row, entry in enumerate(lists):
            # A skill listed twice for one attempt is one skill, not double evidence.
            unique = list(dict.fromkeys(int(value) for value in entry if value is not None))
            matrix[row, : len(unique)] = unique
    if (matrix >= n_skills).any():
        raise ValueError(
            f"skill index out of range: max {int(matrix.max())} >= n_skills {n_skills}"
        )
    return matrix


def _missing(values: np.ndarray) -> np.ndarray:
    """Boolean mask of missing entries (None, NaN, NaT) in any dtype."""
    if values.dtype.kind in "fc":
        return np.isnan(values)
    if values.dtype.kind in "mM":
        return np.isnat(values)
    if values.dtype == object:
        return np.array(
            [v is None or (isinstance(v, float) and math.isnan(v)) for v in values], dtype=bool
        )
    return np.zeros(len(values), dtype=bool)


def _group(
    learners: np.ndarray, times: np.ndarray | None
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Order rows by (learner, time, input position): ``(order or None, learners, counts)``.

    ``None`` means the rows are in that order already (as the training export delivers them):
    then no sort and no 64-bit index array over all rows is needed.
    """
    n = len(learners)
    if n and learners.dtype != object:
        changes = learners[1:] != learners[:-1]
        ordered = bool((learners[1:] >= learners[:-1]).all())
        if ordered and times is not None:
            ordered = bool(((times[1:] >= times[:-1]) | changes).all())
        if ordered:
            starts = np.flatnonzero(np.concatenate([[True], changes]))
            return None, learners[starts], np.diff(np.append(starts, n))
    unique, inverse = np.unique(learners, return_inverse=True)
    keys = (np.arange(n), inverse) if times is None else (np.arange(n), times, inverse)
    return np.lexsort(keys), unique, np.bincount(inverse, minlength=len(unique))


def sequences_build(
    *,
    learners: Sequence[Any] | np.ndarray,
    times: Sequence[Any] | np.ndarray | None,
    skills: Sequence[Any] | np.ndarray,
    correct: Sequence[Any] | np.ndarray,
    n_skills: int,
    problems: Sequence[Any] | np.ndarray | None = None,
    n_problems: int = 0,
    min_length: int = DEFAULT_MIN_LENGTH,
) -> SequenceSet:
    """Group attempt rows into one time-ordered sequence per learner (see the module's rules).

    ``times`` only needs to sort (ints, floats or datetime64); ties keep the input order;
    ``None`` means the rows are in time order within each learner already.
    ``problems`` are 1-based problem ids (0 = unknown), ``n_problems`` their count.
    Typed arrays (an integer ``(n, K)`` skill matrix with -1 padding, integer ``correct``) are
    used without per-row Python objects; rows already grouped by learner are not sorted again.
    """
    learner_array = np.asarray(learners)
    time_array = None if times is None else np.asarray(times)
    correct_array = np.asarray(
        correct, dtype=object if not isinstance(correct, np.ndarray) else None
    )
    rows_in = len(learner_array)
    lengths_match = len(correct_array) == len(skills) == rows_in
    if not lengths_match or (time_array is not None and len(time_array) != rows_in):
        raise ValueError("learners, times, skills and correct must have the same length")
    skill_matrix = _skill_matrix(skills, n_skills) if rows_in else np.full((0, 1), -1)

    without_skill = (skill_matrix < 0).all(axis=1)
    if correct_array.dtype.kind in "biu":
        correct_values: np.ndarray = correct_array
        correct_invalid = (correct_array != 0) & (correct_array != 1)
    else:
        correct_missing = _missing(correct_array)
        correct_values = np.where(correct_missing, -1.0, correct_array).astype(np.float64)
        correct_invalid = correct_missing | ~np.isin(correct_values, (0.0, 1.0))
    time_missing = np.zeros(rows_in, dtype=bool) if time_array is None else _missing(time_array)
    # Each dropped row is counted once, under the first rule it breaks, in the order documented.
    drop_skill = without_skill
    drop_correct = ~drop_skill & correct_invalid
    drop_time = ~drop_skill & ~drop_correct & time_missing
    keep = ~(drop_skill | drop_correct | drop_time)
    all_kept = bool(keep.all())

    kept_learners = learner_array if all_kept else learner_array[keep]
    kept_times = None
    if time_array is not None:
        kept_times = time_array if all_kept else time_array[keep]
        if kept_times.dtype == object:
            kept_times = np.array(list(kept_times))
    order, unique_learners, counts = _group(kept_learners, kept_times)

    long_enough = counts >= min_length
    # The rows taken, as positions in the input: None (all, in input order), a mask, or indices.
    taken: np.ndarray | None
    if order is None:
        if all_kept and long_enough.all():
            taken = None
        else:
            taken = keep.copy()
            taken[keep] = np.repeat(long_enough, counts)
    else:
        order = order[np.repeat(long_enough, counts)]
        taken = order if all_kept else np.flatnonzero(keep)[order]

    def take(values: np.ndarray) -> np.ndarray:
        return values if taken is None else values[taken]

    skill_rows = take(skill_matrix)
    if skill_rows.shape[1] > 1:
        # Skills ascending per row, -1 padding last, a skill listed twice kept once.
        sentinel = np.iinfo(skill_rows.dtype).max
        skill_rows = np.sort(np.where(skill_rows < 0, sentinel, skill_rows), axis=1)
        repeated = np.zeros(skill_rows.shape, dtype=bool)
        repeated[:, 1:] = skill_rows[:, 1:] == skill_rows[:, :-1]
        if repeated.any():
            skill_rows[repeated] = sentinel
            skill_rows = np.sort(skill_rows, axis=1)
        skill_rows = np.where(skill_rows == sentinel, -1, skill_rows)
    # Keep the skill matrix no wider than the widest kept attempt.
    width = max(int((skill_rows >= 0).sum(axis=1).max(initial=1)), 1)
    skill_rows = skill_rows[:, :width]
    kept_counts = counts[long_enough]
    offsets = np.concatenate([[0], np.cumsum(kept_counts)]).astype(np.int64)
    problem_rows = None
    if problems is not None:
        problem_array = np.asarray(problems)
        if problem_array.dtype.kind not in "iu":
            problem_array = problem_array.astype(np.int64)
        problem_rows = take(problem_array)
        if n_problems <= 0 or (problem_rows > n_problems).any() or (problem_rows < 0).any():
            raise ValueError("problems must be 1-based ids in 0..n_problems (0 = unknown)")

    report = CleaningReport(
        rows_in=rows_in,
        dropped_without_skill=int(drop_skill.sum()),
        dropped_missing_correct=int(drop_correct.sum()),
        dropped_missing_time=int(drop_time.sum()),
        dropped_short_learners=int((~long_enough).sum()),
        dropped_short_attempts=int(counts[~long_enough].sum()),
        attempts_kept=int(offsets[-1]),
        learners_kept=int(long_enough.sum()),
    )
    return SequenceSet(
        learner_ids=unique_learners[long_enough],
        offsets=offsets,
        skills=np.ascontiguousarray(skill_rows, dtype=np.int32),
        correct=take(correct_values).astype(np.int8),
        n_skills=n_skills,
        problems=problem_rows.astype(np.int32) if problem_rows is not None else None,
        n_problems=n_problems if problems is not None else 0,
        report=report,
    )


def sequences_subset(
    sequences: SequenceSet, learner_ids: Sequence[Any] | np.ndarray
) -> SequenceSet:
    """Return the sequences of the given learners (ids not present are ignored)."""
    wanted = np.isin(sequences.learner_ids, np.asarray(learner_ids))
    rows = np.flatnonzero(wanted)
    lengths = sequences.lengths[rows]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    # Step numbers of the chosen learners, without a Python array per learner.
    steps = np.repeat(sequences.offsets[rows] - offsets[:-1], lengths) + np.arange(offsets[-1])
    return SequenceSet(
        learner_ids=sequences.learner_ids[rows],
        offsets=offsets,
        skills=sequences.skills[steps],
        correct=sequences.correct[steps],
        n_skills=sequences.n_skills,
        problems=None if sequences.problems is None else sequences.problems[steps],
        n_problems=sequences.n_problems,
        report=None,
    )


def learners_split(
    learner_ids: Sequence[Any] | np.ndarray,
    *,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 42,
) -> list[np.ndarray]:
    """Split distinct learner ids into disjoint groups with the given fractions, seeded.

    The ids are sorted before the seeded permutation, so the split does not depend on row order.
    """
    if not np.isclose(sum(fractions), 1.0) or any(f < 0 for f in fractions):
        raise ValueError("fractions must be non-negative and sum to 1")
    unique = np.unique(np.asarray(learner_ids))
    shuffled = unique[np.random.default_rng(seed).permutation(len(unique))]
    bounds = np.round(np.cumsum(fractions) * len(unique)).astype(int)
    bounds[-1] = len(unique)
    return list(np.split(shuffled, bounds[:-1]))


def learners_hash_split(
    learner_ids: Sequence[Any] | np.ndarray,
    *,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    salt: str = "pathwise",
) -> list[np.ndarray]:
    """Split distinct learner ids by a hash of each id, so a learner keeps its group forever.

    Unlike :func:`learners_split`, adding learners never moves existing ones: a learner held out
    to judge today's model was held out from every earlier model too, which keeps the promotion
    gate's comparison fair (the champion was never trained on the held-out learners).
    """
    if not np.isclose(sum(fractions), 1.0) or any(f < 0 for f in fractions):
        raise ValueError("fractions must be non-negative and sum to 1")
    unique = np.unique(np.asarray(learner_ids))
    position = np.array(
        [
            int.from_bytes(hashlib.sha256(f"{salt}:{learner}".encode()).digest()[:8], "big")
            / 2.0**64
            for learner in unique
        ]
    )
    group = np.searchsorted(np.cumsum(fractions)[:-1], position, side="right")
    return [unique[group == index] for index in range(len(fractions))]


def learners_kfold(learner_ids: Sequence[Any] | np.ndarray, *, k: int = 5, seed: int = 42) -> list:
    """Assign distinct learner ids to ``k`` disjoint folds of near-equal size, seeded."""
    if k < 2:
        raise ValueError("k must be at least 2")
    unique = np.unique(np.asarray(learner_ids))
    shuffled = unique[np.random.default_rng(seed).permutation(len(unique))]
    return [np.sort(part) for part in np.array_split(shuffled, k)]


def encode_interactions(skills: np.ndarray, correct: np.ndarray, n_skills: int) -> np.ndarray:
    """Encode 0-based skills (``-1`` padding) and 0/1 answers as ``skill + 1 + n_skills * correct``.

    ``skills`` is ``(..., K)`` and ``correct`` is ``(...)``; padding stays 0.
    """
    correct_b = np.asarray(correct, dtype=np.int64)[..., None]
    skills = np.asarray(skills, dtype=np.int64)
    return np.where(skills >= 0, skills + 1 + n_skills * correct_b, 0).astype(np.int32)


def windows_build(
    sequences: SequenceSet,
    *,
    window: int = DEFAULT_WINDOW,
    min_length: int = DEFAULT_MIN_LENGTH,
) -> Windows:
    """Cut every sequence into consecutive windows of ``window`` attempts, post-padded with 0.

    This is the standard protocol (pyKT, DKT): the recurrent state restarts at each window, and a
    trailing chunk shorter than ``min_length`` is dropped. The first attempt of each window is
    input only; every later attempt is a target. Serving never restarts the state, so this is
    the regime of published figures, not of the product: see :func:`chunks_build`.
    """
    return _cut(sequences, window=window, min_length=min_length, carry=False)


def window_spans(
    sequences: SequenceSet,
    *,
    window: int = DEFAULT_WINDOW,
    min_length: int = DEFAULT_MIN_LENGTH,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows of :func:`windows_build` as spans of the sequences' flat arrays, without the
    padded arrays: ``(starts, lengths, learner_index)``, int64, one entry per window, same order.
    """
    learner, _number, start, end = _chunk_layout(sequences, window)
    length = np.minimum(window, end - start)
    kept = length >= min_length
    return (
        start[kept].astype(np.int64),
        length[kept].astype(np.int64),
        learner[kept].astype(np.int64),
    )


def chunks_build(sequences: SequenceSet, *, window: int = DEFAULT_WINDOW) -> Windows:
    """Cut every sequence into consecutive chunks whose recurrent state continues the previous one.

    Chunk ``c`` of a learner holds attempts ``c*window .. (c+1)*window - 1`` as inputs and the
    attempt after each as its target, the first attempt of the next chunk included, so every
    attempt but a learner's first is a target exactly once, as when serving replays the whole
    history. ``chunk_index`` says which chunk of its learner a row is; training feeds each chunk
    the state its learner had after the previous one (truncated backpropagation through time).
    A learner's last chunk is dropped only when it holds one attempt and so no target.
    """
    return _cut(sequences, window=window, min_length=1, carry=True)


@dataclass(frozen=True)
class ChunkPlan:
    """The chunks of :func:`chunks_build` as offsets into a :class:`SequenceSet`, padded per batch.

    Holds one start, length and learner end per chunk and the flat arrays of the sequences, so
    its memory is ``O(chunks)`` above the sequences; :meth:`batch` builds the padded arrays of
    the rows asked for only, in the layout of :class:`Windows` (equal to ``chunks_build``'s rows).
    ``chunks_build`` materialises every chunk at full window length instead: about 20 bytes per
    padded cell, which at 20 M attempts in 50-attempt histories is over a GB of mostly padding.
    """

    sequences: SequenceSet
    window: int
    starts: np.ndarray  # (n,) int64: step of the chunk's first attempt in the sequences
    lengths: np.ndarray  # (n,) int32: attempts in the chunk
    ends: np.ndarray  # (n,) int64: end of the chunk's learner (one past its last step)
    learner_index: np.ndarray  # (n,) int64: row of SequenceSet.learner_ids
    chunk_index: np.ndarray  # (n,) int64: the chunk's position within its learner's history

    @property
    def n_windows(self) -> int:
        """Number of chunks."""
        return len(self.starts)

    @property
    def n_skills(self) -> int:
        """Size of the skill vocabulary."""
        return self.sequences.n_skills

    @property
    def n_targets(self) -> int:
        """Number of scored next-step predictions: every attempt but each learner's first."""
        return int(np.minimum(self.lengths, self.ends - self.starts - 1).sum())

    def target_rate(self) -> float:
        """Share of right answers among the targets (for class weights)."""
        first = self.sequences.offsets[:-1][self.sequences.lengths > 0]
        correct = self.sequences.correct
        total = int(correct.sum(dtype=np.int64)) - int(correct[first].sum(dtype=np.int64))
        return total / max(self.n_targets, 1)

    def batch(
        self, rows: np.ndarray, steps: int, *, problems: bool = True
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Model inputs and labels (``-1`` = no target) of the given chunks, ``steps`` long."""
        rows = np.asarray(rows)
        sequences = self.sequences
        position = np.arange(steps)
        length, start, end = self.lengths[rows], self.starts[rows], self.ends[rows]
        valid = position < length[:, None]
        step = np.where(valid, start[:, None] + position, 0)
        has_next = valid & (step + 1 < end[:, None])
        after = np.where(has_next, step + 1, 0)
        skills, correct = sequences.skills, sequences.correct
        interactions = encode_interactions(skills[step], correct[step], sequences.n_skills)
        interactions[~valid] = 0
        target_skills = np.where(has_next[..., None] & (skills[after] >= 0), skills[after] + 1, 0)
        labels = np.where(has_next, correct[after], -1).astype(np.float32)
        inputs = {
            "interactions": interactions,
            "target_skills": target_skills.astype(np.int32),
        }
        if problems and sequences.problems is not None:
            inputs["problems"] = np.where(valid, sequences.problems[step], 0).astype(np.int32)
            inputs["target_problems"] = np.where(has_next, sequences.problems[after], 0).astype(
                np.int32
            )
        return inputs, labels


def chunks_plan(sequences: SequenceSet, *, window: int = DEFAULT_WINDOW) -> ChunkPlan:
    """The chunks of :func:`chunks_build` (same rows, same order), built per batch on demand."""
    learner, number, start, end = _chunk_layout(sequences, window)
    kept = start + 1 < end
    return ChunkPlan(
        sequences=sequences,
        window=window,
        starts=start[kept].astype(np.int64),
        lengths=np.minimum(window, end - start)[kept].astype(np.int32),
        ends=end[kept].astype(np.int64),
        learner_index=learner[kept].astype(np.int64),
        chunk_index=number[kept].astype(np.int64),
    )


def _chunk_layout(
    sequences: SequenceSet, window: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every learner's history cut into consecutive pieces of ``window`` attempts (the last one
    shorter): (learner index, piece number within the learner, flat start, learner's flat end),
    one entry per piece, learners in order. Windows, spans and TBPTT chunks all keep a subset."""
    lengths = sequences.lengths
    n_chunks = -(-lengths // window)
    learner = np.repeat(np.arange(len(lengths)), n_chunks)
    number = np.arange(n_chunks.sum()) - np.repeat(np.cumsum(n_chunks) - n_chunks, n_chunks)
    start = sequences.offsets[learner] + number * window
    return learner, number, start, sequences.offsets[learner + 1]


def _cut(sequences: SequenceSet, *, window: int, min_length: int, carry: bool) -> Windows:
    chunk_learner, chunk_number, chunk_start, learner_end = _chunk_layout(sequences, window)
    chunk_length = np.minimum(window, learner_end - chunk_start)
    # Carried: a chunk has a target unless it is a learner's last one and holds one attempt.
    kept = chunk_start + 1 < learner_end if carry else chunk_length >= min_length
    chunk_learner, chunk_start, chunk_length, chunk_number, learner_end = (
        chunk_learner[kept],
        chunk_start[kept],
        chunk_length[kept],
        chunk_number[kept],
        learner_end[kept],
    )
    n_windows, width = len(chunk_start), sequences.skills.shape[1]
    row = np.repeat(np.arange(n_windows), chunk_length)
    position = np.arange(chunk_length.sum()) - np.repeat(
        np.cumsum(chunk_length) - chunk_length, chunk_length
    )
    step = chunk_start[row] + position

    interactions = np.zeros((n_windows, window, width), dtype=np.int32)
    interactions[row, position] = encode_interactions(
        sequences.skills[step], sequences.correct[step], sequences.n_skills
    )
    target_skills = np.zeros((n_windows, window, width), dtype=np.int32)
    labels = np.full((n_windows, window), -1.0, dtype=np.float32)
    has_next = step + 1 < learner_end[row] if carry else position + 1 < chunk_length[row]
    t_row, t_pos, t_next = row[has_next], position[has_next], step[has_next] + 1
    target_skills[t_row, t_pos] = np.where(
        sequences.skills[t_next] >= 0, sequences.skills[t_next] + 1, 0
    )
    labels[t_row, t_pos] = sequences.correct[t_next]

    problems = target_problems = None
    if sequences.problems is not None:
        problems = np.zeros((n_windows, window), dtype=np.int32)
        problems[row, position] = sequences.problems[step]
        target_problems = np.zeros((n_windows, window), dtype=np.int32)
        target_problems[t_row, t_pos] = sequences.problems[t_next]
    return Windows(
        interactions=interactions,
        target_skills=target_skills,
        labels=labels,
        lengths=chunk_length.astype(np.int32),
        learner_index=chunk_learner.astype(np.int64),
        n_skills=sequences.n_skills,
        problems=problems,
        target_problems=target_problems,
        n_problems=sequences.n_problems,
        chunk_index=chunk_number.astype(np.int64) if carry else None,
    )
