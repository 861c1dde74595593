"""Export a scope's attempts as arrays for training and scoring, and split its learners.

One attempt order everywhere: ``(created_at, id)`` within a learner, the order serving replays
a history in, so an imported history with equal timestamps is trained on in the order it is
served. The export reads tuples straight into typed NumPy arrays (``values_list`` iterated in
chunks, no ORM object per attempt).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from adaptive.ml.sequences import SequenceSet, learners_hash_split, sequences_build
from courses.models import Course, Exercise, Skill
from learners.models import Attempt

# train / validation / held-out learners; by a hash of the user id, so a learner held out today
# was held out from every earlier model too and the champion is never judged on its own training.
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
SPLIT_SALT = "pathwise-kt-v1"
EXPORT_CHUNK = 20000
# Attempt order within a learner, as serving replays it (adaptive.selectors).
ATTEMPT_ORDER = ("user_id", "created_at", "id")


@dataclass(frozen=True)
class AttemptExport:
    """A scope's attempts as arrays, ordered by (user, created_at, id), plus its vocabularies.

    ``skill_ids`` holds each attempt's skill ids (database ids, possibly empty).
    """

    attempt_ids: np.ndarray
    user_ids: np.ndarray
    exercise_ids: np.ndarray
    correct: np.ndarray
    skill_ids: list[tuple[int, ...]]
    skill_vocabulary: list[int]
    problem_vocabulary: list[int]
    data_cutoff: datetime | None

    @property
    def n_attempts(self) -> int:
        """Number of exported attempts."""
        return len(self.attempt_ids)

    def sequences(
        self,
        *,
        skill_vocabulary: list[int] | None = None,
        problem_vocabulary: list[int] | None = None,
        allowed_skills: set[int] | None = None,
        learner_ids: Iterable[int] | None = None,
    ) -> SequenceSet:
        """Encode the attempts with a model's vocabularies (default: this export's).

        Skills outside ``allowed_skills`` (or the vocabulary) are left out of an attempt; an
        attempt left without a skill is dropped and counted (see ``adaptive.ml.sequences``).
        Exercises outside ``problem_vocabulary`` get problem id 0 (unknown).
        """
        vocabulary = self.skill_vocabulary if skill_vocabulary is None else skill_vocabulary
        problems = self.problem_vocabulary if problem_vocabulary is None else problem_vocabulary
        skill_index = {skill: index for index, skill in enumerate(vocabulary)}
        if allowed_skills is not None:
            skill_index = {s: i for s, i in skill_index.items() if s in allowed_skills}
        problem_index = {exercise: index + 1 for index, exercise in enumerate(problems)}
        rows = np.arange(self.n_attempts)
        if learner_ids is not None:
            rows = rows[np.isin(self.user_ids, np.fromiter(learner_ids, dtype=np.int64))]
        return sequences_build(
            learners=self.user_ids[rows],
            # The export is already in (created_at, id) order: the row number is the time.
            times=rows,
            skills=[[skill_index[s] for s in self.skill_ids[r] if s in skill_index] for r in rows],
            correct=self.correct[rows],
            n_skills=len(vocabulary),
            problems=np.array(
                [problem_index.get(int(e), 0) for e in self.exercise_ids[rows]], dtype=np.int64
            ),
            n_problems=max(len(problems), 1),
        )


@dataclass(frozen=True)
class LearnerSplit:
    """Learner ids for training, early stopping and the promotion gate; pairwise disjoint."""

    train: np.ndarray
    validation: np.ndarray
    holdout: np.ndarray


def attempts_export(*, course: Course | None, until: datetime | None = None) -> AttemptExport:
    """Read a scope's attempts as arrays, in ``(user, created_at, id)`` order."""
    attempts = Attempt.objects.all() if course is None else Attempt.objects.filter(course=course)
    if until is not None:
        attempts = attempts.filter(created_at__lte=until)
    skills = Skill.objects.all() if course is None else Skill.objects.filter(course=course)
    skill_vocabulary = list(skills.order_by("pk").values_list("pk", flat=True))
    links = Exercise.skills.through.objects.all()
    if course is not None:
        links = links.filter(exercise__course=course)
    skills_of: dict[int, list[int]] = defaultdict(list)
    for exercise_id, skill_id in links.order_by("skill_id").values_list("exercise_id", "skill_id"):
        skills_of[exercise_id].append(skill_id)

    # Typed arrays sized by a count and grown if attempts arrive while reading.
    size = attempts.count()
    columns: dict[str, np.ndarray] = {
        "id": np.zeros(size, dtype=np.int64),
        "user": np.zeros(size, dtype=np.int64),
        "exercise": np.zeros(size, dtype=np.int64),
        "correct": np.zeros(size, dtype=np.int8),
    }
    data_cutoff: datetime | None = None
    rows = attempts.order_by(*ATTEMPT_ORDER).values_list(
        "id", "user_id", "exercise_id", "is_correct", "created_at"
    )
    filled = 0
    for attempt_id, user_id, exercise_id, is_correct, created_at in rows.iterator(
        chunk_size=EXPORT_CHUNK
    ):
        if filled == len(columns["id"]):
            columns = {
                name: np.concatenate([array, np.zeros(max(len(array), 1), array.dtype)])
                for name, array in columns.items()
            }
        columns["id"][filled], columns["user"][filled] = attempt_id, user_id
        columns["exercise"][filled], columns["correct"][filled] = exercise_id, is_correct
        if data_cutoff is None or created_at > data_cutoff:
            data_cutoff = created_at
        filled += 1
    attempt_ids, user_ids = columns["id"][:filled], columns["user"][:filled]
    exercise_ids, correct = columns["exercise"][:filled], columns["correct"][:filled]
    return AttemptExport(
        attempt_ids=attempt_ids,
        user_ids=user_ids,
        exercise_ids=exercise_ids,
        correct=correct,
        skill_ids=[tuple(skills_of.get(int(e), ())) for e in exercise_ids],
        skill_vocabulary=skill_vocabulary,
        problem_vocabulary=sorted(int(e) for e in np.unique(exercise_ids)),
        data_cutoff=data_cutoff,
    )


def learner_split(*, export: AttemptExport) -> LearnerSplit:
    """Split the export's learners into train / validation / held-out groups (stable by id)."""
    train, validation, holdout = learners_hash_split(
        export.user_ids, fractions=SPLIT_FRACTIONS, salt=SPLIT_SALT
    )
    return LearnerSplit(train=train, validation=validation, holdout=holdout)
