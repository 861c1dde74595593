import numpy as np
import pytest

from adaptive.ml.sequences import (
    chunks_build,
    encode_interactions,
    learners_hash_split,
    learners_kfold,
    learners_split,
    sequences_build,
    sequences_subset,
    windows_build,
)


def rows_for(lengths: dict[str, int], skills_of=lambda t: [t % 3]) -> dict[str, list]:
    rows: dict[str, list] = {"learners": [], "times": [], "skills": [], "correct": []}
    for learner, length in lengths.items():
        for t in range(length):
            rows["learners"].append(learner)
            rows["times"].append(t)
            rows["skills"].append(skills_of(t))
            rows["correct"].append(t % 2)
    return rows


def test_interactions_are_skill_plus_n_skills_times_correct_with_zero_as_padding():
    codes = encode_interactions(np.array([[0, -1], [2, 1]]), np.array([0, 1]), n_skills=3)
    assert codes.tolist() == [[1, 0], [3 + 3, 2 + 3]]


def test_sequences_are_ordered_by_time_per_learner():
    # given rows out of order
    sequences = sequences_build(
        learners=["b", "a", "a", "b", "a", "b"],
        times=[2, 3, 1, 1, 2, 3],
        skills=[[0], [1], [2], [1], [0], [2]],
        correct=[1, 0, 1, 0, 1, 1],
        n_skills=3,
    )
    # then
    assert sequences.learner_ids.tolist() == ["a", "b"]
    assert sequences.offsets.tolist() == [0, 3, 6]
    assert sequences.skills[:, 0].tolist() == [2, 0, 1, 1, 0, 2]
    assert sequences.correct.tolist() == [1, 1, 0, 0, 1, 1]


def test_missing_values_are_dropped_and_counted_by_reason():
    sequences = sequences_build(
        learners=[1, 1, 1, 1, 1, 1, 1, 2, 2],
        times=[0, 1, 2, 3, None, 5, 6, 0, 1],
        skills=[[0], [], [1], None, [0], [1], [0], [0], [1]],
        correct=[1, 1, None, 0, 1, 0, 1, 1, 0],
        n_skills=2,
    )
    report = sequences.report
    assert report.as_dict() == {
        "rows_in": 9,
        "dropped_without_skill": 2,
        "dropped_missing_correct": 1,
        "dropped_missing_time": 1,
        "dropped_short_learners": 1,
        "dropped_short_attempts": 2,
        "attempts_kept": 3,
        "learners_kept": 1,
    }
    assert sequences.learner_ids.tolist() == [1]


def test_a_multi_skill_attempt_is_one_step():
    sequences = sequences_build(
        learners=[1, 1, 1],
        times=[0, 1, 2],
        skills=[[2, 0], [1], [0, 1, 2]],
        correct=[1, 0, 1],
        n_skills=3,
    )
    windows = windows_build(sequences)
    assert sequences.n_attempts == 3
    assert windows.interactions[0, :3].tolist() == [[1 + 3, 3 + 3, 0], [2, 0, 0], [4, 5, 6]]
    # position t targets attempt t + 1 with all its skills (1-based), never a copy of itself
    assert windows.target_skills[0, :2].tolist() == [[2, 0, 0], [1, 2, 3]]
    assert windows.labels[0, :3].tolist() == [0.0, 1.0, -1.0]


def test_windows_are_post_padded_with_zero_and_unlabelled_padding():
    sequences = sequences_build(**rows_for({"x": 5}), n_skills=3)
    windows = windows_build(sequences, window=8)
    assert windows.lengths.tolist() == [5]
    assert (windows.interactions[0, 5:] == 0).all()
    assert (windows.interactions[0, :5, 0] > 0).all()
    assert windows.labels[0].tolist() == [1, 0, 1, 0, -1, -1, -1, -1]
    assert (windows.target_skills[0, 4:] == 0).all()


def test_long_histories_are_cut_into_windows_and_short_remainders_dropped():
    sequences = sequences_build(**rows_for({"long": 450, "edge": 402, "short": 2}), n_skills=3)
    windows = windows_build(sequences, window=200)
    learner_of_window = sequences.learner_ids[windows.learner_index].tolist()
    assert sorted(zip(learner_of_window, windows.lengths.tolist(), strict=True)) == [
        ("edge", 200),
        ("edge", 200),
        ("long", 50),
        ("long", 200),
        ("long", 200),
    ]
    assert sequences.report.dropped_short_learners == 1
    # each window restarts: its first attempt is input only
    assert windows.n_targets == (200 - 1) * 4 + (50 - 1)


def test_no_learner_is_in_two_splits_and_the_split_is_seeded():
    ids = np.arange(1000)[::-1]
    first = learners_split(ids, fractions=(0.7, 0.15, 0.15), seed=5)
    again = learners_split(np.arange(1000), fractions=(0.7, 0.15, 0.15), seed=5)
    assert [len(part) for part in first] == [700, 150, 150]
    assert set(first[0]).isdisjoint(first[1])
    assert set(first[0]).isdisjoint(first[2])
    assert set(first[1]).isdisjoint(first[2])
    assert all((a == b).all() for a, b in zip(first, again, strict=True))


