"""Training of the DKT model in the regime it is served in (imports Keras/TensorFlow).

Typical use from the retraining task::

    sequences = sequences_build(learners=..., times=..., skills=..., correct=..., n_skills=n)
    train_ids, validation_ids, test_ids = learners_split(sequences.learner_ids, seed=42)
    result = dkt_train(
        sequences_subset(sequences, train_ids),
        sequences_subset(sequences, validation_ids),
        config=TrainConfig(epochs=50),
        on_epoch=lambda epoch, logs: print(epoch, logs),
    )

Design (see docs/knowledge-tracing.md):

* Serving never resets a learner's recurrent state. So training cuts each history into
  consecutive 200-step chunks (:func:`adaptive.ml.sequences.chunks_build`) and feeds every chunk
  the state its learner had after the previous chunk, through the model's ``initial_state``
  input: truncated backpropagation through time, gradients stop at chunk boundaries.
* Those carried states are computed by replaying the training learners through the served NumPy
  step (:func:`adaptive.ml.step.sequences_replay`) at the weights of the end of the previous epoch
  (before the first epoch: the initial weights). Stale by at most one epoch; no custom training
  step is needed, so the model stays a plain backend-neutral Keras model.
* ``Model.fit`` on a :class:`ChunkBatches` ``keras.utils.PyDataset`` (batches of chunks of
  similar length, reshuffled each epoch; each batch padded on demand from the flat sequences by
  a :class:`~adaptive.ml.sequences.ChunkPlan`, so memory is ``O(batch)``, not
  ``O(chunks x window)``), masks and class weights as sample weights,
  ``EarlyStopping`` on the validation AUC with the best weights restored; ``epochs`` is only a
  ceiling. The validation AUC is the served one: full replay of the validation learners through
  the NumPy step the workers use.

Throughput (measured in ``bench/kt_quality.py`` against the old ``train_on_batch`` loop; the
figures and their reasons are in docs/knowledge-tracing.md):

* The NumPy replays (state refresh, served validation AUC) run with OpenBLAS on one thread. Its
  default, one thread per core, made each ``(learners, 128) @ (128, 384)`` product of the replay
  about ten times slower on a busy 2-core machine (threads spinning against TensorFlow and other
  processes): the refresh took longer than the epoch it serves.
* ``fit`` trains :func:`adaptive.ml.dkt.dkt_training_model`, the served model's layers wired
  without the recurrent mask (same weights; with post-padding and zero sample weights the loss
  and gradients are the same): no masked select per step in the GRU's loops, ~7% of a CPU step.
* Under TensorFlow a batch is padded only to its longest chunk, not to a multiple of 25 steps:
  ``fit`` traces the train step once with the time dimension open (the PyDataset's first two
  batches differ in length), so exact lengths cost no retracing and ~14% fewer recurrent steps
  on ASSIST2009. Backends that compile per shape (JAX) keep the multiples of 25.
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import keras
import numpy as np

from adaptive.ml.dkt import (
    DKTConfig,
    StepBinaryCrossentropy,
    dkt_build,
    dkt_compile,
    dkt_training_model,
)
from adaptive.ml.inference import DEFAULT_GRANULARITY, length_batches
from adaptive.ml.metrics import auc, served_targets
from adaptive.ml.sequences import DEFAULT_WINDOW, ChunkPlan, SequenceSet, Windows, chunks_plan
from adaptive.ml.step import sequences_replay, step_weights_export

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
    # A ceiling: early stopping on the validation AUC ends training first, as a rule.
    epochs: int = 50
    patience: int = 3
    class_weight: str | None = None
    mixed_precision: bool = False
    use_problems: bool = False
    seed: int = 42
    device: str = "auto"
    window: int = DEFAULT_WINDOW
    # Batches per compiled call of Model.fit: fewer round trips through the TensorFlow
    # backend's PyDataset pipeline (measured: ~20% faster epochs on CPU at 8).
    steps_per_execution: int = 8
    # DKT+ regulariser weights (see adaptive.ml.dkt.ConsistencyRegularizer); 0 = plain DKT.
    reconstruction: float = 0.0
    waviness_l1: float = 0.0
    waviness_l2: float = 0.0

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
    # Served AUC (full replay through the NumPy step) of the validation learners, best epoch.
    best_validation_auc: float = float("nan")
    seconds_per_epoch: float = 0.0
    interactions_per_second: float = 0.0
    device: str = "cpu"
    # The compiled unmasked twin that Model.fit ran (same weights as ``model``).
    training_model: keras.Model | None = None


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


def _class_weights(chunks: ChunkPlan | Windows, mode: str | None) -> tuple[float, float]:
    if mode is None:
        return 1.0, 1.0
    if mode != "balanced":
        raise ValueError(f"class_weight must be None or 'balanced', not {mode!r}")
    positives = max(chunks.target_rate(), 1e-6)
    return 0.5 / positives, 0.5 / max(1 - positives, 1e-6)


@functools.cache
def _blas_controller() -> Any:
    # Inspecting the loaded libraries takes milliseconds: once per process is enough.
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def blas_single_thread() -> contextlib.AbstractContextManager:
    """Run the enclosed NumPy work with the BLAS library on one thread.

    The replays multiply small matrices step after step; OpenBLAS's thread pool (one thread per
    core) spins for each of them and, beside TensorFlow's own pool or other busy processes,
    made the ASSIST2009 state refresh ~10x slower (42 s instead of 4 s on a shared 2-core
    machine). One thread is never much slower at these sizes. Without threadpoolctl, a no-op.
    """
    try:
        controller = _blas_controller()
    except ImportError:  # pragma: no cover - threadpoolctl is in requirements-ml.txt
        return contextlib.nullcontext()
    return controller.limit(limits=1, user_api="blas")


def served_auc(model: keras.Model, sequences: SequenceSet) -> float:
    """AUC of a model on learners replayed in full through the served NumPy step."""
    with blas_single_thread():
        replay = sequences_replay(step_weights_export(model), sequences)
    labels, predictions, _learners = served_targets(sequences, replay.predictions)
    return auc(labels, predictions)


def pad_granularity() -> int:
    """Steps a training batch's length is rounded up to, for the current Keras backend.

    TensorFlow's ``fit`` traces once with an open time dimension and torch does not compile, so
    a batch is padded to its longest chunk only; JAX compiles once per distinct shape, so there
    lengths are rounded up to multiples of 25 (at most 8 shapes for 200-step chunks).
    """
    return 1 if keras.backend.backend() in ("tensorflow", "torch") else DEFAULT_GRANULARITY


class ChunkBatches(keras.utils.PyDataset):
    """Length-bucketed batches of chunks with their carried states, as ``Model.fit`` takes them.

    Each item is ``(inputs, labels, sample_weight)``: ``labels`` are 0/1 (padding set to 0) and
    the sample weight is 0 where there is no target, otherwise the class weight divided by the
    average number of targets per batch. Dividing by that constant, not by each batch's own
    count, weighs every target equally over an epoch although length-bucketed batches hold very
    different numbers of targets. ``states[i]`` is the state fed to chunk row ``i``; the
    :class:`CarriedState` callback refreshes it after each epoch; a learner's first chunk starts
    from zeros, so only the later chunks hold a state (``O(chunks)`` memory, not more).

    ``chunks`` is a :class:`~adaptive.ml.sequences.ChunkPlan` (what :func:`dkt_train` uses: each
    batch's padded arrays are built in ``__getitem__`` from the flat sequences, so memory is
    ``O(batch)``) or the materialised :class:`~adaptive.ml.sequences.Windows` of
    ``chunks_build`` (same rows, same batches).
    """

    def __init__(
        self,
        chunks: ChunkPlan | Windows,
        *,
        batch_size: int,
        seed: int,
        problems: bool,
        state_size: int,
        class_weights: tuple[float, float] = (1.0, 1.0),
        granularity: int | None = None,
    ) -> None:
        super().__init__()
        self.chunks = chunks
        self.batch_size = batch_size
        self.granularity = pad_granularity() if granularity is None else granularity
        self.problems = problems
        self.rng = np.random.default_rng(seed)
        chunk_index = (
            chunks.chunk_index
            if chunks.chunk_index is not None
            else np.zeros(chunks.n_windows, dtype=np.int64)
        )
        # Row -> position in carried_states, -1 for a first chunk (zeros).
        self.carried_rows = np.flatnonzero(chunk_index > 0)
        self.carried_position = np.full(chunks.n_windows, -1, dtype=np.int64)
        self.carried_position[self.carried_rows] = np.arange(len(self.carried_rows))
        self.carried_states = np.zeros((len(self.carried_rows), state_size), dtype=np.float32)
        self.state_size = state_size
        self.positive_weight, self.negative_weight = class_weights
        self.n_batches = -(-chunks.n_windows // batch_size)
        self.normalizer = max(chunks.n_targets / max(self.n_batches, 1), 1.0)
        self._plan()

    def _plan(self) -> None:
        batches = list(
            length_batches(
                self.chunks.lengths,
                batch_size=self.batch_size,
                granularity=self.granularity,
                rng=self.rng,
            )
        )
        # Keras (TensorFlow backend) infers the input signature from the first two batches and
        # leaves a dimension open only where they differ: put two different lengths first.
        other = next((i for i, b in enumerate(batches) if b[1] != batches[0][1]), None)
        if other is not None and other > 1:
            batches[1], batches[other] = batches[other], batches[1]
        self.batches = batches

    @property
    def states(self) -> np.ndarray:
        """The state fed to every chunk row, ``(n_chunks, state_size)`` (built on each call)."""
        states = np.zeros((self.chunks.n_windows, self.state_size), dtype=np.float32)
        states[self.carried_rows] = self.carried_states
        return states

    def initial_states(self, rows: np.ndarray) -> np.ndarray:
        """The states fed to the given chunk rows (zeros for a learner's first chunk)."""
        position = self.carried_position[rows]
        states = np.zeros((len(rows), self.state_size), dtype=np.float32)
        carried = position >= 0
        states[carried] = self.carried_states[position[carried]]
        return states

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, index: int) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        rows, steps = self.batches[index]
        steps = min(steps, self.chunks.window)
        # Every batch has batch_size rows (the one short batch is padded with empty rows of
        # weight 0), so the batch dimension of the input signature is fixed.
        short = self.batch_size - len(rows)
        inputs, labels = self.chunks.batch(rows, steps, problems=self.problems)
        inputs["initial_state"] = self.initial_states(rows)
        if short > 0:
            inputs = {name: _pad_rows(array, short) for name, array in inputs.items()}
            labels = np.concatenate([labels, np.full((short, steps), -1.0, np.float32)])
        weights = np.where(
            labels < 0, 0.0, np.where(labels > 0, self.positive_weight, self.negative_weight)
        )
        return inputs, np.maximum(labels, 0.0), (weights / self.normalizer).astype(np.float32)

    def on_epoch_end(self) -> None:
        self._plan()


