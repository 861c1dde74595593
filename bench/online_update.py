"""Online update latency: from an attempt posted through the API to the new path being readable.

Builds a throwaway PostgreSQL database with the demo course (`seed_demo`) and a GRU trained on
its simulated attempts, starts gunicorn and a real Celery worker (queue `default`) on Redis,
then posts attempts as enrolled students and polls `GET /api/v1/me/learning-path` until the
path generated after that attempt is readable. Baseline in the same run: the round trip of the
trivial `/healthz` endpoint. Also measured in-process: model compute per update (one NumPy GRU
step) against a full replay of the learner's history.

    .venv/bin/python bench/online_update.py [--attempts 200] [--students 10]

Prints a table and writes bench/results/online_update.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE = "pathwise_bench_online"
REDIS_URL = "redis://127.0.0.1:6379/13"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(url: str, *, token: str | None = None, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if data else "GET")  # noqa: S310
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Token {token}")
    with urllib.request.urlopen(req, timeout=30) as response:  # noqa: S310 - loopback only
        return json.loads(response.read() or b"{}")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=200)
    parser.add_argument("--students", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()

    import psycopg2
    import redis

    admin = psycopg2.connect("dbname=postgres user=postgres host=127.0.0.1")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        cursor.execute(f"CREATE DATABASE {DATABASE}")
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        "REDIS_URL": REDIS_URL,
        "PATHWISE_VAR_DIR": str(ROOT / "var" / "bench-online"),
        "PATHWISE_THROTTLE_USER": "100000/min",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from adaptive.models import ModelVersion
    from adaptive.selectors import histories_load
    from adaptive.services.model_training import model_version_train
    from adaptive.serving import replay_batch, runtime_for_course
    from courses.models import Course
    from learners.models import Enrollment, User

    print("Preparing the demo course and a GRU...", file=sys.stderr)
    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    course = Course.objects.get(slug="foundations-of-algebra")
    run = model_version_train(course=course, kind=ModelVersion.Kind.GRU, epochs=args.epochs)
    version = ModelVersion.objects.get(course=course, status="active")
    students = []
    for index in range(args.students):
        user = User.objects.create(username=f"bench-online-{index}", role="student")
        Enrollment.objects.create(user=user, course=course)
        students.append((user, Token.objects.create(user=user).key))
    exercises = list(
        course.exercises.filter(kind="numeric").values_list("pk", "numeric_answer", "max_attempts")
    )

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logs = ROOT / "var" / "bench-online"
    logs.mkdir(parents=True, exist_ok=True)
    processes = [
        subprocess.Popen(  # the web process, as deployed
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--threads",
                "2",
            ],
            cwd=ROOT,
            env=env,
            stdout=(logs / "web.log").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        ),
        subprocess.Popen(  # a real worker on the default queue
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--queues",
                "default",
                "--concurrency",
                "2",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=(logs / "worker.log").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        ),
    ]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                request(f"{base}/healthz")
                if "ready." in (logs / "worker.log").read_text():
                    break
            except OSError:
                pass
            time.sleep(0.2)
        healthz = []
        for _ in range(args.attempts):
            started = time.perf_counter()
            request(f"{base}/healthz")
            healthz.append((time.perf_counter() - started) * 1000)

        rng = np.random.default_rng(0)
        post_ms, visible_ms = [], []
        # The attempt policy refuses (409) an exercise after its last wrong attempt: a student
        # about to use it up answers right instead, so every request here is a recorded attempt.
        wrong: dict[tuple[int, int], int] = {}
        url_path = f"{base}/api/v1/me/learning-path?course={course.pk}"
        for index in range(args.attempts):
            user, token = students[index % len(students)]
            before = request(url_path, token=token)["results"]
            previous = before[0]["generated_at"] if before else None
            exercise, answer, max_attempts = exercises[int(rng.integers(len(exercises)))]
            is_right = rng.random() < 0.7 or wrong.get((user.pk, exercise), 0) >= max_attempts - 1
            if not is_right:
                wrong[(user.pk, exercise)] = wrong.get((user.pk, exercise), 0) + 1
            started = time.perf_counter()
            request(
                f"{base}/api/v1/attempts",
                token=token,
                body={"exercise": exercise, "answer": answer if is_right else -1},
            )
            post_ms.append((time.perf_counter() - started) * 1000)
            while True:
                paths = request(url_path, token=token)["results"]
                if paths and paths[0]["generated_at"] != previous:
                    break
                if time.perf_counter() - started > 30:
                    raise RuntimeError("no new path within 30 s")
                time.sleep(0.005)
            visible_ms.append((time.perf_counter() - started) * 1000)
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=20)

    # Model compute: one NumPy GRU step per update, against replaying the whole history.
    runtime = runtime_for_course(course_id=course.pk)
    user, _ = students[0]
    history = histories_load(course_id=course.pk, user_ids=[user.pk])[user.pk]
    skills = {
        pk: [s.pk for s in e.skills.all()]
        for pk, e in ((e.pk, e) for e in course.exercises.prefetch_related("skills"))
    }
    state = runtime.initial_state()
    step_times = []
    for exercise_id, correct in zip(history.exercise_ids, history.correct, strict=True):
        started = time.perf_counter()
        state = runtime.step(state, skills[exercise_id], correct, exercise_id)
        runtime.mastery(state)
        step_times.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    replay_batch(runtime, [history], skills)
    replay_ms = (time.perf_counter() - started) * 1000
    task_seconds = [
        float(line.rsplit(" succeeded in ", 1)[1].split("s:", 1)[0])
        for line in (logs / "worker.log").read_text().splitlines()
        if "learner_state_update_task" in line and " succeeded in " in line
    ]

    p95_visible = percentile(visible_ms, 95)
    p95_healthz = percentile(healthz, 95)
    print()
    print(
        f"Online update: {args.attempts} attempts by {args.students} students through the API; "
        f"GRU version {version.pk} (held-out AUC {version.auc or float('nan'):.3f}, "
        f"{run.timings.get('train_seconds', 0):.0f} s to train)"
    )
    print(f"{'measure':<40}{'p50 ms':>10}{'p95 ms':>10}{'vs healthz p95':>16}")
    rows = [
        ("baseline: GET /healthz", healthz),
        ("POST /api/v1/attempts (graded, stored)", post_ms),
        ("attempt posted -> new path readable", visible_ms),
        ("worker task (state, mastery, path)", [s * 1000 for s in task_seconds]),
        ("model compute: one GRU step + readout", step_times),
    ]
    for name, values in rows:
        print(
            f"{name:<40}{percentile(values, 50):>10.2f}{percentile(values, 95):>10.2f}"
            f"{percentile(values, 95) / p95_healthz:>15.1f}x"
        )
    print(f"replay of a {len(history.exercise_ids)}-attempt history: {replay_ms:.2f} ms")
    output = {
        "figures": {
            "p95_ms": round(p95_visible, 1),
            "p50_ms": round(percentile(visible_ms, 50), 1),
            "model_compute_p95_ms": round(percentile(step_times, 95), 3),
            "task_p95_ms": round(percentile([s * 1000 for s in task_seconds], 95), 1),
            "healthz_p95_ms": round(p95_healthz, 1),
        },
        "attempts": args.attempts,
        "students": args.students,
        "command": "python bench/online_update.py " + " ".join(sys.argv[1:]),
    }
    out = ROOT / "bench" / "results" / "online_update.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(output, indent=2) + "\n")


if __name__ == "__main__":
    main()
