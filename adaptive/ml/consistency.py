"""How believable a knowledge-tracing model's per-skill predictions are, step by step (NumPy).

Figures of Yeung & Yeung (2018, DKT+), computed by replaying learners through the served
one-step update (:mod:`adaptive.ml.step`), with ``y_t`` the per-skill P(correct) after attempt
``t`` (``y_{-1}`` the initial readout):

* ``right_down``: share of right answers after which the mean P(correct) of the answered
  skills went down (should be near 0);
* ``wrong_up``: share of wrong answers after which it went up;
* ``w1``: mean ``||y_t - y_{t-1}||_1 / S`` and ``w2``: mean ``||y_t - y_{t-1}||_2^2 / S``
  (waviness; lower is smoother);
* ``others_change``: mean ``|y_t - y_{t-1}|`` over the skills *not* in attempt ``t``.

A change smaller than ``tolerance`` (1e-6, float32 round-off) counts as no change.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adaptive.ml.bkt import BKTParams, bkt_update
from adaptive.ml.step import StepWeights, state_mastery, state_update_batch


def consistency_figures(
    sequences: Any,
    *,
    step_weights: StepWeights | None = None,
    bkt: BKTParams | None = None,
    tolerance: float = 1e-6,
) -> dict[str, float]:
    """The figures of the module docstring for a GRU (``step_weights``) or BKT (``bkt``)."""
    if (step_weights is None) == (bkt is None):
        raise ValueError("pass exactly one of step_weights= or bkt=")
    lengths = np.diff(sequences.offsets)
    order = np.argsort(-lengths, kind="stable")
    sorted_lengths = lengths[order]
    n_skills = int(sequences.n_skills)
    if step_weights is not None:
        states = np.zeros((len(order), step_weights.state_size), dtype=np.float32)
        mastery = np.tile(state_mastery(step_weights, states[:1])[0], (len(order), 1))
    elif bkt is not None:
        known = np.tile(bkt.prior.astype(np.float64), (len(order), 1))
        mastery = _bkt_correct(bkt, known)
    sums = {"right": 0, "right_down": 0, "wrong": 0, "wrong_up": 0}
    w1 = w2 = others = 0.0
    steps = other_cells = 0
    for t in range(int(sorted_lengths[0]) if len(order) else 0):
        active = int((sorted_lengths > t).sum())
        index = sequences.offsets[order[:active]] + t
        skills = sequences.skills[index]
        correct = sequences.correct[index].astype(np.int64)
        before = mastery[:active].copy()
        if step_weights is not None:
            problems = None if sequences.problems is None else sequences.problems[index]
            states[:active], after = state_update_batch(
                step_weights, states[:active], skills, correct, problems
            )
        elif bkt is not None:
            known[:active] = np.array(
                [
                    bkt_update(
                        bkt, known[row], [int(s) for s in skills[row] if s >= 0], correct[row]
                    )
                    for row in range(active)
                ]
            )
            after = _bkt_correct(bkt, known[:active])
        in_attempt = np.zeros((active, n_skills), dtype=bool)
        rows, columns = np.nonzero(skills >= 0)
        in_attempt[rows, skills[rows, columns]] = True
        change = after - before
        own = (change * in_attempt).sum(axis=1) / np.maximum(in_attempt.sum(axis=1), 1)
        right = correct == 1
        sums["right"] += int(right.sum())
        sums["right_down"] += int((own[right] < -tolerance).sum())
        sums["wrong"] += int((~right).sum())
        sums["wrong_up"] += int((own[~right] > tolerance).sum())
        w1 += float(np.abs(change).sum() / n_skills)
        w2 += float(np.square(change).sum() / n_skills)
        others += float(np.abs(change[~in_attempt]).sum())
        other_cells += int((~in_attempt).sum())
        steps += active
        mastery[:active] = after
    return {
        "right_down": sums["right_down"] / max(sums["right"], 1),
        "wrong_up": sums["wrong_up"] / max(sums["wrong"], 1),
        "w1": w1 / max(steps, 1),
        "w2": w2 / max(steps, 1),
        "others_change": others / max(other_cells, 1),
        "steps": float(steps),
    }


def _bkt_correct(bkt: BKTParams, known: np.ndarray) -> np.ndarray:
    """BKT's P(correct) from P(known): the same scale as the GRU's outputs."""
    return known * (1 - bkt.slip) + (1 - known) * bkt.guess
