"""Path refresh throughput: every learner's state, mastery and path recomputed after a promotion.

Builds a throwaway PostgreSQL database with one course of 110 skills (a prerequisite DAG), its
lessons and exercises, and N simulated learners (100,000 by default) with BKT-simulated attempt
histories, then times the chunked refresh (`adaptive.services.learning_paths.path_refresh_chunk`:
one raw query for the histories, batch inference, one mastery vector per learner, COPY writes,
one transaction per chunk) in one process. Measured in the same run:

- the baseline: the per-learner online path (`learner_state_update`, one learner at a time) on a
  sample of learners;
- today's design ("legacy", skip with --no-legacy): the same chunks with histories read through
  the ORM and a row per learner and skill written into a table shaped like the former
  `SkillMastery` (its unique and secondary indexes, foreign keys checked at commit).

The first refresh folds every imported attempt into what each learner is shown; the two
promotion refreshes after it (today's design, then the new one) find it current, as after a
model promotion.

    .venv/bin/python bench/path_refresh.py [--learners 100000] [--attempts 20] [--gru]
    .venv/bin/python bench/path_refresh.py --skills 1223 --learners 330 --out path_refresh_1223.json

Prints a table and writes bench/results/path_refresh.json (or --out).
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
sys.path.insert(0, str(ROOT / "bench"))
DATABASE = "pathwise_bench_paths"


def setup_django(database_url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()


def recreate_database(admin_url: str, database: str) -> None:
    import psycopg2

    connection = psycopg2.connect(admin_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {database}")
        cursor.execute(f"CREATE DATABASE {database}")
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
        [
            Module(course=course, title=f"Module {m}", position=m + 1)
            for m in range((n_skills + 9) // 10)
        ]
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


# Today's design, kept here to be measured beside the new one -------------------------------------
# Until issue 11 raw mastery was a `SkillMastery` row per learner and skill (unique (user, skill),
# an index on (course, user) and one on skill, foreign keys checked at commit) and histories were
# read through the ORM. The legacy variant runs the same chunk refresh with those two parts put
# back: histories through the ORM, and every learner's mastery also written as rows into a table
# shaped like SkillMastery. Its planner is the new one, so the ratio understates today's cost
# (today's planner built every skill's shown value per learner, about 1 ms more).

LEGACY_TABLE = "bench_legacy_skillmastery"


def legacy_table_create() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            CREATE TABLE {LEGACY_TABLE} (
                id bigserial PRIMARY KEY,
                user_id bigint NOT NULL REFERENCES learners_user (id) DEFERRABLE INITIALLY DEFERRED,
                skill_id bigint NOT NULL
                    REFERENCES courses_skill (id) DEFERRABLE INITIALLY DEFERRED,
                course_id bigint NOT NULL,
                probability double precision NOT NULL
                    CHECK (probability >= 0 AND probability <= 1),
                model_version_id bigint NULL
                    REFERENCES adaptive_modelversion (id) DEFERRABLE INITIALLY DEFERRED,
                updated_at timestamptz NOT NULL,
                CONSTRAINT legacy_mastery_unique_user_skill UNIQUE (user_id, skill_id)
            );
            CREATE INDEX legacy_mastery_course_user ON {LEGACY_TABLE} (course_id, user_id);
            CREATE INDEX legacy_mastery_skill ON {LEGACY_TABLE} (skill_id);
            """
        )


def legacy_histories_load(*, course_id: int, user_ids: list[int]):
    """Today's histories read: ORM rows (values_list), as selectors.histories_load was."""
    from adaptive.selectors import History
    from learners.models import Attempt

    grouped = {user_id: ([], [], [], []) for user_id in user_ids}
    attempts = (
        Attempt.objects.filter(course_id=course_id, user_id__in=user_ids)
        .order_by("user_id", "created_at", "pk")
        .values_list("user_id", "pk", "exercise_id", "is_correct", "created_at")
    )
    for user_id, attempt_id, exercise_id, is_correct, created_at in attempts.iterator(
        chunk_size=20000
    ):
        exercises, correct, ids, times = grouped[user_id]
        exercises.append(exercise_id)
        correct.append(is_correct)
        ids.append(attempt_id)
        times.append(created_at.timestamp())
    return {
        user_id: History(user_id, tuple(ex), tuple(co), max(ids) if ids else None, tuple(ti))
        for user_id, (ex, co, ids, ti) in grouped.items()
    }