def _pad_rows(array: np.ndarray, rows: int) -> np.ndarray:
    return np.concatenate([array, np.zeros((rows, *array.shape[1:]), dtype=array.dtype)])


class CarriedState(keras.callbacks.Callback):
    """Carries states between chunks, scores the served validation AUC and times each epoch.

    Before the first epoch and after each one, the training learners longer than a chunk are
    replayed through the NumPy step at the current weights and every chunk gets the state its
    learner had before it. Then the validation learners are replayed in full and
    ``logs["val_auc"]`` is set, before ``EarlyStopping`` (listed after this callback) reads it.
    The epoch's ``seconds`` count the state refresh (it is training work), not the validation.
    """

    def __init__(
        self,
        dataset: ChunkBatches,
        train: SequenceSet,
        validation: SequenceSet | None,
        *,
        window: int,
        interactions: float,
        on_epoch: EpochCallback | None,
    ) -> None:
        super().__init__()
        self.dataset = dataset
        self.train = train
        self.validation = validation
        self.window = window
        self.interactions = interactions
        self.on_epoch = on_epoch
        self.long_rows = np.flatnonzero(train.lengths > window)
        self.history: list[dict[str, float]] = []
        self.train_seconds = 0.0
        self._started = 0.0

    def refresh(self) -> None:
        """Give every chunk its learner's state after the previous chunk, at today's weights."""
        if not len(self.long_rows):
            return
        with blas_single_thread():
            replay = sequences_replay(
                step_weights_export(self.model),
                self.train,
                window=self.window,
                rows=self.long_rows,
                states_only=True,
            )
        chunks = self.dataset.chunks
        if (
            replay.chunk_states is None
            or replay.chunk_offsets is None
            or chunks.chunk_index is None
        ):
            raise RuntimeError("the replay recorded no chunk states")
        carried = self.dataset.carried_rows
        rows = replay.chunk_offsets[chunks.learner_index[carried]] + chunks.chunk_index[carried]
        self.dataset.carried_states[:] = replay.chunk_states[rows]

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.refresh()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs if logs is not None else {}
        refresh_started = time.perf_counter()
        self.refresh()
        refreshed = time.perf_counter()
        seconds = refreshed - self._started
        self.train_seconds += seconds
        validation_auc = float("nan")
        if self.validation is not None and self.validation.n_learners:
            validation_auc = served_auc(self.model, self.validation)
        loss = float(logs.get("loss", float("nan")))
        logs["val_auc"] = validation_auc if math.isfinite(validation_auc) else -loss
        entry = {
            "loss": loss,
            "val_auc": validation_auc,
            "seconds": seconds,
            # The share of ``seconds`` spent carrying states (the NumPy replay after the epoch).
            "state_seconds": refreshed - refresh_started,
            "interactions_per_second": self.interactions / seconds if seconds else 0.0,
        }
        self.history.append({"epoch": float(epoch + 1), **entry})
        if self.on_epoch is not None:
            self.on_epoch(epoch + 1, entry)