def test_kfold_assigns_every_learner_to_exactly_one_fold():
    folds = learners_kfold(np.repeat(np.arange(103), 3), k=5, seed=1)
    together = np.concatenate(folds)
    assert sorted(together.tolist()) == list(range(103))
    assert sorted(len(fold) for fold in folds) == [20, 20, 21, 21, 21]


def test_windows_of_split_learners_contain_only_their_attempts():
    sequences = sequences_build(**rows_for({i: 10 + i for i in range(20)}), n_skills=3)
    _train_ids, test_ids = learners_split(sequences.learner_ids, fractions=(0.5, 0.5), seed=2)
    test = sequences_subset(sequences, test_ids)
    assert sorted(test.learner_ids.tolist()) == sorted(test_ids.tolist())
    assert test.n_attempts == sum(10 + int(i) for i in test_ids)


def test_skill_out_of_vocabulary_is_refused():
    with pytest.raises(ValueError, match="skill index out of range"):
        sequences_build(learners=[1], times=[0], skills=[[3]], correct=[1], n_skills=3)


def test_hash_split_keeps_each_learner_in_its_group_when_others_join():
    before = learners_hash_split(np.arange(500), fractions=(0.8, 0.1, 0.1))
    after = learners_hash_split(np.arange(2000), fractions=(0.8, 0.1, 0.1))
    for old, new in zip(before, after, strict=True):
        assert set(old) <= set(new)
    assert sum(len(part) for part in after) == 2000
    assert 150 < len(after[2]) < 250


def test_chunks_carry_every_target_once_across_chunk_boundaries():
    # given one learner of 25 attempts and one of 21 (its last chunk is a single attempt)
    sequences = sequences_build(
        learners=[1] * 25 + [2] * 21,
        times=list(range(25)) + list(range(21)),
        skills=[[t % 3] for t in range(25)] + [[t % 3] for t in range(21)],
        correct=[t % 2 for t in range(25)] + [(t + 1) % 2 for t in range(21)],
        n_skills=3,
    )
    # when
    chunks = chunks_build(sequences, window=10)
    # then every attempt but each learner's first is a target exactly once, in order
    assert list(chunks.learner_index) == [0, 0, 0, 1, 1]
    assert list(chunks.chunk_index) == [0, 1, 2, 0, 1]
    assert chunks.n_targets == (25 - 1) + (21 - 1)
    # the last step of a chunk predicts the first attempt of the next chunk
    assert chunks.labels[0, 9] == sequences.correct[10]
    assert chunks.target_skills[0, 9, 0] == sequences.skills[10, 0] + 1
    # a learner's last chunk ends without a target; padding has none either
    assert chunks.labels[2, 4] == -1
    assert (chunks.labels[2, 5:] == -1).all()
    # while independent windows lose the boundary target and drop short remainders
    windows = windows_build(sequences, window=10)
    assert windows.n_targets < chunks.n_targets
    assert windows.chunk_index is None


def test_presorted_typed_rows_give_the_same_sequences_as_shuffled_lists():
    # given typed rows grouped by learner in time order (as the export delivers them), with
    # rows to drop (no skill, a short learner), and the same rows shuffled as Python lists
    rng = np.random.default_rng(7)
    learners = np.sort(rng.integers(0, 40, size=600)).astype(np.int64)
    skills = np.full((600, 2), -1, dtype=np.int32)
    skills[:, 0] = rng.integers(0, 5, size=600)
    skills[::7, 1] = 4 - skills[::7, 0] % 2
    skills[::11] = -1
    correct = rng.integers(0, 2, size=600).astype(np.int8)
    problems = rng.integers(0, 9, size=600).astype(np.int32)
    times = np.arange(600)
    shuffled = rng.permutation(600)
    # when
    typed = sequences_build(
        learners=learners,
        times=None,
        skills=skills,
        correct=correct,
        n_skills=5,
        problems=problems,
        n_problems=8,
    )
    listed = sequences_build(
        learners=learners[shuffled].tolist(),
        times=times[shuffled].tolist(),
        skills=[[s for s in row if s >= 0] for row in skills[shuffled].tolist()],
        correct=correct[shuffled].tolist(),
        n_skills=5,
        problems=problems[shuffled].tolist(),
        n_problems=8,
    )
    # then
    assert typed.report == listed.report
    assert typed.report.dropped_without_skill > 0
    for name in ("learner_ids", "offsets", "skills", "correct", "problems"):
        assert getattr(typed, name).tolist() == getattr(listed, name).tolist(), name
        assert getattr(typed, name).dtype == getattr(listed, name).dtype, name
