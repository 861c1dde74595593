"""Training is serving: carried state, the served NumPy replay, Model.fit, DKT+ regularisers."""

import keras
import numpy as np
import pytest

from adaptive.ml import metrics
from adaptive.ml.bkt import BKTParams
from adaptive.ml.consistency import consistency_figures
from adaptive.ml.dkt import DKTConfig, dkt_build, dkt_compile, dkt_state_model, dkt_training_model
from adaptive.ml.inference import _history_batch
from adaptive.ml.sequences import (
    SequenceSet,
    chunks_build,
    chunks_plan,
    sequences_build,
    sequences_subset,
)
from adaptive.ml.step import sequences_replay, state_replay, step_weights_export
from adaptive.ml.training import (
    CarriedState,
    ChunkBatches,
    TrainConfig,
    blas_single_thread,
    dkt_train,
    served_auc,
)
from tests.adaptive.ml.conftest import N_PROBLEMS, N_SKILLS, planted_rows

TINY = {"embedding_dim": 8, "hidden_units": 16, "learning_rate": 0.01, "batch_size": 32}


@pytest.fixture(scope="module")
def long_sequences() -> SequenceSet:
    rows = planted_rows(n_learners=60, length=45, seed=3)
    return sequences_build(**rows, n_skills=N_SKILLS, n_problems=N_PROBLEMS)


def keras_chunked_predictions(model, sequences: SequenceSet, window: int) -> np.ndarray:
    """P(correct) of every attempt by running Keras chunk by chunk, feeding the final state on."""
    state_model = dkt_state_model(model)
    weights = step_weights_export(model)
    predictions = np.full(sequences.n_attempts, np.nan)
    for row in range(sequences.n_learners):
        one = sequences_subset(sequences, sequences.learner_ids[row : row + 1])
        state = np.zeros((1, weights.state_size), dtype=np.float32)
        start = 0
        while start < one.n_attempts:
            stop = min(start + window, one.n_attempts)
            piece = SequenceSet(
                learner_ids=one.learner_ids,
                offsets=np.array([0, stop - start]),
                skills=one.skills[start:stop],
                correct=one.correct[start:stop],
                n_skills=one.n_skills,
                problems=one.problems[start:stop],
                n_problems=one.n_problems,
            )
            inputs = _history_batch(piece, np.array([0]), stop - start)
            inputs["initial_state"] = state
            logits_before = (state[:, : weights.hidden_units] @ weights.readout_kernel)[:, None]
            logits, new_state = state_model.predict_on_batch(inputs)
            logits = np.concatenate(
                [logits_before + weights.readout_bias, np.asarray(logits)[:, :-1]], axis=1
            )[0]
            for t in range(stop - start):
                skills = one.skills[start + t][one.skills[start + t] >= 0]
                problem = one.problems[start + t]
                value = logits[t][skills].mean() + weights.problem_bias[problem] * (problem > 0)
                predictions[sequences.offsets[row] + start + t] = 1 / (1 + np.exp(-value))
            state = np.asarray(new_state)
            start = stop
    return predictions


def test_the_served_replay_equals_keras_run_chunk_by_chunk_with_the_state_carried(
    long_sequences: SequenceSet,
):
    model = dkt_build(
        DKTConfig(n_skills=N_SKILLS, n_problems=N_PROBLEMS, embedding_dim=4, hidden_units=6)
    )
    sample = sequences_subset(long_sequences, long_sequences.learner_ids[:3])
    replay = sequences_replay(step_weights_export(model), sample)
    np.testing.assert_allclose(
        replay.predictions, keras_chunked_predictions(model, sample, window=10), atol=1e-5
    )
    # and the replay's final states are those of the one-learner reference replay
    skills = [[int(s) for s in r if s >= 0] for r in sample.skills[: sample.offsets[1]]]
    state, _ = state_replay(
        step_weights_export(model),
        skills,
        sample.correct[: sample.offsets[1]],
        sample.problems[: sample.offsets[1]],
    )
    np.testing.assert_allclose(replay.final_states[0], state, atol=1e-5)


