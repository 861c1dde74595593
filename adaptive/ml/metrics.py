"""Evaluation metrics for next-attempt correctness predictions, in plain NumPy.

All functions take ``y_true`` (0/1) and ``y_pred`` (probabilities) as 1-D arrays of equal length.
Padding must be removed first (:func:`flatten_targets` does that for window-shaped arrays).
"""

from __future__ import annotations

from typing import Any

import numpy as np

_EPSILON = 1e-7


def flatten_targets(labels: np.ndarray, predictions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep the positions whose label is not padding (``-1``) and flatten both arrays."""
    labels = np.asarray(labels)
    mask = labels >= 0
    return labels[mask].astype(np.float64), np.asarray(predictions)[mask].astype(np.float64)


def served_targets(
    sequences: Any, predictions: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels, predictions and learner rows of every attempt but each learner's first.

    ``predictions`` holds one P(correct) per attempt of ``sequences`` (a ``SequenceSet``, duck-
    typed) predicted from the learner's whole earlier history, as serving does
    (:func:`adaptive.ml.step.sequences_replay`, :func:`adaptive.ml.bkt.bkt_predict_sequences`).
    Non-finite predictions are kept: the gate must see them.
    """
    offsets = np.asarray(sequences.offsets)
    lengths = np.diff(offsets)
    learner = np.repeat(np.arange(len(lengths)), lengths)
    first = np.zeros(int(offsets[-1]), dtype=bool)
    first[offsets[:-1][lengths > 0]] = True
    predictions = np.asarray(predictions, dtype=np.float64)
    scored = ~first
    return (
        np.asarray(sequences.correct)[scored].astype(np.float64),
        predictions[scored],
        learner[scored],
    )


def auc_bootstrap(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray,
    *,
    resamples: int = 200,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the AUC, resampling whole groups (learners).

    Attempts of one learner are not independent, so learners, not attempts, are drawn with
    replacement; each draw weighs a learner's targets by how often it was drawn. Returns
    ``(low, high)``, NaN when fewer than two groups or one class only.
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    unique, group_index = np.unique(np.asarray(groups), return_inverse=True)
    if len(unique) < 2 or y_true.min(initial=0) == y_true.max(initial=0):
        return float("nan"), float("nan")
    order = np.argsort(y_pred, kind="mergesort")
    sorted_pred, sorted_true, sorted_group = y_pred[order], y_true[order], group_index[order]
    _, tie_start = np.unique(sorted_pred, return_index=True)
    tie_id = np.repeat(np.arange(len(tie_start)), np.diff(np.append(tie_start, len(sorted_pred))))
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        counts = np.bincount(rng.integers(len(unique), size=len(unique)), minlength=len(unique))
        weight = counts[sorted_group].astype(np.float64)
        positive, negative = weight * sorted_true, weight * (1.0 - sorted_true)
        total_positive, total_negative = positive.sum(), negative.sum()
        if total_positive == 0 or total_negative == 0:
            continue
        negative_per_tie = np.bincount(tie_id, weights=negative)
        below = np.concatenate([[0.0], np.cumsum(negative_per_tie)[:-1]])
        # A positive beats the negatives of lower scores and ties with half of its own score's.
        credit = below[tie_id] + 0.5 * negative_per_tie[tie_id]
        values.append(float((positive * credit).sum() / (total_positive * total_negative)))
    if not values:
        return float("nan"), float("nan")
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


def auc(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U, ties count one half); NaN with one class only."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    positives = float(y_true.sum())
    negatives = float(len(y_true) - positives)
    if positives == 0 or negatives == 0:
        return float("nan")
    order = np.argsort(y_pred, kind="mergesort")
    sorted_pred = y_pred[order]
    # Average ranks over ties so that equal scores contribute one half.
    _, first, counts = np.unique(sorted_pred, return_index=True, return_counts=True)
    average_rank = first + (counts + 1) / 2.0
    ranks = np.empty(len(y_pred), dtype=np.float64)
    ranks[order] = np.repeat(average_rank, counts)
    rank_sum = float(ranks[y_true == 1].sum())
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


def accuracy(y_true: np.ndarray, y_pred: np.ndarray, threshold: float = 0.5) -> float:
    """Share of predictions on the right side of ``threshold`` (``>= threshold`` means 1)."""
    predicted = np.asarray(y_pred) >= threshold
    return float(np.mean(predicted == (np.asarray(y_true) == 1)))


def precision(y_true: np.ndarray, y_pred: np.ndarray, threshold: float = 0.5) -> float:
    """True positives over predicted positives; NaN when nothing is predicted positive."""
    predicted = np.asarray(y_pred) >= threshold
    if not predicted.any():
        return float("nan")
    return float(np.mean(np.asarray(y_true)[predicted] == 1))


def recall(y_true: np.ndarray, y_pred: np.ndarray, threshold: float = 0.5) -> float:
    """True positives over actual positives; NaN when there are no positives."""
    actual = np.asarray(y_true) == 1
    if not actual.any():
        return float("nan")
    return float(np.mean(np.asarray(y_pred)[actual] >= threshold))


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root mean squared error between labels and probabilities."""
    diff = np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64)
    return float(np.sqrt(np.mean(diff**2)))


def bce(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean binary cross-entropy in nats, with probabilities clipped to [1e-7, 1 - 1e-7]."""
    y_true = np.asarray(y_true, dtype=np.float64)
    p = np.clip(np.asarray(y_pred, dtype=np.float64), _EPSILON, 1 - _EPSILON)
    return float(-np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)))


def expected_calibration_error(y_true: np.ndarray, y_pred: np.ndarray, bins: int = 10) -> float:
    """ECE over ``bins`` equal-width bins: sum of |accuracy - confidence| weighted by bin size."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    # The top edge belongs to the last bin, so p = 1.0 is not lost.
    index = np.minimum((y_pred * bins).astype(int), bins - 1)
    total = 0.0
    for b in np.unique(index):
        in_bin = index == b
        total += in_bin.mean() * abs(y_true[in_bin].mean() - y_pred[in_bin].mean())
    return float(total)


def per_skill_auc(y_true: np.ndarray, y_pred: np.ndarray, skills: np.ndarray) -> dict[int, float]:
    """AUC for each skill id that has both classes among its targets."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    skills = np.asarray(skills)
    result: dict[int, float] = {}
    for skill in np.unique(skills):
        chosen = skills == skill
        value = auc(y_true[chosen], y_pred[chosen])
        if not np.isnan(value):
            result[int(skill)] = value
    return result


def metrics_summary(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """All scalar metrics in one dict: auc, acc, precision, recall, rmse, bce, ece, n, finite."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    finite = bool(np.isfinite(y_pred).all())
    if not finite or len(y_true) == 0:
        nan = float("nan")
        return {
            "auc": nan,
            "acc": nan,
            "precision": nan,
            "recall": nan,
            "rmse": nan,
            "bce": nan,
            "ece": nan,
            "n": float(len(y_true)),
            "finite": float(finite),
        }
    return {
        "auc": auc(y_true, y_pred),
        "acc": accuracy(y_true, y_pred),
        "precision": precision(y_true, y_pred),
        "recall": recall(y_true, y_pred),
        "rmse": rmse(y_true, y_pred),
        "bce": bce(y_true, y_pred),
        "ece": expected_calibration_error(y_true, y_pred),
        "n": float(len(y_true)),
        "finite": 1.0,
    }