@dataclass
class FitParts:
    """The pieces of a training run, as :func:`fit_prepare` builds them.

    ``model`` is the one to serve and save; ``training_model`` its compiled unmasked twin
    (:func:`adaptive.ml.dkt.dkt_training_model`, the same weights), fitted on ``dataset`` with
    the callbacks ``[carried, stopper]``.
    """

    model: keras.Model
    model_config: DKTConfig
    training_model: keras.Model
    dataset: ChunkBatches
    carried: CarriedState
    stopper: keras.callbacks.EarlyStopping


def fit_prepare(
    train: SequenceSet,
    validation: SequenceSet | None,
    *,
    config: TrainConfig,
    on_epoch: EpochCallback | None = None,
    device: str = "cpu",
) -> FitParts:
    """What :func:`dkt_train` fits (see :class:`FitParts`).

    Apart from :func:`dkt_train` for the bench, which runs epochs of it one at a time.
    """
    keras.utils.set_random_seed(config.seed)
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
        reconstruction=config.reconstruction,
        waviness_l1=config.waviness_l1,
        waviness_l2=config.waviness_l2,
    )
    if config.use_problems and train.problems is None:
        raise ValueError("use_problems=True needs sequences with problems")
    chunks = chunks_plan(train, window=config.window)
    if not chunks.n_targets:
        raise ValueError("the training learners have no scored attempt")
    dataset = ChunkBatches(
        chunks,
        batch_size=config.batch_size,
        seed=config.seed,
        problems=config.use_problems,
        state_size=model_config.state_size,
        class_weights=_class_weights(chunks, config.class_weight),
    )
    with _device_scope(device):
        model = dkt_build(model_config)
        # Served and saved: the masked model. Fitted: its unmasked twin (shared weights).
        model.compile(loss=StepBinaryCrossentropy())
        training_model = dkt_compile(
            dkt_training_model(model),
            learning_rate=config.learning_rate,
            clipnorm=config.clipnorm,
            steps_per_execution=config.steps_per_execution,
        )
        carried = CarriedState(
            dataset,
            train,
            validation,
            window=config.window,
            interactions=float(train.n_attempts),
            on_epoch=on_epoch,
        )
        stopper = keras.callbacks.EarlyStopping(
            monitor="val_auc", mode="max", patience=config.patience, restore_best_weights=True
        )
    return FitParts(model, model_config, training_model, dataset, carried, stopper)