def test_each_chunk_is_fed_its_learners_state_after_the_previous_chunk(long_sequences):
    # given a model and the training chunks of 45-attempt histories in windows of 10
    model = dkt_build(
        DKTConfig(n_skills=N_SKILLS, n_problems=N_PROBLEMS, embedding_dim=4, hidden_units=6)
    )
    chunks = chunks_build(long_sequences, window=10)
    dataset = ChunkBatches(chunks, batch_size=16, seed=0, problems=True, state_size=6)
    carried = CarriedState(
        dataset, long_sequences, None, window=10, interactions=1.0, on_epoch=None
    )
    carried.set_model(model)
    # when the states are refreshed
    carried.refresh()
    # then a first chunk starts from zeros and chunk c from the state after 10 * c attempts
    weights = step_weights_export(model)
    assert not dataset.states[chunks.chunk_index == 0].any()
    for row in np.flatnonzero(chunks.chunk_index > 0)[:5]:
        learner, chunk = chunks.learner_index[row], chunks.chunk_index[row]
        start = long_sequences.offsets[learner]
        stop = start + 10 * chunk
        skills = [[int(s) for s in r if s >= 0] for r in long_sequences.skills[start:stop]]
        expected, _ = state_replay(
            weights, skills, long_sequences.correct[start:stop], long_sequences.problems[start:stop]
        )
        np.testing.assert_allclose(dataset.states[row], expected, atol=1e-5)
    # and every batch has the full batch size, padding rows weighing nothing
    inputs, labels, weight = dataset[len(dataset) - 1]
    assert inputs["initial_state"].shape == (16, 6)
    assert labels.shape[0] == 16
    assert weight.sum() * dataset.normalizer == pytest.approx(
        float((chunks.labels[dataset.batches[-1][0], : labels.shape[1]] >= 0).sum())
    )


def test_fit_with_carried_state_learns_and_early_stopping_restores_the_best_epoch(
    long_sequences: SequenceSet,
):
    ids = long_sequences.learner_ids
    train, validation = (
        sequences_subset(long_sequences, ids[:45]),
        sequences_subset(long_sequences, ids[45:]),
    )
    result = dkt_train(
        train,
        validation,
        config=TrainConfig(epochs=6, patience=2, window=10, use_problems=True, **TINY),
    )
    history = [entry["val_auc"] for entry in result.history]
    assert result.best_validation_auc == max(history)
    assert result.history[result.best_epoch - 1]["val_auc"] == max(history)
    # the restored weights are the best epoch's: the served AUC is recomputed identical
    assert served_auc(result.model, validation) == pytest.approx(max(history), abs=1e-6)
    assert max(history) > 0.8


def test_dkt_plus_regularisers_smooth_the_predictions(long_sequences: SequenceSet):
    ids = long_sequences.learner_ids
    train, test = (
        sequences_subset(long_sequences, ids[:45]),
        sequences_subset(long_sequences, ids[45:]),
    )
    figures = {}
    for name, weights in {"plain": (0.0, 0.0, 0.0), "dktplus": (0.5, 0.3, 10.0)}.items():
        config = TrainConfig(
            epochs=3,
            window=10,
            reconstruction=weights[0],
            waviness_l1=weights[1],
            waviness_l2=weights[2],
            **TINY,
        )
        result = dkt_train(train, None, config=config)
        if name == "dktplus":
            assert result.model.get_layer("consistency").waviness_l2 == 10.0
            assert len(result.model.losses) >= 3
        figures[name] = consistency_figures(test, step_weights=step_weights_export(result.model))
    assert figures["dktplus"]["w1"] < figures["plain"]["w1"]
    assert figures["dktplus"]["w2"] < figures["plain"]["w2"]


