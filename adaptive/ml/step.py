"""One-step knowledge-state updates in NumPy from weights exported out of a DKT model.

Serving does not need TensorFlow: after each attempt the stored recurrent state of a learner is
advanced by one GRU (or LSTM) step and the per-skill mastery is read out, which equals replaying
the learner's whole history through the Keras model (to float32 round-off), without the replay.

The state vector is ``h`` for a GRU and ``concat(h, c)`` for an LSTM. Mastery of skill ``s`` is
the model's probability that the next attempt on ``s`` (on a problem of average difficulty) is
correct: ``sigmoid(W h + b)[s]``. This module imports only NumPy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

STEP_WEIGHTS_FILENAME = "step_weights.npz"


@dataclass(frozen=True)
class StepWeights:
    """The arrays needed to advance a learner's state by one attempt."""

    cell: str
    n_skills: int
    n_problems: int
    skill_embeddings: np.ndarray
    kernel: np.ndarray
    recurrent_kernel: np.ndarray
    bias: np.ndarray
    readout_kernel: np.ndarray
    readout_bias: np.ndarray
    problem_scale: np.ndarray | None = None
    variation_embeddings: np.ndarray | None = None
    # Per-problem bias of the next attempt's logit (the model's target readout); used to score
    # a specific next problem (the gate, the bench), not for per-skill mastery.
    problem_bias: np.ndarray | None = None

    @property
    def hidden_units(self) -> int:
        """Width of the recurrent hidden vector ``h``."""
        return int(self.recurrent_kernel.shape[0])

    @property
    def state_size(self) -> int:
        """Length of the stored state vector (``h``, or ``h`` and ``c`` for an LSTM)."""
        return self.hidden_units * (2 if self.cell == "lstm" else 1)


def step_weights_export(model: Any) -> StepWeights:
    """Copy the weights of a DKT Keras model (see ``dkt.py``) into a :class:`StepWeights`."""
    embedding = model.get_layer("interaction_embedding")
    recurrent = model.get_layer("recurrent")
    readout = model.get_layer("skill_logits")
    cell = "lstm" if "lstm" in type(recurrent).__name__.lower() else "gru"
    kernel, recurrent_kernel, bias = (np.asarray(w) for w in recurrent.cell.get_weights())
    uses_problems = bool(embedding.n_problems)
    readout_kernel, readout_bias = (np.asarray(w) for w in readout.get_weights())
    target_readout = model.get_layer("target_readout")
    problem_bias = (
        np.asarray(target_readout.problem_bias.numpy(), dtype=np.float32) if uses_problems else None
    )
    return StepWeights(
        cell=cell,
        n_skills=int(embedding.n_skills),
        n_problems=int(embedding.n_problems),
        skill_embeddings=np.asarray(embedding.skill_embeddings.numpy(), dtype=np.float32),
        kernel=kernel.astype(np.float32),
        recurrent_kernel=recurrent_kernel.astype(np.float32),
        bias=bias.astype(np.float32),
        readout_kernel=readout_kernel.astype(np.float32),
        readout_bias=readout_bias.astype(np.float32),
        problem_scale=(
            np.asarray(embedding.problem_scale.numpy(), dtype=np.float32) if uses_problems else None
        ),
        variation_embeddings=(
            np.asarray(embedding.variation_embeddings.numpy(), dtype=np.float32)
            if uses_problems
            else None
        ),
        problem_bias=problem_bias,
    )


def step_weights_save(weights: StepWeights, path: str | Path) -> None:
    """Write the weights to an ``.npz`` file (no pickles)."""
    arrays: dict[str, Any] = {
        "cell": np.array(weights.cell),
        "n_skills": np.array(weights.n_skills),
        "n_problems": np.array(weights.n_problems),
        "skill_embeddings": weights.skill_embeddings,
        "kernel": weights.kernel,
        "recurrent_kernel": weights.recurrent_kernel,
        "bias": weights.bias,
        "readout_kernel": weights.readout_kernel,
        "readout_bias": weights.readout_bias,
    }
    if weights.problem_scale is not None and weights.variation_embeddings is not None:
        arrays["problem_scale"] = weights.problem_scale
        arrays["variation_embeddings"] = weights.variation_embeddings
    if weights.problem_bias is not None:
        arrays["problem_bias"] = weights.problem_bias
    with Path(path).open("wb") as handle:
        np.savez(handle, **arrays)


