import numpy as np
import pytest

from adaptive.ml import metrics
from adaptive.ml.bkt import (
    BKTParams,
    bkt_fit,
    bkt_mastery,
    bkt_predict_correct,
    bkt_predict_sequences,
    bkt_predict_windows,
    bkt_simulate,
    bkt_update,
)
from adaptive.ml.sequences import sequences_build, windows_build

TRUE = BKTParams(
    prior=np.array([0.2, 0.5, 0.3]),
    learn=np.array([0.15, 0.05, 0.3]),
    guess=np.array([0.2, 0.25, 0.1]),
    slip=np.array([0.1, 0.05, 0.15]),
)


def test_em_recovers_the_parameters_that_generated_the_data():
    # given 3,000 simulated learners of 20 attempts each
    sequences = sequences_build(
        **bkt_simulate(TRUE, n_learners=3000, length=20, seed=1), n_skills=3
    )
    # when
    fitted = bkt_fit(sequences, initial=BKTParams.default(3))
    # then
    for name in ("prior", "learn", "guess", "slip"):
        np.testing.assert_allclose(getattr(fitted, name), getattr(TRUE, name), atol=0.03)


def test_update_is_bayes_rule_then_the_learning_transition():
    params = BKTParams.default(2, prior=0.4, learn=0.1, guess=0.2, slip=0.1)
    mastery = np.array([0.4, 0.4])
    after_correct = bkt_update(params, mastery, [0], correct=True)
    after_wrong = bkt_update(params, mastery, [1], correct=False)
    posterior_correct = 0.4 * 0.9 / (0.4 * 0.9 + 0.6 * 0.2)
    posterior_wrong = 0.4 * 0.1 / (0.4 * 0.1 + 0.6 * 0.8)
    assert after_correct[0] == pytest.approx(posterior_correct + (1 - posterior_correct) * 0.1)
    assert after_correct[1] == pytest.approx(0.4)
    assert after_wrong[1] == pytest.approx(posterior_wrong + (1 - posterior_wrong) * 0.1)
    assert bkt_predict_correct(params, mastery, [0, 1]) == pytest.approx(0.4 * 0.9 + 0.6 * 0.2)


def test_predictions_use_only_the_state_before_each_attempt():
    params = BKTParams.default(2, prior=0.4, learn=0.1, guess=0.2, slip=0.1)
    sequences = sequences_build(
        learners=[1, 1, 1],
        times=[0, 1, 2],
        skills=[[0], [0, 1], [1]],
        correct=[1, 0, 1],
        n_skills=2,
    )
    mastery = params.prior.copy()
    expected = []
    for skills, answer in (([0], 1), ([0, 1], 0), ([1], 1)):
        expected.append(bkt_predict_correct(params, mastery, skills))
        mastery = bkt_update(params, mastery, skills, answer)
    np.testing.assert_allclose(bkt_predict_sequences(params, sequences), expected)
    np.testing.assert_allclose(bkt_mastery(params, sequences)[0], mastery)
    windows = windows_build(sequences)
    np.testing.assert_allclose(bkt_predict_windows(params, windows)[0, :2], expected[1:], rtol=1e-6)


def test_fitted_bkt_predicts_simulated_answers_better_than_chance():
    sequences = sequences_build(**bkt_simulate(TRUE, n_learners=500, length=20, seed=4), n_skills=3)
    windows = windows_build(sequences)
    predictions = bkt_predict_windows(bkt_fit(windows), windows)
    assert metrics.auc(*metrics.flatten_targets(windows.labels, predictions)) > 0.75


def test_params_round_trip_through_a_dict():
    assert BKTParams.from_dict(TRUE.as_dict()).as_dict() == TRUE.as_dict()
