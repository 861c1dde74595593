import numpy as np
import pytest

from adaptive.ml.dkt import DKTConfig, dkt_build
from adaptive.ml.inference import mastery_batch
from adaptive.ml.sequences import SequenceSet, sequences_build, sequences_subset
from adaptive.ml.step import (
    state_initial,
    state_replay,
    state_update,
    state_update_batch,
    step_weights_export,
)
from adaptive.ml.training import TrainResult


def history(sequences: SequenceSet, row: int) -> tuple[list[list[int]], np.ndarray, np.ndarray]:
    start, stop = sequences.offsets[row], sequences.offsets[row + 1]
    skills = [[int(s) for s in r if s >= 0] for r in sequences.skills[start:stop]]
    return skills, sequences.correct[start:stop], sequences.problems[start:stop]


def test_one_step_update_equals_a_full_replay(
    trained_gru: TrainResult, planted_sequences: SequenceSet
):
    # given a learner's stored state after all but the last attempt
    weights = step_weights_export(trained_gru.model)
    learners = sequences_subset(planted_sequences, planted_sequences.learner_ids[:6])
    full = mastery_batch(trained_gru.model, learners)
    for row in range(learners.n_learners):
        skills, correct, problems = history(learners, row)
        stored_state, _ = state_replay(weights, skills[:-1], correct[:-1], problems[:-1])
        # when one more attempt arrives
        state, mastery = state_update(weights, stored_state, skills[-1], correct[-1], problems[-1])
        # then it equals Keras replaying the whole history
        np.testing.assert_allclose(state, full.states[row], atol=1e-5)
        np.testing.assert_allclose(mastery, full.mastery[row], atol=1e-5)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_numpy_replay_matches_keras_for_both_cells_with_multi_skill_steps(cell: str):
    model = dkt_build(
        DKTConfig(n_skills=4, n_problems=5, embedding_dim=3, hidden_units=5, cell=cell)
    )
    sequences = sequences_build(
        learners=[1] * 6,
        times=list(range(6)),
        skills=[[0, 2], [1], [3], [0, 1, 2], [2], [1]],
        correct=[1, 0, 1, 1, 0, 1],
        problems=[1, 2, 0, 3, 5, 4],
        n_skills=4,
        n_problems=5,
    )
    full = mastery_batch(model, sequences)
    skills, correct, problems = history(sequences, 0)
    state, mastery = state_replay(step_weights_export(model), skills, correct, problems)
    assert state.shape == ((10,) if cell == "lstm" else (5,))
    np.testing.assert_allclose(state, full.states[0], atol=1e-5)
    np.testing.assert_allclose(mastery, full.mastery[0], atol=1e-5)


def test_initial_mastery_is_the_readout_of_a_zero_state(trained_gru: TrainResult):
    weights = step_weights_export(trained_gru.model)
    state, mastery = state_initial(weights)
    assert (state == 0).all()
    np.testing.assert_allclose(mastery, 1 / (1 + np.exp(-weights.readout_bias)), rtol=1e-6)


def test_batch_update_equals_single_updates(trained_gru: TrainResult):
    weights = step_weights_export(trained_gru.model)
    rng = np.random.default_rng(0)
    states = rng.normal(size=(3, weights.state_size)).astype(np.float32)
    skills = [[0], [1, 4], [5]]
    correct = np.array([1, 0, 1])
    problems = np.array([1, 0, 12])
    batch_states, batch_mastery = state_update_batch(weights, states, skills, correct, problems)
    for i in range(3):
        state, mastery = state_update(weights, states[i], skills[i], correct[i], problems[i])
        np.testing.assert_allclose(batch_states[i], state, atol=1e-6)
        np.testing.assert_allclose(batch_mastery[i], mastery, atol=1e-6)


def test_batch_mastery_covers_histories_longer_than_a_window():
    rng = np.random.default_rng(3)
    model = dkt_build(DKTConfig(n_skills=3, embedding_dim=3, hidden_units=4))
    lengths = {"long": 260, "short": 4}
    rows = {"learners": [], "times": [], "skills": [], "correct": []}
    for learner, length in lengths.items():
        for t in range(length):
            rows["learners"].append(learner)
            rows["times"].append(t)
            rows["skills"].append([int(rng.integers(3))])
            rows["correct"].append(int(rng.integers(2)))
    sequences = sequences_build(**rows, n_skills=3)
    full = mastery_batch(model, sequences)
    weights = step_weights_export(model)
    for row in range(2):
        start, stop = sequences.offsets[row], sequences.offsets[row + 1]
        skills = [[int(s) for s in r if s >= 0] for r in sequences.skills[start:stop]]
        state, mastery = state_replay(weights, skills, sequences.correct[start:stop])
        np.testing.assert_allclose(state, full.states[row], atol=1e-5)
        np.testing.assert_allclose(mastery, full.mastery[row], atol=1e-5)
