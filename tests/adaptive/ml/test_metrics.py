import math

import numpy as np
import pytest

from adaptive.ml import metrics

Y = np.array([1, 0, 1, 1, 0])
P = np.array([0.9, 0.6, 0.6, 0.2, 0.1])


def test_auc_counts_ties_as_one_half():
    # pairs (pos, neg): (0.9 > 0.6, 0.9 > 0.1, 0.6 = 0.6, 0.6 > 0.1, 0.2 < 0.6, 0.2 > 0.1)
    assert metrics.auc(Y, P) == pytest.approx(4.5 / 6)


def test_auc_is_nan_with_one_class():
    assert math.isnan(metrics.auc(np.array([1, 1]), np.array([0.2, 0.4])))


def test_accuracy_precision_recall_at_one_half():
    # predicted 1 at >= 0.5: [1, 1, 1, 0, 0]
    assert metrics.accuracy(Y, P) == pytest.approx(3 / 5)
    assert metrics.precision(Y, P) == pytest.approx(2 / 3)
    assert metrics.recall(Y, P) == pytest.approx(2 / 3)


def test_rmse_and_bce_on_a_hand_computed_case():
    y = np.array([1, 0])
    p = np.array([0.8, 0.4])
    assert metrics.rmse(y, p) == pytest.approx(math.sqrt((0.04 + 0.16) / 2))
    assert metrics.bce(y, p) == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2)


def test_expected_calibration_error_weights_bins_by_size():
    y = np.array([1, 0, 1, 1])
    p = np.array([0.15, 0.15, 0.95, 0.95])
    # bin 1: confidence 0.15, accuracy 0.5; bin 9: confidence 0.95, accuracy 1.0
    assert metrics.expected_calibration_error(y, p) == pytest.approx(0.5 * 0.35 + 0.5 * 0.05)


def test_per_skill_auc_skips_skills_with_one_class():
    skills = np.array([1, 1, 2, 2, 3])
    y = np.array([1, 0, 0, 1, 1])
    p = np.array([0.7, 0.3, 0.8, 0.2, 0.5])
    assert metrics.per_skill_auc(y, p, skills) == {1: 1.0, 2: 0.0}


def test_flatten_targets_drops_padding():
    labels = np.array([[1, 0, -1], [0, -1, -1]])
    predictions = np.array([[0.9, 0.2, 0.5], [0.4, 0.5, 0.5]])
    y, p = metrics.flatten_targets(labels, predictions)
    assert y.tolist() == [1, 0, 0]
    assert p.tolist() == [0.9, 0.2, 0.4]


def test_summary_flags_non_finite_predictions():
    summary = metrics.metrics_summary(np.array([1, 0]), np.array([np.nan, 0.1]))
    assert summary["finite"] == 0.0
    assert math.isnan(summary["auc"])