def step_weights_read(path: str | Path) -> StepWeights:
    """Read weights written by :func:`step_weights_save` (use ``artifacts`` to verify hashes)."""
    with np.load(Path(path), allow_pickle=False) as data:
        return StepWeights(
            cell=str(data["cell"]),
            n_skills=int(data["n_skills"]),
            n_problems=int(data["n_problems"]),
            skill_embeddings=data["skill_embeddings"],
            kernel=data["kernel"],
            recurrent_kernel=data["recurrent_kernel"],
            bias=data["bias"],
            readout_kernel=data["readout_kernel"],
            readout_bias=data["readout_bias"],
            problem_scale=data.get("problem_scale"),
            variation_embeddings=data.get("variation_embeddings"),
            problem_bias=data.get("problem_bias"),
        )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _step_input(
    weights: StepWeights,
    skills: np.ndarray,
    correct: np.ndarray,
    problems: np.ndarray | None,
) -> np.ndarray:
    """Summed embedding of a batch of attempts: skills ``(B, K)`` 0-based, -1 padding."""
    codes = np.where(skills >= 0, skills + 1 + weights.n_skills * correct[:, None], 0)
    vectors = weights.skill_embeddings[codes] * (codes > 0)[..., None]
    x = vectors.sum(axis=1)
    if (
        weights.problem_scale is not None
        and weights.variation_embeddings is not None
        and problems is not None
    ):
        # Rasch-style shift, as in dkt.InteractionEmbedding: mu[problem] * sum of variations.
        scale = weights.problem_scale[problems] * (problems > 0)
        variation = (weights.variation_embeddings[codes] * (codes > 0)[..., None]).sum(axis=1)
        x = x + variation * scale[:, None]
    return x.astype(np.float32)


def _recurrent_step(weights: StepWeights, state: np.ndarray, x: np.ndarray) -> np.ndarray:
    units = weights.hidden_units
    if weights.cell == "gru":
        # Keras GRU, reset_after=True: gates in the order update (z), reset (r), candidate (h).
        input_bias, recurrent_bias = weights.bias[0], weights.bias[1]
        x_part = x @ weights.kernel + input_bias
        h_part = state @ weights.recurrent_kernel + recurrent_bias
        z = _sigmoid(x_part[:, :units] + h_part[:, :units])
        r = _sigmoid(x_part[:, units : 2 * units] + h_part[:, units : 2 * units])
        candidate = np.tanh(x_part[:, 2 * units :] + r * h_part[:, 2 * units :])
        return z * state + (1.0 - z) * candidate
    # Keras LSTM: gates in the order input, forget, cell, output.
    h, c = state[:, :units], state[:, units:]
    gates = x @ weights.kernel + h @ weights.recurrent_kernel + weights.bias
    i = _sigmoid(gates[:, :units])
    f = _sigmoid(gates[:, units : 2 * units])
    g = np.tanh(gates[:, 2 * units : 3 * units])
    o = _sigmoid(gates[:, 3 * units :])
    c_new = f * c + i * g
    return np.concatenate([o * np.tanh(c_new), c_new], axis=1)


def state_mastery(weights: StepWeights, state: np.ndarray) -> np.ndarray:
    """Per-skill mastery ``(B, n_skills)`` (or ``(n_skills,)``) read out of states."""
    single = state.ndim == 1
    batch = np.atleast_2d(state).astype(np.float32)
    hidden = batch[:, : weights.hidden_units]
    mastery = _sigmoid(hidden @ weights.readout_kernel + weights.readout_bias)
    return mastery[0] if single else mastery


def state_initial(weights: StepWeights) -> tuple[np.ndarray, np.ndarray]:
    """State and mastery of a learner with no attempts yet."""
    state = np.zeros(weights.state_size, dtype=np.float32)
    return state, state_mastery(weights, state)


def _as_skill_matrix(skills: Sequence[Sequence[int]] | np.ndarray) -> np.ndarray:
    if isinstance(skills, np.ndarray) and skills.ndim == 2:
        return skills.astype(np.int64)
    width = max((len(entry) for entry in skills), default=1) or 1
    matrix = np.full((len(skills), width), -1, dtype=np.int64)
    for row, entry in enumerate(skills):
        matrix[row, : len(entry)] = list(entry)
    return matrix


