"""Deep knowledge tracing (Piech et al. 2015) as a backend-neutral Keras 3 model.

Graph (layer names are stable; inference and the NumPy step look them up)::

    interactions (B, T, K) --\\
    problems (B, T) ----------> interaction_embedding -> input_dropout -> recurrent (GRU|LSTM)
    initial_state (B, state) --------------------------------------------/  (carried state)
                                  -> output_dropout -> skill_logits (B, T, n_skills)
                                  [-> consistency (DKT+ regularisers, identity on its input)]
    target_skills (B, T, K) --\\
    target_problems (B, T) ---> target_readout (mean logit of the next attempt's skills
                                  + the next problem's bias) -> probability (B, T)

``initial_state`` is the recurrent state the learner had before the first step of the batch
(zeros for a history's start): training feeds each chunk of a long history the state after the
previous chunk, so the model is trained in the regime it is served in (state never reset).

Only ``keras.ops`` is used inside the layers, so the model also runs under ``KERAS_BACKEND=jax``.
The GRU keeps its default activations (tanh / sigmoid, ``reset_after=True``) and no recurrent
dropout, which is what lets TensorFlow pick the cuDNN kernel on a GPU; dropout is applied by
separate layers before and after it for the same reason.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import keras
from keras import ops

_PACKAGE = "pathwise"


@dataclass(frozen=True)
class DKTConfig:
    """Architecture hyperparameters of :func:`dkt_build`."""

    n_skills: int
    n_problems: int = 0
    embedding_dim: int = 64
    hidden_units: int = 128
    cell: str = "gru"
    dropout: float = 0.2
    l2: float = 1e-6
    problem_l2: float = 1e-6
    mixed_precision: bool = False
    # DKT+ (Yeung & Yeung 2018) regulariser weights: reconstruction of the answer just given,
    # and waviness (L1, squared L2) of the per-skill predictions between consecutive steps.
    reconstruction: float = 0.0
    waviness_l1: float = 0.0
    waviness_l2: float = 0.0

    @property
    def state_size(self) -> int:
        """Length of the carried state: ``h``, or ``h`` and ``c`` for an LSTM."""
        return self.hidden_units * (2 if self.cell == "lstm" else 1)

    @property
    def consistent(self) -> bool:
        """Whether any DKT+ regulariser is on."""
        return bool(self.reconstruction or self.waviness_l1 or self.waviness_l2)

    def as_dict(self) -> dict[str, Any]:
        """Return the hyperparameters as a JSON-ready dict."""
        return asdict(self)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class InteractionEmbedding(keras.layers.Layer):
    """Sum of the embeddings of one attempt's interaction codes, shifted by its problem.

    Input: ``interactions`` ``(B, T, K)`` or ``[interactions, problems (B, T)]``. A multi-skill
    attempt is one step whose skills' embeddings are summed; code 0 is padding and contributes
    nothing. With problems, a Rasch-style term is added (as in AKT): ``mu[problem]`` times a
    variation embedding of the same codes, one scalar per problem, so thousands of problems
    cannot memorise the training answers. The output mask marks steps with at least one non-zero
    interaction code, so an unknown problem (id 0) never masks a real attempt.
    """

    def __init__(
        self,
        n_skills: int,
        output_dim: int,
        n_problems: int = 0,
        l2: float = 0.0,
        problem_l2: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.n_skills = n_skills
        self.output_dim = output_dim
        self.n_problems = n_problems
        self.l2 = l2
        self.problem_l2 = problem_l2
        self.supports_masking = True

    def build(self, input_shape: Any) -> None:
        regularizer = keras.regularizers.L2(self.l2) if self.l2 else None
        self.skill_embeddings = self.add_weight(
            name="skill_embeddings",
            shape=(2 * self.n_skills + 1, self.output_dim),
            initializer="glorot_uniform",
            regularizer=regularizer,
        )
        if self.n_problems:
            self.variation_embeddings = self.add_weight(
                name="variation_embeddings",
                shape=(2 * self.n_skills + 1, self.output_dim),
                initializer="glorot_uniform",
                regularizer=regularizer,
            )
            self.problem_scale = self.add_weight(
                name="problem_scale",
                shape=(self.n_problems + 1,),
                initializer="zeros",
                regularizer=keras.regularizers.L2(self.problem_l2) if self.problem_l2 else None,
            )

    def _split(self, inputs: Any) -> tuple[Any, Any]:
        if isinstance(inputs, list | tuple):
            return inputs[0], (inputs[1] if len(inputs) > 1 else None)
        return inputs, None

    def call(self, inputs: Any) -> Any:
        interactions, problems = self._split(inputs)
        codes = ops.cast(interactions, "int32")
        valid = ops.expand_dims(ops.cast(ops.greater(codes, 0), self.compute_dtype), -1)
        vectors = ops.take(ops.cast(self.skill_embeddings, self.compute_dtype), codes, axis=0)
        summed = ops.sum(vectors * valid, axis=2)
        if self.n_problems and problems is not None:
            problem_ids = ops.cast(problems, "int32")
            known = ops.cast(ops.greater(problem_ids, 0), self.compute_dtype)
            scale = ops.take(ops.cast(self.problem_scale, self.compute_dtype), problem_ids, axis=0)
            variation = ops.take(
                ops.cast(self.variation_embeddings, self.compute_dtype), codes, axis=0
            )
            shift = ops.sum(variation * valid, axis=2)
            summed = summed + shift * ops.expand_dims(scale * known, -1)
        return summed

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        interactions, _ = self._split(inputs)
        return ops.any(ops.greater(interactions, 0), axis=-1)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shape = input_shape[0] if isinstance(input_shape, list) else input_shape
        return (*tuple(shape[:2]), self.output_dim)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "n_skills": self.n_skills,
                "output_dim": self.output_dim,
                "n_problems": self.n_problems,
                "l2": self.l2,
                "problem_l2": self.problem_l2,
            }
        )
        return config


@keras.saving.register_keras_serializable(package=_PACKAGE)
class TargetReadout(keras.layers.Layer):
    """Logit of the next attempt: mean of its skills' logits plus its problem's bias.

    Inputs: ``[skill_logits (B, T, S), target_skills (B, T, K)]`` and optionally
    ``target_problems (B, T)``. Target skill ids are 1-based with 0 as padding; steps without a
    target get logit 0 (their label is padding and the loss ignores them).
    """

    def __init__(self, n_problems: int = 0, l2: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n_problems = n_problems
        self.l2 = l2

    def build(self, input_shape: Any) -> None:
        if self.n_problems:
            self.problem_bias = self.add_weight(
                name="problem_bias",
                shape=(self.n_problems + 1,),
                initializer="zeros",
                regularizer=keras.regularizers.L2(self.l2) if self.l2 else None,
            )

    def call(self, inputs: Any) -> Any:
        logits, target_skills = inputs[0], inputs[1]
        logits = ops.cast(logits, "float32")
        # Column 0 stands for padding so that 1-based ids index the right skill.
        padded = ops.pad(logits, [[0, 0], [0, 0], [1, 0]])
        targets = ops.cast(target_skills, "int32")
        gathered = ops.take_along_axis(padded, targets, axis=-1)
        valid = ops.cast(ops.greater(targets, 0), "float32")
        count = ops.maximum(ops.sum(valid, axis=-1), 1.0)
        mean = ops.sum(gathered * valid, axis=-1) / count
        if self.n_problems and len(inputs) > 2:
            problems = ops.cast(inputs[2], "int32")
            known = ops.cast(ops.greater(problems, 0), "float32")
            mean = mean + ops.take(self.problem_bias, problems, axis=0) * known
        return mean

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape[0][:2])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"n_problems": self.n_problems, "l2": self.l2})
        return config


@keras.saving.register_keras_serializable(package=_PACKAGE)
class StepBinaryCrossentropy(keras.losses.Loss):
    """Binary cross-entropy of every step, summed; which steps count is the sample weight's job.

    ``Model.fit`` multiplies each step's loss by its sample weight: 0 for padding and for steps
    without a target (the mask), ``class weight / normalizer`` otherwise, so the sum is the mean
    over an average batch's targets (see ``adaptive.ml.training``).
    """

    def __init__(self, name: str = "step_binary_crossentropy", **kwargs: Any) -> None:
        kwargs.setdefault("reduction", "sum")
        super().__init__(name=name, **kwargs)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        labels = ops.cast(y_true, "float32")
        y_pred = ops.clip(ops.cast(y_pred, "float32"), 1e-7, 1.0 - 1e-7)
        return -(labels * ops.log(y_pred) + (1.0 - labels) * ops.log(1.0 - y_pred))


@keras.saving.register_keras_serializable(package=_PACKAGE)
class StepMask(keras.layers.Layer):
    """``(B, T)`` mask of the steps with at least one interaction code (0 is padding)."""

    def call(self, interactions: Any) -> Any:
        return ops.any(ops.greater(interactions, 0), axis=-1)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape[:2])


@keras.saving.register_keras_serializable(package=_PACKAGE)
class StateSplit(keras.layers.Layer):
    """Split a carried LSTM state ``(B, 2H)`` into ``[h, c]``; a GRU state passes as ``[h]``."""

    def __init__(self, units: int, cell: str = "gru", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = units
        self.cell = cell

    def call(self, state: Any) -> Any:
        state = ops.cast(state, self.compute_dtype)
        if self.cell == "lstm":
            return [state[:, : self.units], state[:, self.units :]]
        return [state]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"units": self.units, "cell": self.cell})
        return config


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ConsistencyRegularizer(keras.layers.Layer):
    """DKT+ regularisers (Yeung & Yeung 2018) added as losses; returns ``skill_logits`` as is.

    Inputs ``[skill_logits (B, T, S), interactions (B, T, K)]``. With ``y_t = sigmoid(logits_t)``
    and valid steps those with an interaction code:

    * ``reconstruction`` x BCE of the mean prediction of attempt ``t``'s own skills from ``y_t``
      against the answer just given (a right answer should not leave its skill predicted wrong);
    * ``waviness_l1`` x mean over consecutive valid steps of ``||y_t - y_{t-1}||_1 / S``;
    * ``waviness_l2`` x mean of ``||y_t - y_{t-1}||_2^2 / S``.

    The waviness terms do not cross a chunk boundary (the previous chunk's last output is not in
    the batch); at 200 steps per chunk that leaves out 1 pair in 200.
    """

    def __init__(
        self,
        n_skills: int,
        reconstruction: float = 0.0,
        waviness_l1: float = 0.0,
        waviness_l2: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.n_skills = n_skills
        self.reconstruction = reconstruction
        self.waviness_l1 = waviness_l1
        self.waviness_l2 = waviness_l2
        self.supports_masking = True

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def call(self, inputs: Any, training: Any = None) -> Any:
        logits, interactions = inputs[0], inputs[1]
        logits = ops.cast(logits, "float32")
        codes = ops.cast(interactions, "int32")
        present = ops.greater(codes, 0)
        step_valid = ops.cast(ops.any(present, axis=-1), "float32")  # (B, T)
        steps = ops.maximum(ops.sum(step_valid), 1.0)
        probabilities = ops.sigmoid(logits)
        if self.reconstruction:
            # code = skill + 1 + n_skills * correct (1-based skill), 0 = padding.
            skills = ops.where(present, ops.mod(codes - 1, self.n_skills) + 1, 0)
            answer = ops.cast(
                ops.floor_divide(ops.max(codes, axis=-1) - 1, self.n_skills), "float32"
            )
            answer = ops.clip(answer, 0.0, 1.0)
            padded = ops.pad(logits, [[0, 0], [0, 0], [1, 0]])
            own = ops.take_along_axis(padded, skills, axis=-1)
            own_valid = ops.cast(present, "float32")
            mean = ops.sum(own * own_valid, axis=-1) / ops.maximum(ops.sum(own_valid, axis=-1), 1.0)
            p = ops.clip(ops.sigmoid(mean), 1e-7, 1.0 - 1e-7)
            bce = -(answer * ops.log(p) + (1.0 - answer) * ops.log(1.0 - p))
            self.add_loss(self.reconstruction * ops.sum(bce * step_valid) / steps)
        if self.waviness_l1 or self.waviness_l2:
            difference = probabilities[:, 1:] - probabilities[:, :-1]
            pair_valid = step_valid[:, 1:] * step_valid[:, :-1]
            pairs = ops.maximum(ops.sum(pair_valid), 1.0)
            if self.waviness_l1:
                l1 = ops.sum(ops.abs(difference), axis=-1) / self.n_skills
                self.add_loss(self.waviness_l1 * ops.sum(l1 * pair_valid) / pairs)
            if self.waviness_l2:
                l2 = ops.sum(ops.square(difference), axis=-1) / self.n_skills
                self.add_loss(self.waviness_l2 * ops.sum(l2 * pair_valid) / pairs)
        return logits

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape[0])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "n_skills": self.n_skills,
                "reconstruction": self.reconstruction,
                "waviness_l1": self.waviness_l1,
                "waviness_l2": self.waviness_l2,
            }
        )
        return config


def dkt_build(config: DKTConfig) -> keras.Model:
    """Build (not compile) the DKT model described in the module docstring."""
    if config.cell not in ("gru", "lstm"):
        raise ValueError(f"cell must be 'gru' or 'lstm', not {config.cell!r}")
    previous_policy = keras.config.dtype_policy()
    if config.mixed_precision:
        keras.config.set_dtype_policy("mixed_float16")
    try:
        regularizer = keras.regularizers.L2(config.l2) if config.l2 else None
        interactions = keras.Input((None, None), dtype="int32", name="interactions")
        target_skills = keras.Input((None, None), dtype="int32", name="target_skills")
        initial_state = keras.Input((config.state_size,), dtype="float32", name="initial_state")
        inputs = {
            "interactions": interactions,
            "target_skills": target_skills,
            "initial_state": initial_state,
        }
        embedding_inputs: list = [interactions]
        if config.n_problems:
            problems = keras.Input((None,), dtype="int32", name="problems")
            target_problems = keras.Input((None,), dtype="int32", name="target_problems")
            inputs.update({"problems": problems, "target_problems": target_problems})
            embedding_inputs.append(problems)
        embedded = InteractionEmbedding(
            config.n_skills,
            config.embedding_dim,
            n_problems=config.n_problems,
            l2=config.l2,
            problem_l2=config.problem_l2,
            name="interaction_embedding",
        )(embedding_inputs)
        embedded = keras.layers.Dropout(config.dropout, name="input_dropout")(embedded)
        recurrent_class = keras.layers.GRU if config.cell == "gru" else keras.layers.LSTM
        sequence, *_states = recurrent_class(
            config.hidden_units,
            return_sequences=True,
            return_state=True,
            kernel_regularizer=regularizer,
            recurrent_regularizer=regularizer,
            name="recurrent",
        )(
            embedded,
            # Passed explicitly: with initial_state given, Keras does not forward the mask.
            mask=StepMask(name="step_mask")(interactions),
            initial_state=StateSplit(config.hidden_units, config.cell, name="state_split")(
                initial_state
            ),
        )
        hidden = keras.layers.Dropout(config.dropout, name="output_dropout")(sequence)
        logits = keras.layers.Dense(
            config.n_skills, kernel_regularizer=regularizer, dtype="float32", name="skill_logits"
        )(hidden)
        if config.consistent:
            logits = ConsistencyRegularizer(
                config.n_skills,
                reconstruction=config.reconstruction,
                waviness_l1=config.waviness_l1,
                waviness_l2=config.waviness_l2,
                name="consistency",
            )([logits, interactions])
        readout_inputs = [logits, target_skills]
        if config.n_problems:
            readout_inputs.append(inputs["target_problems"])
        readout = TargetReadout(config.n_problems, l2=config.problem_l2, name="target_readout")(
            readout_inputs
        )
        probability = keras.layers.Activation("sigmoid", dtype="float32", name="probability")(
            readout
        )
        return keras.Model(inputs=inputs, outputs=probability, name=f"dkt_{config.cell}")
    finally:
        keras.config.set_dtype_policy(previous_policy)


def dkt_training_model(model: keras.Model) -> keras.Model:
    """The same layers (shared weights) wired without the recurrent mask, for ``Model.fit``.

    Training batches are post-padded and every padded step has sample weight 0: the outputs of
    the real steps do not depend on the padding after them, so the loss and its gradients are
    the masked model's (to float round-off). The mask only keeps the final state at the last real
    step, which serving and :func:`dkt_state_model` need and training never reads; dropping it
    saves a select per step and per state in the forward and backward loops (measured: ~7% of
    a CPU train step, ``docs/knowledge-tracing.md``). Train this one, serve and save ``model``.
    """
    layer = model.get_layer
    names = {item.name for item in model.layers}
    inputs = model.input
    embedding_inputs = [inputs["interactions"]]
    if "problems" in inputs:
        embedding_inputs.append(inputs["problems"])
    embedded = layer("input_dropout")(layer("interaction_embedding")(embedding_inputs))
    sequence, *_states = layer("recurrent")(
        embedded, initial_state=layer("state_split")(inputs["initial_state"])
    )
    logits = layer("skill_logits")(layer("output_dropout")(sequence))
    if "consistency" in names:
        logits = layer("consistency")([logits, inputs["interactions"]])
    readout_inputs = [logits, inputs["target_skills"]]
    if "target_problems" in inputs:
        readout_inputs.append(inputs["target_problems"])
    probability = layer("probability")(layer("target_readout")(readout_inputs))
    return keras.Model(inputs=inputs, outputs=probability, name=f"{model.name}_training")


def dkt_compile(
    model: keras.Model,
    *,
    learning_rate: float = 1e-3,
    clipnorm: float = 1.0,
    steps_per_execution: int = 1,
) -> keras.Model:
    """Compile with Adam, gradient clipping by norm and the per-step BCE (masked by weights)."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate, clipnorm=clipnorm),
        loss=StepBinaryCrossentropy(),
        steps_per_execution=steps_per_execution,
    )
    return model