def dkt_train(
    train: SequenceSet,
    validation: SequenceSet | None,
    *,
    config: TrainConfig,
    on_epoch: EpochCallback | None = None,
) -> TrainResult:
    """Train a DKT model on ``train`` learners; early-stop on ``validation``'s served AUC.

    ``on_epoch(epoch, logs)`` is called after every epoch (1-based) with ``loss``,
    ``val_auc`` (NaN without validation or with one class only), ``seconds`` (training and the
    state refresh, not the validation), ``state_seconds`` (the refresh alone) and
    ``interactions_per_second``. Without validation, the training loss decides.
    """
    device = device_resolve(config.device)
    parts = fit_prepare(train, validation, config=config, on_epoch=on_epoch, device=device)
    carried, stopper = parts.carried, parts.stopper
    with _device_scope(device):
        parts.training_model.fit(
            parts.dataset,
            epochs=config.epochs,
            callbacks=[carried, stopper, keras.callbacks.TerminateOnNaN()],
            verbose=0,
        )
    history = carried.history
    epochs_run = len(history)
    best_epoch = int(getattr(stopper, "best_epoch", 0)) + 1 if epochs_run else 0
    best_auc = history[best_epoch - 1]["val_auc"] if epochs_run else float("nan")
    return TrainResult(
        model=parts.model,
        model_config=parts.model_config,
        history=history,
        best_epoch=best_epoch,
        best_validation_auc=best_auc if validation is not None else float("nan"),
        seconds_per_epoch=carried.train_seconds / max(epochs_run, 1),
        interactions_per_second=(
            train.n_attempts * epochs_run / carried.train_seconds if carried.train_seconds else 0.0
        ),
        device=device,
        training_model=parts.training_model,
    )