def state_update(
    weights: StepWeights,
    state: np.ndarray,
    skills: Sequence[int],
    correct: int | bool,
    problem: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Advance one learner by one attempt: ``(state, attempt) -> (new_state, mastery)``.

    ``skills`` are the attempt's 0-based skill ids, ``problem`` its 1-based problem id (0 unknown).
    """
    new_states, mastery = state_update_batch(
        weights,
        np.asarray(state, dtype=np.float32)[None, :],
        [list(skills)],
        np.array([int(correct)]),
        np.array([int(problem)]),
    )
    return new_states[0], mastery[0]


def state_update_batch(
    weights: StepWeights,
    states: np.ndarray,
    skills: Sequence[Sequence[int]] | np.ndarray,
    correct: np.ndarray,
    problems: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Advance many learners by one attempt each; returns ``(new_states, mastery)``."""
    x = _step_input(
        weights,
        _as_skill_matrix(skills),
        np.asarray(correct, dtype=np.int64),
        None if problems is None else np.asarray(problems, dtype=np.int64),
    )
    new_states = _recurrent_step(weights, np.asarray(states, dtype=np.float32), x)
    return new_states.astype(np.float32), state_mastery(weights, new_states)


def state_replay(
    weights: StepWeights,
    skills: Sequence[Sequence[int]] | np.ndarray,
    correct: Sequence[int] | np.ndarray,
    problems: Sequence[int] | np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Run a whole history one step at a time from the initial state; returns the final pair."""
    matrix = _as_skill_matrix(skills)
    correct_array = np.asarray(correct, dtype=np.int64)
    state, mastery = state_initial(weights)
    for index in range(len(matrix)):
        row = [int(s) for s in matrix[index] if s >= 0]
        problem = 0 if problems is None else int(problems[index])
        state, mastery = state_update(weights, state, row, int(correct_array[index]), problem)
    return state, mastery


@dataclass(frozen=True)
class Replay:
    """What :func:`sequences_replay` saw: one prediction per attempt, states at chunk starts.

    ``predictions[i]`` is P(correct) of attempt ``i`` (rows of the ``SequenceSet``) from the state
    after the learner's earlier attempts; a learner's first attempt is predicted from the initial
    state. ``chunk_states`` (when asked for) holds, for learner row ``r`` and chunk ``c``, the
    state before attempt ``c * window`` at row ``chunk_offsets[r] + c`` (zeros for ``c = 0``).
    """

    predictions: np.ndarray
    final_states: np.ndarray
    chunk_states: np.ndarray | None = None
    chunk_offsets: np.ndarray | None = None


def sequences_replay(
    weights: StepWeights,
    sequences: Any,
    *,
    window: int | None = None,
    rows: np.ndarray | None = None,
    states_only: bool = False,
) -> Replay:
    """Replay every learner's whole history through the served one-step update, all at once.

    This is exactly what serving does (state carried from the first attempt on, one
    :func:`state_update_batch` per attempt), vectorised over learners: the learners still active
    at step ``t`` are advanced together. ``sequences`` is an
    :class:`adaptive.ml.sequences.SequenceSet` (duck-typed: this module imports only NumPy).
    Each prediction is the mean logit of the attempt's skills plus its problem's bias, as the
    Keras model's target readout. ``window`` also records the state at each chunk start (for
    training with carried state); ``rows`` restricts the replay to some learner rows (the
    predictions of the others stay NaN). ``states_only`` (with ``window``) skips the predictions
    and stops each learner at its last chunk start: all that carrying states needs.
    """
    lengths = np.diff(sequences.offsets)
    if states_only:
        if window is None:
            raise ValueError("states_only needs a window")
        steps_needed = np.maximum((lengths - 1) // window, 0) * window
    else:
        steps_needed = lengths
    offsets = sequences.offsets
    learner_rows = np.arange(len(lengths)) if rows is None else np.asarray(rows, dtype=np.int64)
    order = learner_rows[np.argsort(-steps_needed[learner_rows], kind="stable")]
    predictions = np.full(int(offsets[-1]), np.nan, dtype=np.float32)
    states = np.zeros((len(order), weights.state_size), dtype=np.float32)
    final_states = np.zeros((len(lengths), weights.state_size), dtype=np.float32)
    chunk_states = chunk_offsets = None
    if window is not None:
        n_chunks = np.maximum(-(-lengths // window), 1)
        chunk_offsets = np.concatenate([[0], np.cumsum(n_chunks)]).astype(np.int64)
        chunk_states = np.zeros((int(chunk_offsets[-1]), weights.state_size), dtype=np.float32)
    skills_all, correct_all = sequences.skills, sequences.correct.astype(np.int64)
    problems_all = sequences.problems
    readout = weights.readout_kernel
    sorted_lengths = steps_needed[order]
    for t in range(int(sorted_lengths[0]) if len(order) else 0):
        # Learners are sorted longest first, so the active ones are a prefix.
        active = int((sorted_lengths > t).sum())
        if active == 0:
            break
        learners = order[:active]
        index = offsets[learners] + t
        skills = skills_all[index]
        problems = None if problems_all is None else problems_all[index].astype(np.int64)
        if not states_only:
            hidden = states[:active, : weights.hidden_units]
            logits = hidden @ readout + weights.readout_bias
            valid = skills >= 0
            picked = np.take_along_axis(logits, np.maximum(skills, 0), axis=1) * valid
            mean = picked.sum(axis=1) / np.maximum(valid.sum(axis=1), 1)
            if weights.problem_bias is not None and problems is not None:
                mean = mean + weights.problem_bias[problems] * (problems > 0)
            predictions[index] = _sigmoid(mean)
        x = _step_input(weights, skills, correct_all[index], problems)
        states[:active] = _recurrent_step(weights, states[:active], x)
        if (
            window is not None
            and (t + 1) % window == 0
            and chunk_states is not None
            and chunk_offsets is not None
        ):
            # The state before attempt t + 1, the start of a chunk (when the learner has one).
            more = lengths[learners] > t + 1
            chunk_states[chunk_offsets[learners[more]] + (t + 1) // window] = states[:active][more]
        finished = sorted_lengths[:active] == t + 1
        final_states[learners[finished]] = states[:active][finished]
    return Replay(
        predictions=predictions,
        final_states=final_states,
        chunk_states=chunk_states,
        chunk_offsets=chunk_offsets,
    )
