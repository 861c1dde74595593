"""Batch predictions and batch mastery from a trained DKT Keras model (imports Keras/TensorFlow).

* :func:`windows_predict` scores windows, the state reset to zeros at each window: the
  "windowed" regime of published figures (the bench prints it beside the served AUC, which is
  :func:`adaptive.ml.step.sequences_replay`'s).
* :func:`mastery_batch` runs each learner's *whole* history (no windowing) and returns the
  per-skill mastery after the last attempt plus the final recurrent state, which is what
  ``LearnerState`` stores so that later attempts need one :func:`adaptive.ml.step.state_update`.

Rows are processed in batches of similar length, padded to a multiple of ``granularity`` steps, so
short histories do not pay for long ones and the compiled function is traced for few shapes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from adaptive.ml import metrics
from adaptive.ml.artifacts import Artifact, artifact_load
from adaptive.ml.dkt import dkt_state_model
from adaptive.ml.sequences import SequenceSet, Windows, encode_interactions

DEFAULT_BATCH_SIZE = 256
DEFAULT_GRANULARITY = 25


@dataclass(frozen=True)
class MasteryBatch:
    """Mastery ``(n_learners, n_skills)`` and final states ``(n_learners, state_size)``."""

    learner_ids: np.ndarray
    mastery: np.ndarray
    states: np.ndarray


def length_batches(
    lengths: np.ndarray,
    *,
    batch_size: int,
    granularity: int = DEFAULT_GRANULARITY,
    rng: np.random.Generator | None = None,
) -> Iterator[tuple[np.ndarray, int]]:
    """Yield ``(rows, padded_steps)`` batches of rows of similar length.

    With ``rng`` the rows are shuffled within equal lengths and the batch order is shuffled (for
    training); without it the order is deterministic (for inference).
    """
    lengths = np.asarray(lengths)
    tie_break = rng.random(len(lengths)) if rng is not None else np.arange(len(lengths))
    order = np.lexsort((tie_break, lengths))
    batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    for rows in batches:
        longest = max(int(lengths[rows].max()), 1)
        yield rows, int(-(-longest // granularity) * granularity)


def windows_predict(
    model: keras.Model, windows: Windows, *, batch_size: int = DEFAULT_BATCH_SIZE
) -> np.ndarray:
    """P(correct) for every target position, shaped like ``windows.labels`` (0 at padding)."""
    predictions = np.zeros(windows.labels.shape, dtype=np.float32)
    width = windows.labels.shape[1]
    uses_problems = "problems" in model.input
    if uses_problems and windows.problems is None:
        raise ValueError("the model uses problems but the windows carry none")
    for rows, steps in length_batches(windows.lengths, batch_size=batch_size):
        steps = min(steps, width)
        inputs = windows.model_inputs(rows, steps, problems=uses_problems)
        inputs["initial_state"] = _zero_state(model, len(rows))
        output = model.predict_on_batch(inputs)
        predictions[rows, :steps] = np.asarray(output, dtype=np.float32)
    return predictions


def windows_evaluate(
    model: keras.Model, windows: Windows, *, batch_size: int = DEFAULT_BATCH_SIZE
) -> dict[str, float]:
    """Metrics (see :func:`adaptive.ml.metrics.metrics_summary`) of the model on windows."""
    predictions = windows_predict(model, windows, batch_size=batch_size)
    return metrics.metrics_summary(*metrics.flatten_targets(windows.labels, predictions))


def _zero_state(model: keras.Model, rows: int) -> np.ndarray:
    width = int(model.input["initial_state"].shape[-1])
    return np.zeros((rows, width), dtype=np.float32)


def _history_batch(sequences: SequenceSet, rows: np.ndarray, steps: int) -> dict[str, np.ndarray]:
    width = sequences.skills.shape[1]
    interactions = np.zeros((len(rows), steps, width), dtype=np.int32)
    problems = np.zeros((len(rows), steps), dtype=np.int32)
    for slot, row in enumerate(rows):
        start, stop = sequences.offsets[row], sequences.offsets[row + 1]
        interactions[slot, : stop - start] = encode_interactions(
            sequences.skills[start:stop], sequences.correct[start:stop], sequences.n_skills
        )
        if sequences.problems is not None:
            problems[slot, : stop - start] = sequences.problems[start:stop]
    inputs: dict[str, np.ndarray] = {"interactions": interactions}
    if sequences.problems is not None:
        inputs["problems"] = problems
    return inputs


def mastery_batch(
    model: keras.Model,
    sequences: SequenceSet,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    state_model: keras.Model | None = None,
) -> MasteryBatch:
    """Per-skill mastery after each learner's full history, and the final recurrent states.

    Pass ``state_model`` (from :func:`adaptive.ml.dkt.dkt_state_model`) to reuse one across calls
    when refreshing many learners chunk by chunk.
    """
    state_model = state_model or dkt_state_model(model)
    uses_problems = "problems" in state_model.input
    n_learners = sequences.n_learners
    n_skills = sequences.n_skills
    hidden = model.get_layer("recurrent").units
    is_lstm = isinstance(model.get_layer("recurrent"), keras.layers.LSTM)
    mastery = np.zeros((n_learners, n_skills), dtype=np.float32)
    states = np.zeros((n_learners, hidden * (2 if is_lstm else 1)), dtype=np.float32)
    lengths = sequences.lengths
    for rows, steps in length_batches(lengths, batch_size=batch_size):
        inputs = _history_batch(sequences, rows, steps)
        if not uses_problems:
            inputs.pop("problems", None)
        elif "problems" not in inputs:
            inputs["problems"] = np.zeros(inputs["interactions"].shape[:2], dtype=np.int32)
        inputs["initial_state"] = _zero_state(model, len(rows))
        logits, *final = state_model.predict_on_batch(inputs)
        last = np.maximum(lengths[rows] - 1, 0)
        chosen = np.asarray(logits)[np.arange(len(rows)), last]
        mastery[rows] = 1.0 / (1.0 + np.exp(-chosen))
        states[rows] = np.concatenate([np.asarray(s) for s in final], axis=1)
        empty = lengths[rows] == 0
        if empty.any():
            bias = model.get_layer("skill_logits").get_weights()[1]
            mastery[rows[empty]] = 1.0 / (1.0 + np.exp(-bias))
            states[rows[empty]] = 0.0
    return MasteryBatch(learner_ids=sequences.learner_ids, mastery=mastery, states=states)


def keras_model_load(path: Path) -> keras.Model:
    """Load a saved DKT model with ``safe_mode=True`` (its custom layers are registered in dkt)."""
    return keras.saving.load_model(str(path), safe_mode=True, compile=False)


def artifact_load_model(path: str | Path, *, manifest_sha256: str) -> Artifact:
    """:func:`adaptive.ml.artifacts.artifact_load` plus the Keras model of a GRU/LSTM artifact."""
    return artifact_load(path, manifest_sha256=manifest_sha256, model_loader=keras_model_load)
