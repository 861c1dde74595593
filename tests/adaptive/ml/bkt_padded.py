"""The BKT implementation of before the batched EM (commit c84980d), kept only as a reference.

It pads every (group, skill) chain of the whole data to the longest one and runs EM on those
arrays at once (memory grows with the attempts); the tests hold ``adaptive.ml.bkt`` to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adaptive.ml.bkt import _FLOOR, BKTParams
from adaptive.ml.sequences import SequenceSet, Windows


@dataclass(frozen=True)
class _Steps:
    """Attempts in group order: ``group`` (window or learner row), 0-based skills, answers."""

    group: np.ndarray
    skills: np.ndarray
    correct: np.ndarray
    n_groups: int


@dataclass(frozen=True)
class _Chains:
    """One padded row per (group, skill): observations in time order."""

    skill: np.ndarray  # (C,)
    group: np.ndarray  # (C,)
    observations: np.ndarray  # (C, L) float64
    mask: np.ndarray  # (C, L) bool, a prefix of each row
    entry_chain: np.ndarray  # (E,) chain of each (step, skill) entry
    entry_position: np.ndarray  # (E,)
    entry_step: np.ndarray  # (E,) index into _Steps


def _steps(data: SequenceSet | Windows) -> _Steps:
    if isinstance(data, SequenceSet):
        group = np.repeat(np.arange(data.n_learners), data.lengths)
        return _Steps(
            group, data.skills.astype(np.int64), data.correct.astype(np.int64), data.n_learners
        )
    lengths = data.lengths
    rows = np.repeat(np.arange(data.n_windows), lengths)
    positions = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    codes = data.interactions[rows, positions].astype(np.int64)
    skills = np.where(codes > 0, (codes - 1) % data.n_skills, -1)
    correct = ((codes[:, 0] - 1) // data.n_skills).astype(np.int64)
    return _Steps(rows, skills, correct, data.n_windows)


def _chains(steps: _Steps, n_skills: int) -> _Chains:
    step_index, column = np.nonzero(steps.skills >= 0)
    skill = steps.skills[step_index, column]
    key = steps.group[step_index] * n_skills + skill
    # A stable sort by chain keeps each chain's entries in time order.
    order = np.argsort(key, kind="stable")
    step_index, skill, key = step_index[order], skill[order], key[order]
    chain_keys, chain_start, chain_length = np.unique(key, return_index=True, return_counts=True)
    entry_chain = np.repeat(np.arange(len(chain_keys)), chain_length)
    entry_position = np.arange(len(key)) - chain_start[entry_chain]
    width = int(chain_length.max(initial=1))
    observations = np.zeros((len(chain_keys), width))
    mask = np.zeros((len(chain_keys), width), dtype=bool)
    observations[entry_chain, entry_position] = steps.correct[step_index]
    mask[entry_chain, entry_position] = True
    return _Chains(
        skill=(chain_keys % n_skills).astype(np.int64),
        group=(chain_keys // n_skills).astype(np.int64),
        observations=observations,
        mask=mask,
        entry_chain=entry_chain,
        entry_position=entry_position,
        entry_step=step_index,
    )


def _forward(params: BKTParams, chains: _Chains) -> tuple[np.ndarray, ...]:
    """Filtered P(L_t | o_1..t), P(o_t = 1 | o_1..t-1), the scales c_t and the final P(L next)."""
    prior = params.prior[chains.skill]
    learn = params.learn[chains.skill]
    guess = params.guess[chains.skill]
    slip = params.slip[chains.skill]
    n_chains, width = chains.observations.shape
    filtered = np.zeros((n_chains, width))
    predicted = np.zeros((n_chains, width))
    scale = np.ones((n_chains, width))
    known = prior.copy()
    for t in range(width):
        observed = chains.observations[:, t]
        active = chains.mask[:, t]
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


def _em_step(params: BKTParams, chains: _Chains, max_guess: float, max_slip: float) -> tuple:
    filtered, _predicted, scale, _known = _forward(params, chains)
    learn = params.learn[chains.skill]
    guess = params.guess[chains.skill]
    slip = params.slip[chains.skill]
    n_chains, width = chains.observations.shape
    beta_known = np.ones(n_chains)
    beta_unknown = np.ones(n_chains)
    posterior_known = np.zeros((n_chains, width))
    transitions = np.zeros(n_chains)
    stay_unknown_mass = np.zeros(n_chains)
    posterior_known[:, width - 1] = filtered[:, width - 1]
    for t in range(width - 2, -1, -1):
        following = chains.mask[:, t + 1]
        observed = chains.observations[:, t + 1]
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
        posterior_known[:, t] = gamma
        active = chains.mask[:, t] & following
        transitions += np.where(active, xi, 0.0)
        stay_unknown_mass += np.where(active, 1 - gamma, 0.0)

    n_skills = params.n_skills
    mask = chains.mask
    skill_grid = np.broadcast_to(chains.skill[:, None], mask.shape)[mask]
    known_mass = posterior_known[mask]
    observed = chains.observations[mask]

    def per_skill(weights: np.ndarray, index: np.ndarray = skill_grid) -> np.ndarray:
        return np.bincount(index, weights=weights, minlength=n_skills)

    def ratio(numerator: np.ndarray, denominator: np.ndarray, fallback: np.ndarray) -> np.ndarray:
        return np.where(denominator > 0, numerator / np.maximum(denominator, 1e-12), fallback)

    chain_count = np.bincount(chains.skill, minlength=n_skills)
    prior = ratio(per_skill(posterior_known[:, 0], chains.skill), chain_count, params.prior)
    learn_new = ratio(
        per_skill(transitions, chains.skill),
        per_skill(stay_unknown_mass, chains.skill),
        params.learn,
    )
    guess_new = ratio(
        per_skill((1 - known_mass) * observed), per_skill(1 - known_mass), params.guess
    )
    slip_new = ratio(per_skill(known_mass * (1 - observed)), per_skill(known_mass), params.slip)
    updated = BKTParams(
        prior=np.clip(prior, _FLOOR, 1 - _FLOOR),
        learn=np.clip(learn_new, _FLOOR, 1 - _FLOOR),
        guess=np.clip(guess_new, _FLOOR, max_guess),
        slip=np.clip(slip_new, _FLOOR, max_slip),
    )
    log_likelihood = float(np.log(scale[mask]).sum())
    return updated, log_likelihood


def padded_fit(
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
    identifiability constraint). Skills without data keep their initial values.
    """
    n_skills = data.n_skills
    params = initial or BKTParams.default(n_skills)
    chains = _chains(_steps(data), n_skills)
    n_observations = max(int(chains.mask.sum()), 1)
    previous = -np.inf
    for _ in range(iterations):
        params, log_likelihood = _em_step(params, chains, max_guess, max_slip)
        if (log_likelihood - previous) / n_observations < tolerance:
            break
        previous = log_likelihood
    return params


