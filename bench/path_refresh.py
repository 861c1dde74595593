"""Path refresh throughput: every learner's state, mastery and path recomputed after a promotion.

Builds a throwaway PostgreSQL database with one course of 110 skills (a prerequisite DAG), its
lessons and exercises, and N simulated learners (100,000 by default) with BKT-simulated attempt
histories, then times `adaptive.services.learning_paths.path_refresh` (keyset chunks, batch
inference, COPY writes, one transaction per chunk). The baseline, measured in the same run, is
the per-learner online path (`learner_state_update`, one learner at a time) on a sample of
learners.

    .venv/bin/python bench/path_refresh.py [--learners 100000] [--attempts 20] [--gru]

Prints a table and writes bench/results/path_refresh.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE = "pathwise_bench_paths"


def setup_django(database_url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()


def recreate_database(admin_url: str) -> None:
    import psycopg2

    connection = psycopg2.connect(admin_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        cursor.execute(f"CREATE DATABASE {DATABASE}")
    connection.close()


def build_course(n_skills: int, rng: np.random.Generator):
    from courses.models import Course, Exercise, Lesson, Module, Skill, SkillPrerequisite
    from learners.models import User

    owner = User.objects.create(username="bench-teacher", role="teacher")
    course = Course.objects.create(
        slug="bench",
        title="Bench course",
        owner=owner,
        status="published",
        published_at="2026-01-01T00:00:00Z",
    )
    skills = Skill.objects.bulk_create(
        [Skill(course=course, name=f"Skill {i:03d}") for i in range(n_skills)]
    )
    links = []
    for index in range(1, n_skills):
        for parent in rng.choice(index, size=min(index, int(rng.integers(1, 3))), replace=False):
            links.append(SkillPrerequisite(skill=skills[index], requires=skills[int(parent)]))
    SkillPrerequisite.objects.bulk_create(links)
    modules = Module.objects.bulk_create(
        [Module(course=course, title=f"Module {m}", position=m + 1) for m in range(11)]
    )
    lessons = Lesson.objects.bulk_create(
        [
            Lesson(
                module=modules[i // 10],
                title=f"Lesson {i}",
                slug=f"lesson-{i}",
                position=i % 10 + 1,
            )
            for i in range(n_skills)
        ]
    )
    Lesson.skills.through.objects.bulk_create(
        [
            Lesson.skills.through(lesson_id=lesson.pk, skill_id=skill.pk)
            for lesson, skill in zip(lessons, skills, strict=True)
        ]
    )
    exercises = Exercise.objects.bulk_create(
        [
            Exercise(
                course=course,
                title=f"Exercise {i}",
                prompt_md="?",
                kind="numeric",
                numeric_answer=1.0,
            )
            for i in range(2 * n_skills)
        ]
    )
    Exercise.skills.through.objects.bulk_create(
        [
            Exercise.skills.through(exercise_id=exercise.pk, skill_id=skills[i // 2].pk)
            for i, exercise in enumerate(exercises)
        ]
    )
    return course, skills, exercises


def build_learners(course, skills, exercises, n_learners: int, attempts: int, rng) -> int:
    """Users, enrolments and BKT-simulated attempts, written with COPY."""
    from learners.bulk import rows_insert, students_enrol_bulk
    from learners.models import Attempt

    batch = 20000
    skill_count = len(skills)
    exercise_ids = np.array([e.pk for e in exercises])
    written = 0
    for offset in range(0, n_learners, batch):
        size = min(batch, n_learners - offset)
        ids = students_enrol_bulk(course_id=course.pk, username_prefix="bench-", count=size)
        # Each learner works through skills in order; correctness from a BKT learner.
        lengths = rng.integers(max(3, attempts // 2), attempts * 3 // 2 + 1, size=size)
        rows = []
        for learner, length in zip(ids, lengths, strict=True):
            position = int(rng.integers(0, skill_count // 2))
            known = False
            for step in range(int(length)):
                exercise = exercise_ids[(2 * position + step % 2) % len(exercise_ids)]
                correct = rng.random() < (0.9 if known else 0.25)
                known = known or rng.random() < 0.3
                if known and rng.random() < 0.5:
                    position, known = min(position + 1, skill_count - 1), False
                rows.append(
                    (
                        learner,
                        int(exercise),
                        course.pk,
                        "1",
                        bool(correct),
                        0,
                        f"2026-11-{1 + step % 28:02d}T10:00:00+00:00",
                        "",
                    )
                )
        written += rows_insert(
            Attempt,
            [
                "user",
                "exercise",
                "course",
                "answer",
                "is_correct",
                "hints_used",
                "created_at",
                "external_id",
            ],
            rows,
        )
        print(f"  learners {offset + size:>7,}/{n_learners:,}", file=sys.stderr)
    return written


def register_gru(course, skills, exercises) -> int:
    """Train a small GRU on a sample of the simulated attempts and activate it."""
    from django.conf import settings
    from django.utils import timezone

    from adaptive.ml.artifacts import artifact_save
    from adaptive.ml.sequences import (
        learners_split,
        sequences_build,
        sequences_subset,
    )
    from adaptive.ml.training import TrainConfig, dkt_train
    from adaptive.models import ModelVersion
    from adaptive.selectors import exercise_skill_map, histories_load
    from learners.models import Enrollment

    sample = list(
        Enrollment.objects.filter(course=course)
        .order_by("user_id")
        .values_list("user_id", flat=True)[:3000]
    )
    histories = histories_load(course_id=course.pk, user_ids=sample)
    skill_map = exercise_skill_map(course_id=course.pk)
    vocabulary = [skill.pk for skill in skills]
    index = {skill_id: i for i, skill_id in enumerate(vocabulary)}
    learners, times, skill_rows, correct = [], [], [], []
    for user_id, history in histories.items():
        for t, (exercise, right) in enumerate(
            zip(history.exercise_ids, history.correct, strict=True)
        ):
            learners.append(user_id)
            times.append(t)
            skill_rows.append([index[s] for s in skill_map[exercise]])
            correct.append(int(right))
    sequences = sequences_build(
        learners=learners,
        times=times,
        skills=skill_rows,
        correct=correct,
        n_skills=len(vocabulary),
    )
    train_ids, validation_ids, _ = learners_split(sequences.learner_ids, seed=1)
    result = dkt_train(
        sequences_subset(sequences, train_ids),
        sequences_subset(sequences, validation_ids),
        config=TrainConfig(epochs=2, hidden_units=64, embedding_dim=32),
    )
    path = Path(settings.PATHWISE_MODEL_ROOT) / f"bench-{int(time.time())}"
    metadata = artifact_save(path, metadata={"skill_vocabulary": vocabulary}, model=result.model)
    version = ModelVersion.objects.create(
        course=course,
        kind="gru",
        status="active",
        activated_at=timezone.now(),
        skill_vocabulary=vocabulary,
        artifact_path=str(path),
        artifact_sha256=metadata.sha256,
        manifest_sha256=metadata.manifest_sha256,
    )
    return version.pk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--attempts", type=int, default=20, help="mean attempts per learner")
    parser.add_argument("--skills", type=int, default=110)
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument("--baseline-sample", type=int, default=300)
    parser.add_argument("--gru", action="store_true", help="also refresh with a trained GRU")
    parser.add_argument("--admin-dsn", default="dbname=postgres user=postgres host=127.0.0.1")
    args = parser.parse_args()

    recreate_database(args.admin_dsn)
    setup_django(f"postgres://postgres@127.0.0.1:5432/{DATABASE}")
    from django.core.management import call_command
    from django.db import transaction

    from adaptive.models import LearningPath, PathStep, SkillMastery
    from adaptive.services.knowledge_state import learner_state_update
    from adaptive.services.learning_paths import path_refresh
    from learners.models import Attempt

    call_command("migrate", verbosity=0)
    rng = np.random.default_rng(7)
    print(f"Building {args.learners:,} learners x {args.skills} skills...", file=sys.stderr)
    course, skills, exercises = build_course(args.skills, rng)
    attempts = build_learners(course, skills, exercises, args.learners, args.attempts, rng)

    # Baseline: the per-learner online path, one learner at a time (its last attempt).
    sample = list(
        Attempt.objects.filter(course=course)
        .values("user_id")
        .order_by("user_id")
        .distinct()[: args.baseline_sample]
        .values_list("user_id", flat=True)
    )
    last = dict(
        Attempt.objects.filter(user_id__in=sample)
        .order_by("user_id", "pk")
        .values_list("user_id", "pk")
    )
    started = time.perf_counter()
    for user_id in sample:
        with transaction.atomic():
            learner_state_update(attempt_id=last[user_id])
    baseline_seconds = time.perf_counter() - started
    baseline_rate = len(sample) / baseline_seconds

    def progress(done: int, total: int) -> None:
        if done % (args.chunk_size * 10) == 0 or done == total:
            print(f"  refreshed {done:>7,}/{total:,}", file=sys.stderr)

    results = []
    bkt = path_refresh(course_id=course.pk, chunk_size=args.chunk_size, on_progress=progress)
    results.append(("cold-start BKT", bkt))
    if args.gru:
        register_gru(course, skills, exercises)
        gru = path_refresh(course_id=course.pk, chunk_size=args.chunk_size, on_progress=progress)
        results.append(("GRU (NumPy steps)", gru))

    print()
    print(
        f"Path refresh: {args.learners:,} learners, {args.skills} skills, "
        f"{attempts:,} attempts, chunks of {args.chunk_size}"
    )
    print(
        f"{'variant':<28}{'learners':>10}{'rows':>12}{'seconds':>10}{'learners/s':>12}"
        f"{'rows/s':>12}{'vs baseline':>13}"
    )
    print(
        f"{'baseline: one at a time':<28}{len(sample):>10,}{'':>12}{baseline_seconds:>10.1f}"
        f"{baseline_rate:>12,.0f}{'':>12}{1.0:>12.1f}x"
    )
    for name, result in results:
        print(
            f"{name:<28}{result.learners:>10,}{result.rows:>12,}{result.seconds:>10.1f}"
            f"{result.learners_per_second:>12,.0f}{result.rows_per_second:>12,.0f}"
            f"{result.learners_per_second / baseline_rate:>12.1f}x"
        )
    print(
        f"rows now: mastery {SkillMastery.objects.count():,}, "
        f"paths {LearningPath.objects.count():,}, steps {PathStep.objects.count():,}"
    )
    headline = results[-1][1]
    output = {
        "figures": {
            "learners_per_s": round(headline.learners_per_second, 1),
            "rows_per_s": round(headline.rows_per_second, 1),
            "bkt.learners_per_s": round(bkt.learners_per_second, 1),
            "baseline.learners_per_s": round(baseline_rate, 1),
        },
        "learners": args.learners,
        "skills": args.skills,
        "attempts": attempts,
        "variants": {
            name: {"learners": r.learners, "rows": r.rows, "seconds": round(r.seconds, 2)}
            for name, r in results
        },
        "command": "python bench/path_refresh.py " + " ".join(sys.argv[1:]),
    }
    out = ROOT / "bench" / "results" / "path_refresh.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(output, indent=2) + "\n")


if __name__ == "__main__":
    main()