def test_bkt_never_lowers_a_skill_after_a_right_answer():
    sequences = sequences_build(
        learners=[1] * 6 + [2] * 4,
        times=list(range(6)) + list(range(4)),
        skills=[[0], [1], [0, 1], [2], [0], [2], [1], [1], [2], [0]],
        correct=[1, 0, 1, 1, 0, 1, 1, 1, 0, 1],
        n_skills=3,
    )
    figures = consistency_figures(sequences, bkt=BKTParams.default(3))
    assert figures["right_down"] == 0.0
    assert figures["others_change"] == 0.0
    assert figures["steps"] == 10


def test_the_bootstrap_interval_brackets_the_auc_and_narrows_with_more_learners():
    rng = np.random.default_rng(0)

    def sample(learners: int):
        groups = np.repeat(np.arange(learners), 20)
        labels = rng.integers(0, 2, size=len(groups))
        predictions = np.clip(labels * 0.3 + rng.random(len(groups)) * 0.7, 0, 1)
        return labels, predictions, groups

    few = sample(20)
    many = sample(400)
    low_few, high_few = metrics.auc_bootstrap(*few, resamples=100)
    low_many, high_many = metrics.auc_bootstrap(*many, resamples=100)
    assert low_few < metrics.auc(few[0], few[1]) < high_few
    assert low_many < metrics.auc(many[0], many[1]) < high_many
    assert high_many - low_many < (high_few - low_few) / 2


def test_served_targets_skip_each_learners_first_attempt(long_sequences: SequenceSet):
    labels, _predictions, learners = metrics.served_targets(
        long_sequences, np.full(long_sequences.n_attempts, 0.5)
    )
    assert len(labels) == long_sequences.n_attempts - long_sequences.n_learners
    assert np.bincount(learners).tolist() == (long_sequences.lengths - 1).tolist()


def varied_sequences() -> SequenceSet:
    """Learners of 3 to 60 attempts: many distinct chunk lengths in windows of 20."""
    rng = np.random.default_rng(5)
    rows = planted_rows(n_learners=80, length=60, seed=9)
    keep_until = {learner: int(rng.integers(3, 61)) for learner in range(80)}
    kept = [
        i
        for i, (learner, t) in enumerate(zip(rows["learners"], rows["times"], strict=True))
        if t < keep_until[learner]
    ]
    return sequences_build(
        **{name: [values[i] for i in kept] for name, values in rows.items()},
        n_skills=N_SKILLS,
        n_problems=N_PROBLEMS,
    )


def test_batches_are_padded_to_their_longest_chunk_under_tensorflow():
    # given chunks of many different lengths
    chunks = chunks_build(varied_sequences(), window=20)
    assert len(set(chunks.lengths.tolist())) > 10
    # when they are batched for fit under TensorFlow
    dataset = ChunkBatches(chunks, batch_size=8, seed=0, problems=True, state_size=6)
    # then each batch is exactly as long as its longest chunk (no rounding up to 25 steps)
    assert dataset.granularity == 1
    for index, (rows, steps) in enumerate(dataset.batches):
        assert steps == chunks.lengths[rows].max()
        inputs, labels, _weights = dataset[index]
        assert inputs["interactions"].shape[1] == labels.shape[1] == steps
    # and a backend that compiles per shape rounds lengths up to a few sizes
    rounded = ChunkBatches(
        chunks, batch_size=8, seed=0, problems=True, state_size=6, granularity=25
    )
    assert {steps for _rows, steps in rounded.batches} <= {25}


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow tracing")
def test_fit_traces_the_train_step_once_whatever_the_batch_lengths():
    # given training learners whose chunks have many different lengths
    sequences = varied_sequences()
    config = TrainConfig(epochs=2, window=20, use_problems=True, **{**TINY, "batch_size": 8})
    # when the model is fitted for two epochs (each epoch reshuffles the batches)
    result = dkt_train(sequences, None, config=config)
    # then the compiled train function was traced once, its time dimension left open
    assert len(result.history) == 2
    compiled = [
        cell.cell_contents
        for cell in result.training_model.train_function.__closure__ or ()
        if hasattr(cell.cell_contents, "experimental_get_tracing_count")
    ]
    assert compiled
    assert [function.experimental_get_tracing_count() for function in compiled] == [1] * len(
        compiled
    )


