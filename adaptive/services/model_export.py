"""Export a scope's attempts as arrays for training and scoring, and split its learners.

One attempt order everywhere: ``(created_at, id)`` within a learner, the order serving replays
a history in, so an imported history with equal timestamps is trained on in the order it is
served.

Memory is bounded by typed arrays, never a Python object per attempt: on PostgreSQL the rows
stream with ``COPY ... TO STDOUT (FORMAT binary)``, whose records have a fixed width (no NULL
column is read), so every few megabytes of the stream become NumPy columns with one
``np.frombuffer``; elsewhere (SQLite for ``make run``) a cursor's ``fetchmany`` batches are
converted the same way. Both fill the same preallocated arrays (about 21 bytes per attempt) and
give identical exports. Skills are kept per exercise, as a CSR pair (offsets, skill ids), not
per attempt: an attempt refers to its exercise by a 32-bit index.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import Count, Max

from adaptive.ml.sequences import SequenceSet, learners_hash_split, sequences_build
from courses.models import Course, Exercise, Skill
from learners.models import Attempt

# train / validation / held-out learners; by a hash of the user id, so a learner held out today
# was held out from every earlier model too and the champion is never judged on its own training.
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
SPLIT_SALT = "pathwise-kt-v1"
# Rows per fetchmany batch on the cursor path, and bytes of COPY stream parsed at once.
EXPORT_CHUNK = 20000
COPY_CHUNK_BYTES = 4 << 20
# Attempt order within a learner, as serving replays it (adaptive.selectors).
ATTEMPT_ORDER = ("user_id", "created_at", "id")
COLUMNS = ("id", "user_id", "exercise_id", "is_correct")
# COPY binary framing (PostgreSQL docs, "Binary Format"): signature, flags, extension length.
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_COPY_HEADER = len(_COPY_SIGNATURE) + 8
_COPY_TRAILER = b"\xff\xff"


@dataclass(frozen=True)
class AttemptExport:
    """A scope's attempts as arrays, ordered by (user, created_at, id), plus its vocabularies.

    Attempt ``r`` answered exercise ``problem_vocabulary[exercise_index[r]]``; that exercise's
    skills (database ids, ascending, possibly none) are
    ``exercise_skill_ids[exercise_skill_offsets[i]:exercise_skill_offsets[i + 1]]`` for
    ``i = exercise_index[r]``.
    """

    attempt_ids: np.ndarray  # int64
    user_ids: np.ndarray  # int64
    exercise_index: np.ndarray  # int32, position in problem_vocabulary
    correct: np.ndarray  # int8, 0 or 1
    exercise_skill_offsets: np.ndarray  # int64, len(problem_vocabulary) + 1
    exercise_skill_ids: np.ndarray  # int64
    skill_vocabulary: list[int]
    problem_vocabulary: list[int]
    data_cutoff: datetime | None

    @property
    def n_attempts(self) -> int:
        """Number of exported attempts."""
        return len(self.attempt_ids)

    @property
    def exercise_ids(self) -> np.ndarray:
        """Each attempt's exercise id (int64; built on demand, 8 bytes per attempt)."""
        return np.asarray(self.problem_vocabulary, dtype=np.int64)[self.exercise_index]

    def exercise_skills(self, position: int) -> tuple[int, ...]:
        """Skill ids of the exercise at ``position`` of the problem vocabulary."""
        start, stop = self.exercise_skill_offsets[position : position + 2]
        return tuple(int(s) for s in self.exercise_skill_ids[start:stop])

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
        # Encode once per exercise (thousands), then gather per attempt (millions) in NumPy.
        encoded = [
            list(dict.fromkeys(skill_index[s] for s in self.exercise_skills(i) if s in skill_index))
            for i in range(len(self.problem_vocabulary))
        ]
        width = max((len(skills) for skills in encoded), default=1) or 1
        exercise_skills = np.full((len(encoded), width), -1, dtype=np.int32)
        for position, skills in enumerate(encoded):
            exercise_skills[position, : len(skills)] = skills
        exercise_problem = np.array(
            [problem_index.get(e, 0) for e in self.problem_vocabulary], dtype=np.int32
        )
        index, learners, correct = self.exercise_index, self.user_ids, self.correct
        if learner_ids is not None:
            rows = np.isin(learners, np.fromiter(learner_ids, dtype=np.int64))
            index, learners, correct = index[rows], learners[rows], correct[rows]
        return sequences_build(
            learners=learners,
            # The export is already in (created_at, id) order within each learner.
            times=None,
            skills=exercise_skills[index] if len(index) else np.full((0, 1), -1, np.int32),
            correct=correct,
            n_skills=len(vocabulary),
            problems=exercise_problem[index],
            n_problems=max(len(problems), 1),
        )


