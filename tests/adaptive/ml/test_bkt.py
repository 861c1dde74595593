import numpy as np
import pytest

from adaptive.ml import bkt, metrics
from adaptive.ml.bkt import (
    BKTParams,
    bkt_fit,
    bkt_fit_windows,
    bkt_mastery,
    bkt_predict_correct,
    bkt_predict_sequences,
    bkt_predict_windows,
    bkt_simulate,
    bkt_update,
)
from adaptive.ml.sequences import sequences_build, window_spans, windows_build

from .bkt_padded import (
    padded_fit,
    padded_mastery,
    padded_predict_sequences,
    padded_predict_windows,
)

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


def _varied_sequences(seed: int, n_learners: int = 120, n_skills: int = 7):
    """Learners of 1-450 attempts (several windows of 200 for some), one to three skills per
    attempt, answers drawn from a per-learner ability: long and short chains, multi-skill steps."""
    rng = np.random.default_rng(seed)
    rows: dict[str, list] = {"learners": [], "times": [], "skills": [], "correct": []}
    for learner in range(n_learners):
        ability = rng.random()
        favourite = int(rng.integers(n_skills))
        # Trailing windows of 3 and 4 attempts too (kept or dropped by min_length).
        choices = [1, 2, 3, 5, 34, 40, 53, 201, 450]
        length = rng.choice(choices, p=[0.1, 0.1, 0.1, 0.2, 0.1, 0.2, 0.1, 0.05, 0.05])
        for t in range(int(length)):
            width = int(rng.choice([1, 2, 3], p=[0.7, 0.2, 0.1]))
            first = favourite if rng.random() < 0.5 else int(rng.integers(n_skills))
            skills = sorted({first, *rng.integers(n_skills, size=width - 1).tolist()})
            rows["learners"].append(learner)
            rows["times"].append(t)
            rows["skills"].append(skills)
            rows["correct"].append(int(rng.random() < 0.3 + 0.6 * ability * (1 + t / 500) / 2))
    return sequences_build(**rows, n_skills=n_skills, min_length=1)


def _assert_same_params(got: BKTParams, expected: BKTParams) -> None:
    for name in ("prior", "learn", "guess", "slip"):
        np.testing.assert_allclose(getattr(got, name), getattr(expected, name), rtol=1e-9)


@pytest.mark.parametrize(
    ("batch_steps", "slice_cells", "n_learners"),
    [(1 << 18, 1 << 20, 120), (97, 300, 40), (1, 1, 12)],
)
def test_batched_em_fits_the_parameters_of_the_padded_em(
    monkeypatch, batch_steps, slice_cells, n_learners
):
    # given varied learners, and batches and slices far smaller than the data (or one of each)
    monkeypatch.setattr(bkt, "_BATCH_STEPS", batch_steps)
    monkeypatch.setattr(bkt, "_SLICE_CELLS", slice_cells)
    sequences = _varied_sequences(seed=3, n_learners=n_learners)
    windows = windows_build(sequences, window=50, min_length=3)
    options = {"iterations": 6, "tolerance": 0}
    # when fitted per learner, per materialised window and per window span of the sequences
    by_learner = bkt_fit(sequences, **options)
    by_window = bkt_fit(windows, **options)
    by_span = bkt_fit_windows(sequences, window=50, min_length=3, **options)
    # then each equals the EM over every chain padded at once (the implementation of before)
    _assert_same_params(by_learner, padded_fit(sequences, **options))
    _assert_same_params(by_window, padded_fit(windows, **options))
    _assert_same_params(by_span, padded_fit(windows, **options))
    assert not np.allclose(by_span.learn, by_learner.learn)  # the window resets matter here


def test_batched_em_stops_where_the_padded_em_stops():
    sequences = _varied_sequences(seed=8)
    _assert_same_params(
        bkt_fit_windows(sequences), padded_fit(windows_build(sequences), iterations=50)
    )


def test_window_spans_are_the_rows_of_windows_build():
    sequences = _varied_sequences(seed=5)
    windows = windows_build(sequences, window=30, min_length=4)
    starts, lengths, learners = window_spans(sequences, window=30, min_length=4)
    np.testing.assert_array_equal(lengths, windows.lengths)
    np.testing.assert_array_equal(learners, windows.learner_index)
    first = windows.interactions[:, 0, 0]
    skills, correct = sequences.skills[starts, 0], sequences.correct[starts]
    np.testing.assert_array_equal(first, skills + 1 + sequences.n_skills * correct)


def test_batched_predictions_and_mastery_equal_the_padded_ones(monkeypatch):
    monkeypatch.setattr(bkt, "_BATCH_STEPS", 53)
    monkeypatch.setattr(bkt, "_SLICE_CELLS", 211)
    sequences = _varied_sequences(seed=6)
    windows = windows_build(sequences, window=40)
    params = padded_fit(windows, iterations=5)
    np.testing.assert_allclose(
        bkt_predict_sequences(params, sequences),
        padded_predict_sequences(params, sequences),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        bkt_predict_windows(params, windows), padded_predict_windows(params, windows), rtol=1e-6
    )
    np.testing.assert_allclose(
        bkt_mastery(params, sequences), padded_mastery(params, sequences), rtol=1e-12
    )