def test_the_replays_run_the_blas_pool_on_one_thread():
    from threadpoolctl import threadpool_info

    def blas_threads() -> set[int]:
        return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}

    before = blas_threads()
    with blas_single_thread():
        assert blas_threads() == {1}
    assert blas_threads() == before


def test_the_lazy_chunk_plan_builds_exactly_the_materialised_chunks():
    # given learners of many lengths with multi-skill attempts and problems
    sequences = varied_sequences()
    eager = chunks_build(sequences, window=20)
    # when the same chunks are planned as offsets and padded batch by batch
    plan = chunks_plan(sequences, window=20)
    # then rows, lengths, learners, chunk numbers and targets are the same
    assert plan.n_windows == eager.n_windows
    for name in ("lengths", "learner_index", "chunk_index"):
        np.testing.assert_array_equal(getattr(plan, name), getattr(eager, name))
    assert plan.n_targets == eager.n_targets
    assert plan.target_rate() == pytest.approx(eager.target_rate())
    # and any batch of rows, cut to any length, equals the materialised arrays
    rng = np.random.default_rng(0)
    for steps in (20, 13, 1):
        rows = rng.choice(eager.n_windows, size=9, replace=False)
        inputs, labels = plan.batch(rows, steps, problems=True)
        expected_inputs, expected_labels = eager.batch(rows, steps, problems=True)
        np.testing.assert_array_equal(labels, expected_labels)
        assert inputs.keys() == expected_inputs.keys()
        for name, array in inputs.items():
            np.testing.assert_array_equal(array, expected_inputs[name], err_msg=name)
            assert array.dtype == expected_inputs[name].dtype
    # and the dataset feeds the same batches from either form
    lazy = ChunkBatches(plan, batch_size=8, seed=3, problems=True, state_size=6)
    materialised = ChunkBatches(eager, batch_size=8, seed=3, problems=True, state_size=6)
    for index in range(len(lazy)):
        for got, want in zip(lazy[index], materialised[index], strict=True):
            if isinstance(got, dict):
                for name in got:
                    np.testing.assert_array_equal(got[name], want[name])
            else:
                np.testing.assert_array_equal(got, want)


def test_the_unmasked_training_twin_takes_the_masked_models_training_step(
    long_sequences: SequenceSet,
):
    # given two identical masked models (no dropout, so a step is deterministic)
    config = DKTConfig(
        n_skills=N_SKILLS, n_problems=N_PROBLEMS, embedding_dim=4, hidden_units=6, dropout=0.0
    )
    masked = dkt_build(config)
    served = dkt_build(config)
    served.set_weights(masked.get_weights())
    twin = dkt_training_model(served)
    dkt_compile(masked, learning_rate=0.05)
    dkt_compile(twin, learning_rate=0.05)
    # and a post-padded batch of chunks of different lengths, padding weighing nothing
    dataset = ChunkBatches(
        chunks_plan(long_sequences, window=10), batch_size=16, seed=0, problems=True, state_size=6
    )
    inputs, labels, weights = dataset[0]
    inputs["interactions"][:5, 6:] = 0  # five rows end early: padding after step 6
    weights[:5, 5:] = 0.0
    # when each takes one training step on it
    loss_masked = masked.train_on_batch(inputs, labels, sample_weight=weights)
    loss_twin = twin.train_on_batch(inputs, labels, sample_weight=weights)
    # then the loss and the updated weights are the same, and the served model has them
    assert float(np.asarray(loss_twin)) == pytest.approx(float(np.asarray(loss_masked)), rel=1e-5)
    for got, want in zip(served.get_weights(), masked.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    # while the twin's recurrent layer really runs unmasked (padded outputs are not held)
    assert "step_mask" not in {layer.name for layer in twin.layers}