@dataclass(frozen=True)
class LearnerSplit:
    """Learner ids for training, early stopping and the promotion gate; pairwise disjoint."""

    train: np.ndarray
    validation: np.ndarray
    holdout: np.ndarray


class _Columns:
    """Preallocated typed columns, grown by half when more rows arrive than were counted."""

    def __init__(self, size: int, exercise_lookup: np.ndarray) -> None:
        self.ids = np.zeros(size, dtype=np.int64)
        self.users = np.zeros(size, dtype=np.int64)
        self.exercises = np.zeros(size, dtype=np.int32)
        self.correct = np.zeros(size, dtype=np.int8)
        self.filled = 0
        self._lookup = exercise_lookup

    def append(
        self, ids: np.ndarray, users: np.ndarray, exercises: np.ndarray, correct: np.ndarray
    ) -> None:
        count = len(ids)
        if self.filled + count > len(self.ids):
            grown = max(self.filled + count, len(self.ids) * 3 // 2 + 1)
            for name in ("ids", "users", "exercises", "correct"):
                old = getattr(self, name)
                new = np.zeros(grown, dtype=old.dtype)
                new[: self.filled] = old[: self.filled]
                setattr(self, name, new)
        end = self.filled + count
        self.ids[self.filled : end] = ids
        self.users[self.filled : end] = users
        # Every attempt's exercise exists (the foreign key protects it), so it is in the lookup.
        self.exercises[self.filled : end] = np.searchsorted(self._lookup, exercises)
        self.correct[self.filled : end] = correct
        self.filled = end


def _rows_copy(sql: str, params: Any, columns: _Columns) -> None:
    """Stream the query's rows with binary COPY into the columns (PostgreSQL)."""
    with connection.cursor() as cursor:
        statement = cursor.mogrify(sql, params).decode()
        sink = _CopySink(columns)
        # The SELECT is Django's own compilation of a filtered queryset: no input in the text.
        cursor.copy_expert(f"COPY ({statement}) TO STDOUT WITH (FORMAT binary)", sink)
        sink.finish()


class _CopySink:
    """A file-like target for ``copy_expert`` that parses whole records every few megabytes."""

    def __init__(self, columns: _Columns) -> None:
        self._columns = columns
        self._buffer = bytearray()
        self._header_read = False
        self._dtype: np.dtype | None = None

    def write(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) >= COPY_CHUNK_BYTES:
            self._parse()

    def _layout(self) -> bool:
        """Read the header and the first record's field widths; False until enough bytes."""
        buffer = self._buffer
        if not self._header_read:
            if len(buffer) < _COPY_HEADER:
                return False
            if bytes(buffer[: len(_COPY_SIGNATURE)]) != _COPY_SIGNATURE:
                raise RuntimeError("not a binary COPY stream")
            extension = int.from_bytes(buffer[_COPY_HEADER - 4 : _COPY_HEADER], "big")
            if len(buffer) < _COPY_HEADER + extension:
                return False
            del buffer[: _COPY_HEADER + extension]
            self._header_read = True
        if len(buffer) < 2 or bytes(buffer[:2]) == _COPY_TRAILER:
            return False
        fields = int.from_bytes(buffer[:2], "big")
        position, layout = 2, [("fields", ">i2")]
        for number in range(fields):
            if len(buffer) < position + 4:
                return False
            width = int.from_bytes(buffer[position : position + 4], "big", signed=True)
            if width not in (1, 4, 8):
                raise RuntimeError(f"unexpected width {width} of COPY field {number}")
            layout += [(f"w{number}", ">i4"), (f"f{number}", f">i{width}")]
            position += 4 + width
        self._dtype = np.dtype(layout)
        return True

    def _parse(self) -> None:
        if self._dtype is None and not self._layout():
            return
        if self._dtype is None:
            return
        count = len(self._buffer) // self._dtype.itemsize
        if count == 0:
            return
        records = np.frombuffer(self._buffer, dtype=self._dtype, count=count)
        expected = [self._dtype[f"f{n}"].itemsize for n in range(len(COLUMNS))]
        # Fixed-width records only hold if no field is NULL (-1) and widths never change.
        widths_ok = all((records[f"w{n}"] == w).all() for n, w in enumerate(expected))
        if not widths_ok or (records["fields"] != len(COLUMNS)).any():
            raise RuntimeError("COPY records are not fixed-width")
        self._columns.append(records["f0"], records["f1"], records["f2"], records["f3"])
        del records
        del self._buffer[: count * self._dtype.itemsize]

    def finish(self) -> None:
        self._parse()
        # A trailing partial chunk is under COPY_CHUNK_BYTES: parse it, then only the trailer.
        if self._buffer and bytes(self._buffer) not in (b"", _COPY_TRAILER):
            raise RuntimeError("incomplete COPY stream")


def _rows_cursor(sql: str, params: Any, columns: _Columns) -> None:
    """Read the query's rows with ``fetchmany`` batches into the columns (any database)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(EXPORT_CHUNK):
            # One short-lived list per batch; the columns keep only typed arrays.
            array = np.array(batch, dtype=np.int64)
            columns.append(array[:, 0], array[:, 1], array[:, 2], array[:, 3])


def attempts_export(
    *, course: Course | None, until: datetime | None = None, method: str = "auto"
) -> AttemptExport:
    """Read a scope's attempts as arrays, in ``(user, created_at, id)`` order.

    ``method`` is ``"copy"`` (PostgreSQL), ``"cursor"`` (any database) or ``"auto"``.
    """
    attempts = Attempt.objects.all() if course is None else Attempt.objects.filter(course=course)
    if until is not None:
        attempts = attempts.filter(created_at__lte=until)
    skills = Skill.objects.all() if course is None else Skill.objects.filter(course=course)
    skill_vocabulary = list(skills.order_by("pk").values_list("pk", flat=True))
    # All exercise ids (an attempt's exercise always exists): the lookup of the 32-bit index.
    exercise_lookup = np.fromiter(
        Exercise.objects.order_by("pk").values_list("pk", flat=True), dtype=np.int64
    )
    links = Exercise.skills.through.objects.all()
    if course is not None:
        links = links.filter(exercise__course=course)
    link_rows = np.array(
        list(links.order_by("exercise_id", "skill_id").values_list("exercise_id", "skill_id")),
        dtype=np.int64,
    ).reshape(-1, 2)

    # The cutoff is read first and bounds the rows: attempts recorded while the export runs are
    # left for the next one, so the cutoff says exactly which attempts the model saw.
    summary = attempts.aggregate(count=Count("id"), cutoff=Max("created_at"))
    data_cutoff: datetime | None = summary["cutoff"]
    columns = _Columns(summary["count"], exercise_lookup)
    if data_cutoff is not None:
        bounded = attempts.filter(created_at__lte=data_cutoff)
        sql, params = bounded.order_by(*ATTEMPT_ORDER).values_list(*COLUMNS).query.sql_with_params()
        if method == "auto":
            method = "copy" if connection.vendor == "postgresql" else "cursor"
        if method == "copy":
            _rows_copy(sql, params, columns)
        elif method == "cursor":
            _rows_cursor(sql, params, columns)
        else:
            raise ValueError(f"unknown export method {method!r}")
    filled = columns.filled
    used = np.bincount(columns.exercises[:filled], minlength=len(exercise_lookup)) > 0
    problem_vocabulary = exercise_lookup[used]
    # Renumber the exercise index from all exercises to the attempted ones, in place.
    renumber = (np.cumsum(used) - 1).astype(np.int32)
    exercise_index = columns.exercises[:filled]
    np.take(renumber, exercise_index, out=exercise_index)
    # CSR of each attempted exercise's skills (links are sorted by exercise, then skill).
    link_position = np.searchsorted(problem_vocabulary, link_rows[:, 0])
    in_vocabulary = link_position < len(problem_vocabulary)
    in_vocabulary[in_vocabulary] = (
        problem_vocabulary[link_position[in_vocabulary]] == link_rows[in_vocabulary, 0]
    )
    kept_links = link_rows[in_vocabulary]
    per_exercise = np.bincount(link_position[in_vocabulary], minlength=len(problem_vocabulary))
    return AttemptExport(
        attempt_ids=columns.ids[:filled],
        user_ids=columns.users[:filled],
        exercise_index=exercise_index,
        correct=columns.correct[:filled],
        exercise_skill_offsets=np.concatenate([[0], np.cumsum(per_exercise)]).astype(np.int64),
        exercise_skill_ids=kept_links[:, 1].copy(),
        skill_vocabulary=skill_vocabulary,
        problem_vocabulary=[int(e) for e in problem_vocabulary],
        data_cutoff=data_cutoff,
    )


def learner_split(*, export: AttemptExport) -> LearnerSplit:
    """Split the export's learners into train / validation / held-out groups (stable by id)."""
    train, validation, holdout = learners_hash_split(
        export.user_ids, fractions=SPLIT_FRACTIONS, salt=SPLIT_SALT
    )
    return LearnerSplit(train=train, validation=validation, holdout=holdout)
