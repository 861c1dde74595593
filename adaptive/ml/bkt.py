"""Bayesian knowledge tracing (Corbett & Anderson 1995), fitted by EM in vectorised NumPy.

Per skill: ``prior`` = P(L0), ``learn`` = P(T), ``guess`` = P(G), ``slip`` = P(S); no forgetting.
Each skill of an attempt is an observation of that skill's chain (a multi-skill attempt updates all
its skills with the same answer), and the prediction for a multi-skill attempt is the mean of its
skills' P(correct), always computed from the state *before* the attempt.

Update after observing an answer ``o`` on skill ``s`` (Bayes, then the learning transition)::

    P(L | o) = P(o | L) P(L) / P(o),  P(o=1 | L) = 1 - slip,  P(o=1 | not L) = guess
    P(L next) = P(L | o) + (1 - P(L | o)) * learn

EM runs the scaled forward-backward algorithm over every (group, skill) chain: a group is a
window (:class:`~adaptive.ml.sequences.Windows`, or :func:`bkt_fit_windows` on the spans of a
``SequenceSet``) or a learner (``SequenceSet``). The E step visits the groups in batches, builds
each batch's chains from the flat per-attempt arrays and keeps only per-skill sums, so memory above
the input is bounded by a batch, not by the number of attempts. This is the baseline and the
cold-start model (``BKTParams.default``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adaptive.ml.sequences import (
    DEFAULT_MIN_LENGTH,
    DEFAULT_WINDOW,
    SequenceSet,
    Windows,
    window_spans,
)

DEFAULT_PRIOR = 0.3
DEFAULT_LEARN = 0.1
DEFAULT_GUESS = 0.2
DEFAULT_SLIP = 0.1
_FLOOR = 1e-4


@dataclass(frozen=True)
class BKTParams:
    """Per-skill BKT parameters, each an array of shape ``(n_skills,)``."""

    prior: np.ndarray
    learn: np.ndarray
    guess: np.ndarray
    slip: np.ndarray

    @property
    def n_skills(self) -> int:
        """Number of skills."""
        return len(self.prior)

    @classmethod
    def default(
        cls,
        n_skills: int,
        *,
        prior: float = DEFAULT_PRIOR,
        learn: float = DEFAULT_LEARN,
        guess: float = DEFAULT_GUESS,
        slip: float = DEFAULT_SLIP,
    ) -> BKTParams:
        """The same textbook parameters for every skill (cold start, EM start point)."""

        def full(value: float) -> np.ndarray:
            return np.full(n_skills, value, dtype=np.float64)

        return cls(prior=full(prior), learn=full(learn), guess=full(guess), slip=full(slip))

    def as_dict(self) -> dict[str, list[float]]:
        """Return the parameters as JSON-ready lists."""
        return {name: [float(v) for v in getattr(self, name)] for name in _FIELDS}

    @classmethod
    def from_dict(cls, values: dict[str, Sequence[float]]) -> BKTParams:
        """Inverse of :meth:`as_dict`."""
        return cls(**{name: np.asarray(values[name], dtype=np.float64) for name in _FIELDS})


_FIELDS = ("prior", "learn", "guess", "slip")


# Memory: every pass (an EM iteration, a prediction) visits the groups in batches of at most
# ``_BATCH_STEPS`` attempts, builds that batch's chains from the flat arrays, sorts them by length
# and runs them in slices of at most ``_SLICE_CELLS`` padded cells; EM keeps per-skill sums only.
# The memory above the input is then O(batch), whatever the number of attempts.
_BATCH_STEPS = 1 << 18
_SLICE_CELLS = 1 << 20


@dataclass(frozen=True)
class _Groups:
    """Groups (windows or learners) as spans of flat per-attempt arrays, in time order."""

    skills: np.ndarray  # (n_steps, K) 0-based, -1 = padding
    correct: np.ndarray  # (n_steps,) 0/1
    starts: np.ndarray  # (G,) int64: first step of each group
    lengths: np.ndarray  # (G,) int64: attempts in each group
    n_skills: int

    @property
    def n_groups(self) -> int:
        return len(self.starts)


def _groups(data: SequenceSet | Windows) -> _Groups:
    if isinstance(data, SequenceSet):
        return _Groups(
            data.skills,
            data.correct,
            data.offsets[:-1].astype(np.int64),
            data.lengths.astype(np.int64),
            data.n_skills,
        )
    lengths = data.lengths.astype(np.int64)
    rows = np.repeat(np.arange(data.n_windows), lengths)
    positions = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    codes = data.interactions[rows, positions].astype(np.int64)
    skills = np.where(codes > 0, (codes - 1) % data.n_skills, -1)
    correct = (codes[:, 0] - 1) // data.n_skills
    return _Groups(skills, correct, np.cumsum(lengths) - lengths, lengths, data.n_skills)


def _window_groups(sequences: SequenceSet, window: int, min_length: int) -> _Groups:
    """The windows of :func:`~adaptive.ml.sequences.windows_build` as spans of the sequences."""
    starts, lengths, _learners = window_spans(sequences, window=window, min_length=min_length)
    return _Groups(sequences.skills, sequences.correct, starts, lengths, sequences.n_skills)


@dataclass(frozen=True)
class _Chains:
    """The (group, skill) chains of one batch of groups, entries sorted by chain then time."""

    skill: np.ndarray  # (C,) int64
    group: np.ndarray  # (C,) int64, global group index
    start: np.ndarray  # (C,) int64: first entry of the chain
    length: np.ndarray  # (C,) int64
    observed: np.ndarray  # (E,) int8: the answer of each entry
    step: np.ndarray  # (E,) int64: global step of each entry


def _batches(groups: _Groups, max_steps: int) -> list[tuple[int, int]]:
    """Consecutive ranges of groups of at most ``max_steps`` attempts (one group at least)."""
    ends = np.cumsum(groups.lengths)
    bounds, first = [], 0
    while first < groups.n_groups:
        done = int(ends[first - 1]) if first else 0
        last = int(np.searchsorted(ends, done + max_steps, side="right"))
        last = max(last, first + 1)
        bounds.append((first, last))
        first = last
    return bounds


def _batch_chains(groups: _Groups, first: int, last: int) -> _Chains:
    lengths = groups.lengths[first:last]
    n_steps = int(lengths.sum())
    local = np.repeat(np.arange(last - first), lengths)
    step = np.arange(n_steps) + np.repeat(
        groups.starts[first:last] - (np.cumsum(lengths) - lengths), lengths
    )
    skills = groups.skills[step]
    step_row, column = np.nonzero(skills >= 0)
    skill = skills[step_row, column].astype(np.int64)
    key = local[step_row] * groups.n_skills + skill
    # A stable sort by chain keeps each chain's entries in time order.
    order = np.argsort(key, kind="stable")
    step_row, key = step_row[order], key[order]
    chain_keys, chain_start, chain_length = np.unique(key, return_index=True, return_counts=True)
    entry_step = step[step_row]
    return _Chains(
        skill=chain_keys % groups.n_skills,
        group=chain_keys // groups.n_skills + first,
        start=chain_start.astype(np.int64),
        length=chain_length.astype(np.int64),
        observed=groups.correct[entry_step].astype(np.int8),
        step=entry_step,
    )


@dataclass(frozen=True)
class _Slice:
    """Chains of similar length padded to one width: observations, mask, entries."""

    rows: np.ndarray  # (R,) chain indices within the batch
    skill: np.ndarray  # (R,)
    observed: np.ndarray  # (R, W) float64
    mask: np.ndarray  # (R, W) bool, a prefix of each row
    entry: np.ndarray  # (R, W) entry index (0 where masked out)


def _slices(chains: _Chains, max_cells: int):
    """Yield the chains, shortest first, in padded slices of at most ``max_cells`` cells."""
    chain_length = chains.length
    order = np.argsort(chain_length, kind="stable")
    total = len(order)
    first = 0
    while first < total:
        # Sorted lengths: the row count that fits the first chain's width bounds the slice's
        # widest chain, and that width gives a row count that fits.
        reach = min(total, first + max(1, max_cells // int(chain_length[order[first]])))
        width = int(chain_length[order[reach - 1]])
        last = min(total, first + max(1, max_cells // width))
        rows = order[first:last]
        width = int(chain_length[rows[-1]])
        position = np.arange(width)
        mask = position < chain_length[rows, None]
        entry = np.where(mask, chains.start[rows, None] + position, 0)
        observed = np.where(mask, chains.observed[entry], 0).astype(np.float64)
        yield _Slice(rows, chains.skill[rows], observed, mask, entry)
        first = last


def _chain_slices(groups: _Groups):
    """Every (group, skill) chain of ``groups``, batch by batch, slice by slice."""
    for first, last in _batches(groups, _BATCH_STEPS):
        chains = _batch_chains(groups, first, last)
        for piece in _slices(chains, _SLICE_CELLS):
            yield chains, piece


def _forward(params: BKTParams, piece: _Slice) -> tuple[np.ndarray, ...]:
    """Filtered P(L_t | o_1..t), P(o_t = 1 | o_1..t-1), the scales c_t and the final P(L next)."""
    prior = params.prior[piece.skill]
    learn = params.learn[piece.skill]
    guess = params.guess[piece.skill]
    slip = params.slip[piece.skill]
    n_chains, width = piece.observed.shape
    filtered = np.zeros((n_chains, width))
    predicted = np.zeros((n_chains, width))
    scale = np.ones((n_chains, width))
    known = prior.copy()
    for t in range(width):
        observed = piece.observed[:, t]
        active = piece.mask[:, t]
        emission_known = np.where(observed == 1, 1 - slip, slip)
        emission_unknown = np.where(observed == 1, guess, 1 - guess)
        predicted[:, t] = known * (1 - slip) + (1 - known) * guess
        joint_known = known * emission_known
        total = joint_known + (1 - known) * emission_unknown
        posterior = joint_known / total
        filtered[:, t] = np.where(active, posterior, known)
        scale[:, t] = np.where(active, total, 1.0)
        known = np.where(active, posterior + (1 - posterior) * learn, known)
    return filtered, predicted, scale, known


@dataclass
class _Statistics:
    """Per-skill sums of the E step over all chains (the M step needs nothing else)."""

    n_skills: int
    chains: np.ndarray = field(init=False)
    first_known: np.ndarray = field(init=False)
    transitions: np.ndarray = field(init=False)
    stay_unknown: np.ndarray = field(init=False)
    unknown_right: np.ndarray = field(init=False)
    unknown: np.ndarray = field(init=False)
    known_wrong: np.ndarray = field(init=False)
    known: np.ndarray = field(init=False)
    log_likelihood: float = 0.0
    n_observations: int = 0

    def __post_init__(self) -> None:
        for name in (
            "chains",
            "first_known",
            "transitions",
            "stay_unknown",
            "unknown_right",
            "unknown",
            "known_wrong",
            "known",
        ):
            setattr(self, name, np.zeros(self.n_skills))

    def add(self, skill: np.ndarray, **row_sums: np.ndarray) -> None:
        for name, values in row_sums.items():
            total = getattr(self, name)
            total += np.bincount(skill, weights=values, minlength=self.n_skills)


def _expect(params: BKTParams, piece: _Slice, statistics: _Statistics) -> None:
    """Forward-backward over one slice; adds its posterior sums to ``statistics``."""
    filtered, _predicted, scale, _known = _forward(params, piece)
    learn = params.learn[piece.skill]
    guess = params.guess[piece.skill]
    slip = params.slip[piece.skill]
    observations, mask = piece.observed, piece.mask
    n_chains, width = observations.shape
    beta_known = np.ones(n_chains)
    beta_unknown = np.ones(n_chains)
    transitions = np.zeros(n_chains)
    stay_unknown = np.zeros(n_chains)
    gamma = filtered[:, width - 1]
    active = mask[:, width - 1]
    known = np.where(active, gamma, 0.0)
    known_wrong = np.where(active, gamma * (1 - observations[:, width - 1]), 0.0)
    unknown = np.where(active, 1 - gamma, 0.0)
    unknown_right = np.where(active, (1 - gamma) * observations[:, width - 1], 0.0)
    for t in range(width - 2, -1, -1):
        following = mask[:, t + 1]
        observed = observations[:, t + 1]
        emission_known = np.where(observed == 1, 1 - slip, slip)
        emission_unknown = np.where(observed == 1, guess, 1 - guess)
        c = scale[:, t + 1]
        new_known = emission_known * beta_known / c
        new_unknown = (
            (1 - learn) * emission_unknown * beta_unknown + learn * emission_known * beta_known
        ) / c
        xi = (1 - filtered[:, t]) * learn * emission_known * beta_known / c
        beta_known = np.where(following, new_known, 1.0)
        beta_unknown = np.where(following, new_unknown, 1.0)
        gamma_known = filtered[:, t] * beta_known
        gamma_unknown = (1 - filtered[:, t]) * beta_unknown
        gamma = gamma_known / (gamma_known + gamma_unknown)
        # Every row is active at t = 0, and active at t whenever active at t + 1 (a prefix).
        both = mask[:, t] & following
        transitions += np.where(both, xi, 0.0)
        stay_unknown += np.where(both, 1 - gamma, 0.0)
        here = mask[:, t]
        answer = observations[:, t]
        known += np.where(here, gamma, 0.0)
        known_wrong += np.where(here, gamma * (1 - answer), 0.0)
        unknown += np.where(here, 1 - gamma, 0.0)
        unknown_right += np.where(here, (1 - gamma) * answer, 0.0)
    statistics.add(
        piece.skill,
        chains=np.ones(n_chains),
        first_known=gamma,
        transitions=transitions,
        stay_unknown=stay_unknown,
        unknown_right=unknown_right,
        unknown=unknown,
        known_wrong=known_wrong,
        known=known,
    )
    statistics.log_likelihood += float(np.log(scale[mask]).sum())
    statistics.n_observations += int(mask.sum())


def _maximise(
    params: BKTParams, statistics: _Statistics, max_guess: float, max_slip: float
) -> BKTParams:
    def ratio(numerator: np.ndarray, denominator: np.ndarray, fallback: np.ndarray) -> np.ndarray:
        return np.where(denominator > 0, numerator / np.maximum(denominator, 1e-12), fallback)

    s = statistics
    return BKTParams(
        prior=np.clip(ratio(s.first_known, s.chains, params.prior), _FLOOR, 1 - _FLOOR),
        learn=np.clip(ratio(s.transitions, s.stay_unknown, params.learn), _FLOOR, 1 - _FLOOR),
        guess=np.clip(ratio(s.unknown_right, s.unknown, params.guess), _FLOOR, max_guess),
        slip=np.clip(ratio(s.known_wrong, s.known, params.slip), _FLOOR, max_slip),
    )


def _fit(
    groups: _Groups,
    *,
    iterations: int,
    tolerance: float,
    initial: BKTParams | None,
    max_guess: float,
    max_slip: float,
) -> BKTParams:
    params = initial or BKTParams.default(groups.n_skills)
    previous = -np.inf
    for _ in range(iterations):
        statistics = _Statistics(groups.n_skills)
        for _chains, piece in _chain_slices(groups):
            _expect(params, piece, statistics)
        params = _maximise(params, statistics, max_guess, max_slip)
        n_observations = max(statistics.n_observations, 1)
        if (statistics.log_likelihood - previous) / n_observations < tolerance:
            break
        previous = statistics.log_likelihood
    return params


def bkt_fit(
    data: SequenceSet | Windows,
    *,
    iterations: int = 50,
    tolerance: float = 1e-4,
    initial: BKTParams | None = None,
    max_guess: float = 0.4,
    max_slip: float = 0.4,
) -> BKTParams:
    """Fit per-skill parameters by expectation-maximisation; stops when the log-likelihood
    improves by less than ``tolerance`` per observation.

    Capping guess and slip below 0.5 keeps the "known" state meaning known (the usual
    identifiability constraint). Skills without data keep their initial values. Each learner of
    a ``SequenceSet`` is one group (no reset); each window of ``Windows`` is one.
    """
    return _fit(
        _groups(data),
        iterations=iterations,
        tolerance=tolerance,
        initial=initial,
        max_guess=max_guess,
        max_slip=max_slip,
    )


def bkt_fit_windows(
    sequences: SequenceSet,
    *,
    window: int = DEFAULT_WINDOW,
    min_length: int = DEFAULT_MIN_LENGTH,
    iterations: int = 50,
    tolerance: float = 1e-4,
    initial: BKTParams | None = None,
    max_guess: float = 0.4,
    max_slip: float = 0.4,
) -> BKTParams:
    """``bkt_fit(windows_build(sequences, window=..., min_length=...))`` without building the
    windows: each window is a span of the sequences' flat arrays, so memory above the sequences
    stays bounded by one batch whatever the number of attempts (what a retrain fits)."""
    return _fit(
        _window_groups(sequences, window, min_length),
        iterations=iterations,
        tolerance=tolerance,
        initial=initial,
        max_guess=max_guess,
        max_slip=max_slip,
    )


def _step_predictions(params: BKTParams, groups: _Groups) -> np.ndarray:
    """P(correct) of every step of the groups' spans from the state before it (mean over its
    skills), indexed by step; steps outside every group get 0."""
    n_steps = len(groups.correct)
    total = np.zeros(n_steps)
    count = np.zeros(n_steps)
    for chains, piece in _chain_slices(groups):
        _filtered, predicted, _scale, _known = _forward(params, piece)
        steps = chains.step[piece.entry[piece.mask]]
        total += np.bincount(steps, weights=predicted[piece.mask], minlength=n_steps)
        count += np.bincount(steps, minlength=n_steps)
    return total / np.maximum(count, 1)


def bkt_predict_sequences(params: BKTParams, sequences: SequenceSet) -> np.ndarray:
    """P(correct) of every attempt of every learner, ``(n_attempts,)``, in sequence order."""
    return _step_predictions(params, _groups(sequences))


def bkt_predict_windows(params: BKTParams, windows: Windows) -> np.ndarray:
    """Predictions shaped like ``windows.labels``: position ``t`` predicts attempt ``t + 1``."""
    groups = _groups(windows)
    predictions = _step_predictions(params, groups)
    lengths = groups.lengths
    rows = np.repeat(np.arange(groups.n_groups), lengths)
    positions = np.arange(lengths.sum()) - np.repeat(groups.starts, lengths)
    aligned = np.zeros(windows.labels.shape, dtype=np.float32)
    later = positions > 0
    aligned[rows[later], positions[later] - 1] = predictions[later]
    return aligned


def bkt_mastery(params: BKTParams, sequences: SequenceSet) -> np.ndarray:
    """P(known) of every skill after each learner's history, ``(n_learners, n_skills)``."""
    mastery = np.tile(params.prior, (sequences.n_learners, 1))
    for chains, piece in _chain_slices(_groups(sequences)):
        _filtered, _predicted, _scale, known = _forward(params, piece)
        mastery[chains.group[piece.rows], piece.skill] = known
    return mastery