def _step_predictions(params: BKTParams, data: SequenceSet | Windows) -> tuple[np.ndarray, _Steps]:
    """P(correct) of every attempt from the state before it (mean over its skills)."""
    steps = _steps(data)
    chains = _chains(steps, params.n_skills)
    _filtered, predicted, _scale, _known = _forward(params, chains)
    entry_value = predicted[chains.entry_chain, chains.entry_position]
    n_steps = len(steps.group)
    total = np.bincount(chains.entry_step, weights=entry_value, minlength=n_steps)
    count = np.bincount(chains.entry_step, minlength=n_steps)
    return total / np.maximum(count, 1), steps


def padded_predict_sequences(params: BKTParams, sequences: SequenceSet) -> np.ndarray:
    """P(correct) of every attempt of every learner, ``(n_attempts,)``, in sequence order."""
    predictions, _steps_unused = _step_predictions(params, sequences)
    return predictions


def padded_predict_windows(params: BKTParams, windows: Windows) -> np.ndarray:
    """Predictions shaped like ``windows.labels``: position ``t`` predicts attempt ``t + 1``."""
    predictions, steps = _step_predictions(params, windows)
    lengths = windows.lengths
    positions = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    aligned = np.zeros(windows.labels.shape, dtype=np.float32)
    later = positions > 0
    aligned[steps.group[later], positions[later] - 1] = predictions[later]
    return aligned


def padded_mastery(params: BKTParams, sequences: SequenceSet) -> np.ndarray:
    """P(known) of every skill after each learner's history, ``(n_learners, n_skills)``."""
    chains = _chains(_steps(sequences), params.n_skills)
    _filtered, _predicted, _scale, known = _forward(params, chains)
    mastery = np.tile(params.prior, (sequences.n_learners, 1))
    mastery[chains.group, chains.skill] = known
    return mastery
