"""The training export: binary COPY, the cursor path (SQLite's) and their agreement."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from adaptive.services.model_export import AttemptExport, attempts_export
from courses.models import Course, Exercise, Skill
from learners.models import Attempt, User
from tests.factories import CourseFactory

ROOT = Path(__file__).resolve().parents[2]
BASE_ID = 90_000
START = datetime(2026, 3, 1, tzinfo=UTC)
FIELDS = ("attempt_ids", "user_ids", "exercise_index", "correct")
FIELDS_CSR = ("exercise_skill_offsets", "exercise_skill_ids")


def history_build(seed: int = 3) -> Course:
    """A course with explicit ids (so two databases hold the same rows): 3 skills, 5 exercises
    (one with two skills, one with none, one never attempted), 6 learners, attempts inserted in
    shuffled order with shared timestamps."""
    rng = np.random.default_rng(seed)
    course = CourseFactory(pk=BASE_ID, slug="export-course")
    skills = Skill.objects.bulk_create(
        [Skill(pk=BASE_ID + i, course=course, name=f"Skill {i}") for i in range(3)]
    )
    exercises = Exercise.objects.bulk_create(
        [
            Exercise(
                pk=BASE_ID + i,
                course=course,
                title=f"Exercise {i}",
                prompt_md="?",
                kind=Exercise.Kind.NUMERIC,
                numeric_answer=1.0,
            )
            for i in range(5)
        ]
    )
    links = [(0, 0), (1, 1), (2, 2), (2, 0)]  # exercise 2: two skills; exercise 3: none
    Exercise.skills.through.objects.bulk_create(
        [
            Exercise.skills.through(exercise_id=exercises[e].pk, skill_id=skills[s].pk)
            for e, s in links
        ]
    )
    learners = User.objects.bulk_create(
        [User(pk=BASE_ID + i, username=f"export-{i}", email=f"e{i}@example.org") for i in range(6)]
    )
    rows = []
    for number in range(60):
        learner = learners[int(rng.integers(len(learners)))]
        rows.append(
            Attempt(
                pk=BASE_ID + number,
                user=learner,
                exercise=exercises[int(rng.integers(4))],
                course=course,
                answer=1,
                is_correct=bool(rng.random() < 0.6),
                # Few distinct times: ties are broken by id, as serving replays them.
                created_at=START + timedelta(minutes=int(rng.integers(4))),
            )
        )
    Attempt.objects.bulk_create([rows[i] for i in rng.permutation(len(rows))])
    return course


def export_arrays(export: AttemptExport) -> dict:
    """The export as JSON-ready lists, to compare two exports field by field."""
    values: dict = {name: getattr(export, name).tolist() for name in FIELDS + FIELDS_CSR}
    values["skill_vocabulary"] = export.skill_vocabulary
    values["problem_vocabulary"] = export.problem_vocabulary
    values["data_cutoff"] = export.data_cutoff.isoformat() if export.data_cutoff else None
    sequences = export.sequences()
    values["sequences"] = {
        "learner_ids": sequences.learner_ids.tolist(),
        "offsets": sequences.offsets.tolist(),
        "skills": sequences.skills.tolist(),
        "correct": sequences.correct.tolist(),
        "problems": sequences.problems.tolist(),
        "report": sequences.report.as_dict(),
    }
    return values


@pytest.mark.django_db
def test_copy_and_cursor_exports_are_identical():
    course = history_build()
    copied = attempts_export(course=course, method="copy")
    fetched = attempts_export(course=course, method="cursor")
    assert export_arrays(copied) == export_arrays(fetched)
    assert copied.n_attempts == 60
    for name in FIELDS:
        assert getattr(copied, name).dtype == getattr(fetched, name).dtype


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["copy", "cursor"])
def test_export_order_is_learner_then_created_at_then_id(method):
    course = history_build()
    export = attempts_export(course=course, method=method)
    expected = list(
        Attempt.objects.filter(course=course)
        .order_by("user_id", "created_at", "id")
        .values_list("id", "user_id", "exercise_id", "is_correct")
    )
    got = list(
        zip(
            export.attempt_ids.tolist(),
            export.user_ids.tolist(),
            export.exercise_ids.tolist(),
            export.correct.astype(bool).tolist(),
            strict=True,
        )
    )
    assert got == expected
    assert export.data_cutoff == START + timedelta(minutes=3)


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["copy", "cursor"])
def test_a_multi_skill_exercise_is_one_step_with_both_skills(method):
    course = history_build()
    export = attempts_export(course=course, method=method)
    # exercise 4 was never attempted: it is not in the problem vocabulary
    assert export.problem_vocabulary == [BASE_ID + i for i in range(4)]
    assert [export.exercise_skills(i) for i in range(4)] == [
        (BASE_ID,),
        (BASE_ID + 1,),
        (BASE_ID, BASE_ID + 2),
        (),
    ]
    sequences = export.sequences()
    both = export.exercise_index == 2
    no_skill = export.exercise_index == 3
    assert sequences.report.dropped_without_skill == int(no_skill.sum())
    assert sequences.skills.shape[1] == 2
    assert int(((sequences.skills >= 0).sum(axis=1) == 2).sum()) == int(both.sum())
    assert sorted(map(tuple, sequences.skills[sequences.problems == 3].tolist())) == [(0, 2)] * int(
        both.sum()
    )


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["copy", "cursor"])
def test_an_empty_course_exports_nothing(method):
    course = CourseFactory()
    Skill.objects.create(course=course, name="Lonely")
    export = attempts_export(course=course, method=method)
    assert export.n_attempts == 0
    assert export.data_cutoff is None
    assert export.problem_vocabulary == []
    assert export.exercise_skill_offsets.tolist() == [0]
    sequences = export.sequences()
    assert sequences.n_learners == 0
    assert sequences.n_attempts == 0


@pytest.mark.django_db
def test_the_export_stops_at_until():
    course = history_build()
    until = START + timedelta(minutes=1)
    export = attempts_export(course=course, until=until)
    assert export.n_attempts == Attempt.objects.filter(course=course, created_at__lte=until).count()
    assert export.data_cutoff <= until


@pytest.mark.django_db
def test_the_sqlite_export_equals_the_postgresql_one(tmp_path):
    # given the same rows in PostgreSQL (this test) and in a fresh SQLite database (a subprocess)
    course = history_build()
    expected = export_arrays(attempts_export(course=course))
    database = tmp_path / "export.sqlite3"
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=environment, check=True
    )
    script = (
        "import django, json; django.setup();"
        "from django.db import connection;"
        "from tests.adaptive.test_model_export import history_build, export_arrays;"
        "from adaptive.services.model_export import attempts_export;"
        "assert connection.vendor == 'sqlite';"
        "print(json.dumps(export_arrays(attempts_export(course=history_build()))))"
    )
    # when
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    )
    # then
    assert json.loads(completed.stdout.strip().splitlines()[-1]) == expected
