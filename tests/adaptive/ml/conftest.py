"""Tiny synthetic learners and one small trained model shared by the ML tests."""

from __future__ import annotations

import numpy as np
import pytest

from adaptive.ml.sequences import (
    SequenceSet,
    learners_split,
    sequences_build,
    sequences_subset,
    windows_build,
)
from adaptive.ml.training import TrainConfig, TrainResult, dkt_train

N_SKILLS = 6
N_PROBLEMS = 12


def planted_rows(*, n_learners: int, length: int, seed: int) -> dict[str, list]:
    """Learners are strong on skills 0-2 and weak on 3-5, or the reverse, with 10% noise.

    Knowing a learner's past answers tells which kind they are, so a model that learns the
    pattern scores far above chance on the next answer; one that does not scores about 0.5.
    """
    rng = np.random.default_rng(seed)
    rows: dict[str, list] = {
        "learners": [],
        "times": [],
        "skills": [],
        "correct": [],
        "problems": [],
    }
    for learner in range(n_learners):
        strong_first = bool(rng.random() < 0.5)
        for t in range(length):
            skill = int(rng.integers(N_SKILLS))
            expected = strong_first == (skill < N_SKILLS // 2)
            answer = expected if rng.random() < 0.9 else not expected
            rows["learners"].append(learner)
            rows["times"].append(t)
            rows["skills"].append([skill])
            rows["correct"].append(int(answer))
            rows["problems"].append(skill * 2 + 1 + int(rng.integers(2)))
    return rows


@pytest.fixture(scope="session")
def planted_sequences() -> SequenceSet:
    rows = planted_rows(n_learners=300, length=30, seed=7)
    return sequences_build(**rows, n_skills=N_SKILLS, n_problems=N_PROBLEMS)


@pytest.fixture(scope="session")
def planted_split(planted_sequences: SequenceSet) -> dict:
    train, validation, test = learners_split(planted_sequences.learner_ids, seed=3)
    groups = (("train", train), ("validation", validation), ("test", test))
    return (
        {name: windows_build(sequences_subset(planted_sequences, ids)) for name, ids in groups}
        | {f"{name}_sequences": sequences_subset(planted_sequences, ids) for name, ids in groups}
        | {"test_ids": test}
    )


@pytest.fixture(scope="session")
def trained_gru(planted_split: dict) -> TrainResult:
    config = TrainConfig(
        embedding_dim=8,
        hidden_units=16,
        learning_rate=0.01,
        batch_size=32,
        epochs=10,
        patience=3,
        use_problems=True,
        seed=11,
    )
    return dkt_train(
        planted_split["train_sequences"], planted_split["validation_sequences"], config=config
    )
