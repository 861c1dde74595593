"""Training of the DKT model with early stopping on validation AUC (imports Keras/TensorFlow).

Typical use from the retraining task::

    sequences = sequences_build(learners=..., times=..., skills=..., correct=..., n_skills=n)
    train_ids, validation_ids, test_ids = learners_split(sequences.learner_ids, seed=42)
    result = dkt_train(
        windows_build(sequences_subset(sequences, train_ids)),
        windows_build(sequences_subset(sequences, validation_ids)),
        config=TrainConfig(epochs=20),
        on_epoch=lambda epoch, logs: print(epoch, logs),
    )

The loop calls ``train_on_batch`` on length-bucketed batches (much less padding than full
200-step windows) and after each epoch scores the validation learners, keeps the weights of the
best validation AUC and stops after ``patience`` epochs without improvement.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import keras
import numpy as np

from adaptive.ml.dkt import DKTConfig, dkt_build, dkt_compile
from adaptive.ml.inference import length_batches, windows_predict
from adaptive.ml.metrics import auc, flatten_targets
from adaptive.ml.sequences import Windows

EpochCallback = Callable[[int, dict[str, float]], None]


class DeviceUnavailableError(RuntimeError):
    """A GPU was requested but none is visible to the Keras backend."""


@dataclass(frozen=True)
class TrainConfig:
    """Model and optimisation hyperparameters for :func:`dkt_train`."""

    cell: str = "gru"
    embedding_dim: int = 128
    hidden_units: int = 128
    dropout: float = 0.1
    l2: float = 1e-6
    problem_l2: float = 1e-4
    learning_rate: float = 3e-3
    clipnorm: float = 1.0
    batch_size: int = 64
    epochs: int = 20
    patience: int = 3
    class_weight: str | None = None
    mixed_precision: bool = False
    use_problems: bool = False
    seed: int = 42
    device: str = "auto"

    def as_dict(self) -> dict[str, Any]:
        """Return the hyperparameters as a JSON-ready dict."""
        return asdict(self)


@dataclass
class TrainResult:
    """The trained model (best validation epoch) and how the training went."""

    model: keras.Model
    model_config: DKTConfig
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    best_validation_auc: float = float("nan")
    seconds_per_epoch: float = 0.0
    interactions_per_second: float = 0.0
    device: str = "cpu"


def accelerators_visible() -> list[str]:
    """Names of the GPUs the current Keras backend can use (empty on CPU-only machines)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return [device.name for device in tf.config.list_physical_devices("GPU")]
    if backend == "jax":
        import jax

        return [str(device) for device in jax.devices() if device.platform == "gpu"]
    if backend == "torch":
        import torch

        return [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return []


def device_resolve(device: str) -> str:
    """Turn ``"auto" | "cpu" | "gpu"`` into the device to use; a GPU when one is visible."""
    if device not in ("auto", "cpu", "gpu"):
        raise ValueError(f"device must be auto, cpu or gpu, not {device!r}")
    visible = accelerators_visible()
    if device == "gpu" and not visible:
        raise DeviceUnavailableError("a GPU was requested but none is visible")
    if device == "auto":
        return "gpu" if visible else "cpu"
    return device


def _device_scope(device: str) -> contextlib.AbstractContextManager:
    # Only "cpu" needs pinning: with a GPU visible the backends place work there already.
    return (
        keras.device("cpu:0")
        if device == "cpu" and accelerators_visible()
        else (contextlib.nullcontext())
    )


def _class_weights(labels: np.ndarray, mode: str | None) -> tuple[float, float]:
    if mode is None:
        return 1.0, 1.0
    if mode != "balanced":
        raise ValueError(f"class_weight must be None or 'balanced', not {mode!r}")
    targets = labels[labels >= 0]
    positives = max(float(targets.mean()), 1e-6)
    return 0.5 / positives, 0.5 / max(1 - positives, 1e-6)


def _training_batches(
    windows: Windows, batch_size: int, rng: np.random.Generator, problems: bool
) -> Iterator[tuple[dict[str, np.ndarray], np.ndarray]]:
    width = windows.labels.shape[1]
    for rows, steps in length_batches(windows.lengths, batch_size=batch_size, rng=rng):
        steps = min(steps, width)
        yield windows.model_inputs(rows, steps, problems=problems), windows.labels[rows, :steps]


def dkt_train(
    train: Windows,
    validation: Windows | None,
    *,
    config: TrainConfig,
    on_epoch: EpochCallback | None = None,
) -> TrainResult:
    """Train a DKT model on ``train`` windows; early-stop on ``validation`` AUC when given.

    ``on_epoch(epoch, logs)`` is called after every epoch (1-based) with ``loss``,
    ``val_auc`` (NaN without validation), ``seconds`` and ``interactions_per_second``.
    """
    device = device_resolve(config.device)
    keras.utils.set_random_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model_config = DKTConfig(
        n_skills=train.n_skills,
        n_problems=train.n_problems if config.use_problems else 0,
        embedding_dim=config.embedding_dim,
        hidden_units=config.hidden_units,
        cell=config.cell,
        dropout=config.dropout,
        l2=config.l2,
        problem_l2=config.problem_l2,
        mixed_precision=config.mixed_precision and device == "gpu",
    )
    if config.use_problems and train.problems is None:
        raise ValueError("use_problems=True needs windows built from sequences with problems")
    positive_weight, negative_weight = _class_weights(train.labels, config.class_weight)
    n_batches = -(-train.n_windows // config.batch_size)
    # Length-bucketed batches differ a lot in how many targets they hold; dividing each batch's
    # summed loss by the average count (not its own) weighs every target equally, as random
    # full-width batches would, instead of over-weighting the targets of short windows.
    loss_normalizer = max(train.n_targets / max(n_batches, 1), 1.0)
    result_history: list[dict[str, float]] = []
    with _device_scope(device):
        model = dkt_compile(
            dkt_build(model_config),
            learning_rate=config.learning_rate,
            clipnorm=config.clipnorm,
            positive_weight=positive_weight,
            negative_weight=negative_weight,
            loss_normalizer=loss_normalizer,
        )
        best_auc, best_epoch, best_weights, stale = -math.inf, 0, model.get_weights(), 0
        train_seconds = 0.0
        interactions = float(train.lengths.sum())
        for epoch in range(1, config.epochs + 1):
            started = time.perf_counter()
            summed_loss = 0.0
            for inputs, labels in _training_batches(
                train, config.batch_size, rng, config.use_problems
            ):
                loss = model.train_on_batch(inputs, labels)
                summed_loss += float(np.asarray(loss).reshape(-1)[0]) * loss_normalizer
            seconds = time.perf_counter() - started
            train_seconds += seconds
            validation_auc = float("nan")
            if validation is not None and validation.n_windows:
                predictions = windows_predict(model, validation)
                validation_auc = auc(*flatten_targets(validation.labels, predictions))
            logs = {
                "loss": summed_loss / max(train.n_targets, 1),
                "val_auc": validation_auc,
                "seconds": seconds,
                "interactions_per_second": interactions / seconds if seconds else 0.0,
            }
            result_history.append({"epoch": float(epoch), **logs})
            if on_epoch is not None:
                on_epoch(epoch, logs)
            score = validation_auc if not math.isnan(validation_auc) else -logs["loss"]
            if not math.isfinite(logs["loss"]):
                break
            if score > best_auc:
                best_auc, best_epoch, best_weights, stale = score, epoch, model.get_weights(), 0
            else:
                stale += 1
                if stale >= config.patience:
                    break
        model.set_weights(best_weights)
    epochs_run = len(result_history)
    return TrainResult(
        model=model,
        model_config=model_config,
        history=result_history,
        best_epoch=best_epoch,
        best_validation_auc=best_auc if validation is not None else float("nan"),
        seconds_per_epoch=train_seconds / max(epochs_run, 1),
        interactions_per_second=interactions * epochs_run / train_seconds if train_seconds else 0.0,
        device=device,
    )