def bkt_update(
    params: BKTParams, mastery: np.ndarray, skills: Sequence[int], correct: int | bool
) -> np.ndarray:
    """One attempt's Bayes update and learning transition on a ``(n_skills,)`` P(known) vector."""
    updated = np.array(mastery, dtype=np.float64, copy=True)
    index = np.asarray(list(skills), dtype=np.int64)
    known = updated[index]
    slip, guess, learn = params.slip[index], params.guess[index], params.learn[index]
    if correct:
        posterior = known * (1 - slip) / (known * (1 - slip) + (1 - known) * guess)
    else:
        posterior = known * slip / (known * slip + (1 - known) * (1 - guess))
    updated[index] = posterior + (1 - posterior) * learn
    return updated


def bkt_predict_correct(params: BKTParams, mastery: np.ndarray, skills: Sequence[int]) -> float:
    """P(correct) of an attempt on ``skills`` given P(known): mean over its skills."""
    index = np.asarray(list(skills), dtype=np.int64)
    known = np.asarray(mastery)[index]
    return float(np.mean(known * (1 - params.slip[index]) + (1 - known) * params.guess[index]))


def bkt_simulate(
    params: BKTParams, *, n_learners: int, length: int, seed: int = 0
) -> dict[str, Any]:
    """Simulate learners who each practise one random skill ``length`` times (for tests)."""
    rng = np.random.default_rng(seed)
    learners, times, skills, correct = [], [], [], []
    for learner in range(n_learners):
        skill = int(rng.integers(params.n_skills))
        known = rng.random() < params.prior[skill]
        for t in range(length):
            p = 1 - params.slip[skill] if known else params.guess[skill]
            learners.append(learner)
            times.append(t)
            skills.append([skill])
            correct.append(int(rng.random() < p))
            known = known or rng.random() < params.learn[skill]
    return {"learners": learners, "times": times, "skills": skills, "correct": correct}