def legacy_mastery_rows_write(*, course_id: int, runtime, planned, now) -> int:
    """Today's mastery write: delete the chunk's rows, COPY one row per learner and skill."""
    import io

    from django.db import connection

    user_ids = list(planned.plans)
    version = "\\N" if runtime.model_version_id is None else str(runtime.model_version_id)
    stamp = now.isoformat()
    buffer = io.StringIO()
    for row, user_id in enumerate(user_ids):
        buffer.writelines(
            f"{user_id}\t{skill_id}\t{course_id}\t{value!r}\t{version}\t{stamp}\n"
            for skill_id, value in zip(planned.skill_ids, planned.raw[row].tolist(), strict=True)
        )
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {LEGACY_TABLE} WHERE course_id = %s AND user_id = ANY(%s)",  # noqa: S608
            [course_id, user_ids],
        )
        cursor.copy_expert(
            f"COPY {LEGACY_TABLE} (user_id, skill_id, course_id, probability, model_version_id,"
            " updated_at) FROM STDIN",
            buffer,
        )
    return len(user_ids) * len(planned.skill_ids)


def refresh_timed(
    course_id: int, chunk_size: int, *, legacy: bool, progress, limit: int | None = None
):
    """A whole-course refresh through path_refresh_chunk (or its legacy variant), timed; with
    `limit`, only the chunks of the first `limit` learners."""
    from adaptive.services import learning_paths
    from adaptive.serving import runtime_for_course

    started = time.perf_counter()
    runtime = runtime_for_course(course_id=course_id)
    graph = learning_paths.course_graph_load(course_id=course_id)
    hooks = (
        {"histories_read": legacy_histories_load, "extra_write": legacy_mastery_rows_write}
        if legacy
        else {}
    )
    learners = rows = 0
    chunks = list(learning_paths._learner_chunks(course_id, chunk_size))
    if limit is not None:
        chunks = chunks[: max(1, -(-limit // chunk_size))]
    total = sum(len(chunk) for chunk in chunks)
    for user_ids in chunks:
        rows += learning_paths._chunk_refresh(
            course_id=course_id, user_ids=user_ids, runtime=runtime, graph=graph, **hooks
        )
        learners += len(user_ids)
        progress(learners, total)
    return learning_paths.PathRefreshResult(
        course_id=course_id,
        model_version_id=runtime.model_version_id,
        learners=learners,
        rows=rows,
        seconds=time.perf_counter() - started,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--attempts", type=int, default=20, help="mean attempts per learner")
    parser.add_argument("--skills", type=int, default=110)
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument("--baseline-sample", type=int, default=300)
    parser.add_argument("--gru", action="store_true", help="also refresh with a trained GRU")
    parser.add_argument(
        "--no-legacy", action="store_true", help="skip today's design (rows per skill)"
    )
    parser.add_argument(
        "--legacy-learners",
        type=int,
        default=None,
        help="time today's design on the first N learners only (its rate; default: all)",
    )
    parser.add_argument(
        "--workers",
        default="",
        help="also fan the refresh out over N real `default` worker processes, e.g. 1,2 "
        "(bench/path_refresh_workers.py; needs REDIS_URL)",
    )
    parser.add_argument("--out", default="path_refresh.json", help="file name under bench/results/")
    parser.add_argument("--admin-dsn", default="dbname=postgres user=postgres host=127.0.0.1")
    parser.add_argument(
        "--database", default=DATABASE, help="throwaway database (dropped and created)"
    )
    args = parser.parse_args()

    recreate_database(args.admin_dsn, args.database)
    setup_django(f"postgres://postgres@127.0.0.1:5432/{args.database}")
    from django.core.management import call_command
    from django.db import connection, transaction

    from adaptive.models import LearnerState, LearningPath, PathStep
    from adaptive.services.knowledge_state import learner_state_update
    from adaptive.services.learning_paths import path_refresh
    from learners.models import Attempt

    call_command("migrate", verbosity=0)
    rng = np.random.default_rng(7)
    print(f"Building {args.learners:,} learners x {args.skills} skills...", file=sys.stderr)
    course, skills, exercises = build_course(args.skills, rng)
    attempts = build_learners(course, skills, exercises, args.learners, args.attempts, rng)
    with connection.cursor() as cursor:
        # Statistics as autovacuum keeps them on a live database (a fresh COPY has none).
        cursor.execute("ANALYZE")

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

    def analyze() -> None:
        # What autovacuum's ANALYZE does on a live database between two refreshes. This
        # machine's PostgreSQL runs with autovacuum off: without it the tables the variants
        # rewrite keep the statistics of when they were empty, and a plan cached on them in
        # this process (the foreign-key check of every path step against its path, prepared
        # while the baseline wrote its first path) scans the whole table for every row: the
        # one-process variants then measure that, not the refresh.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    def progress(done: int, total: int) -> None:
        if done % (args.chunk_size * 10) == 0 or done == total:
            print(f"  refreshed {done:>7,}/{total:,}", file=sys.stderr)

    # 1. The first refresh of imported attempts: nothing shown yet, so every attempt is folded
    #    into the display state. 2. Today's design, then 3. the new one, after a promotion: what
    #    each learner is shown is current (the usual case), so only the model's side is redone.
    print("First refresh (every attempt folded into what is shown)...", file=sys.stderr)
    analyze()
    first = refresh_timed(course.pk, args.chunk_size, legacy=False, progress=progress)
    results = [("first refresh (folds all)", first)]
    legacy = None
    if not args.no_legacy:
        legacy_table_create()
        analyze()
        print("Today's design (rows per skill, ORM histories)...", file=sys.stderr)
        legacy = refresh_timed(
            course.pk,
            args.chunk_size,
            legacy=True,
            progress=progress,
            limit=args.legacy_learners,
        )
        results.append(("today's design, promotion", legacy))
    print("New design (a mastery vector per learner)...", file=sys.stderr)
    analyze()
    bkt = refresh_timed(course.pk, args.chunk_size, legacy=False, progress=progress)
    results.append(("new design, promotion", bkt))
    fanned = []
    for count in [int(n) for n in args.workers.split(",") if n.strip()]:
        from path_refresh_workers import measure_workers

        print(f"Fan-out over {count} worker process(es)...", file=sys.stderr)
        analyze()
        fanned.append(measure_workers(course.pk, count, args.chunk_size))
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
        f"{'rows/s':>12}{'vs baseline':>13}{'vs legacy':>11}"
    )
    print(
        f"{'baseline: one at a time':<28}{len(sample):>10,}{'':>12}{baseline_seconds:>10.1f}"
        f"{baseline_rate:>12,.1f}{'':>12}{1.0:>12.1f}x"
    )
    for name, result in results:
        versus_legacy = (
            f"{result.learners_per_second / legacy.learners_per_second:>10.2f}x" if legacy else ""
        )
        print(
            f"{name:<28}{result.learners:>10,}{result.rows:>12,}{result.seconds:>10.1f}"
            f"{result.learners_per_second:>12,.1f}{result.rows_per_second:>12,.0f}"
            f"{result.learners_per_second / baseline_rate:>12.1f}x{versus_legacy}"
        )
    for result in fanned:
        name = f"new design, {result['workers']} worker(s)"
        versus_legacy = (
            f"{result['learners_per_s'] / legacy.learners_per_second:>10.2f}x" if legacy else ""
        )
        print(
            f"{name:<28}{result['learners']:>10,}{result['rows']:>12,}{result['seconds']:>10.1f}"
            f"{result['learners_per_s']:>12,.1f}{result['rows'] / result['seconds']:>12,.0f}"
            f"{result['learners_per_s'] / baseline_rate:>12.1f}x{versus_legacy}"
        )
    if len(fanned) >= 2:
        print(
            f"{fanned[-1]['workers']} workers / {fanned[0]['workers']} worker: "
            f"{fanned[-1]['learners_per_s'] / fanned[0]['learners_per_s']:.2f}x"
        )
    print(
        f"rows now: states {LearnerState.objects.count():,}, "
        f"paths {LearningPath.objects.count():,}, steps {PathStep.objects.count():,}"
    )
    headline = results[-1][1]
    output = {
        "figures": {
            "learners_per_s": round(headline.learners_per_second, 1),
            "rows_per_s": round(headline.rows_per_second, 1),
            "bkt.learners_per_s": round(bkt.learners_per_second, 1),
            "first_refresh.learners_per_s": round(first.learners_per_second, 1),
            "baseline.learners_per_s": round(baseline_rate, 1),
            **(
                {
                    "legacy.learners_per_s": round(legacy.learners_per_second, 1),
                    "ratio_to_legacy": round(
                        bkt.learners_per_second / legacy.learners_per_second, 2
                    ),
                }
                if legacy
                else {}
            ),
        },
        "workers": fanned,
        "learners": args.learners,
        "legacy_learners": legacy.learners if legacy else None,
        "skills": args.skills,
        "attempts": attempts,
        "variants": {
            name: {"learners": r.learners, "rows": r.rows, "seconds": round(r.seconds, 2)}
            for name, r in results
        },
        "command": "python bench/path_refresh.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "load_average_at_end": list(os.getloadavg())},
    }
    out = ROOT / "bench" / "results" / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(output, indent=2) + "\n")


if __name__ == "__main__":
    main()