def dkt_config_from_model(model: keras.Model) -> DKTConfig:
    """Recover the :class:`DKTConfig` of a built (or loaded) DKT model from its layers."""
    embedding = model.get_layer("interaction_embedding")
    recurrent = model.get_layer("recurrent")
    return DKTConfig(
        n_skills=embedding.n_skills,
        n_problems=embedding.n_problems,
        embedding_dim=embedding.output_dim,
        hidden_units=recurrent.units,
        cell="lstm" if isinstance(recurrent, keras.layers.LSTM) else "gru",
        dropout=float(model.get_layer("input_dropout").rate),
        l2=float(embedding.l2),
        problem_l2=float(embedding.problem_l2),
        mixed_precision=model.get_layer("recurrent").dtype_policy.name == "mixed_float16",
        **_consistency_config(model),
    )


def _consistency_config(model: keras.Model) -> dict[str, float]:
    names = {layer.name for layer in model.layers}
    if "consistency" not in names:
        return {}
    layer = model.get_layer("consistency")
    return {
        "reconstruction": float(layer.reconstruction),
        "waviness_l1": float(layer.waviness_l1),
        "waviness_l2": float(layer.waviness_l2),
    }


def dkt_state_model(model: keras.Model) -> keras.Model:
    """Sub-model from the history inputs to per-step skill logits and the final recurrent state.

    Outputs ``[skill_logits (B, T, S), h (B, H)]`` for a GRU and ``[..., h, c]`` for an LSTM;
    thanks to masking the final state is the state after each row's last real attempt. The
    inputs include ``initial_state`` (zeros to start a history).
    """
    inputs = {
        "interactions": model.input["interactions"],
        "initial_state": model.input["initial_state"],
    }
    if "problems" in model.input:
        inputs["problems"] = model.input["problems"]
    _sequence, *states = model.get_layer("recurrent").output
    logits = model.get_layer("skill_logits").output
    return keras.Model(inputs=inputs, outputs=[logits, *states], name="dkt_state")
