"""Path refresh fanned out over N real `default` worker processes: learners/s and the scaling.

`measure_workers(course_id, workers, chunk_size)` starts N `celery -A config worker -Q default
-c 1` processes on the configured database and broker, starts a fanned-out refresh
(`adaptive.services.path_refresh_fanout.path_refreshes_start`), waits until its last chunk is
done, stops the workers and returns the figures. `main()` builds a throwaway course with
bench/path_refresh.py's `build_course` / `build_learners`, measures the inline refresh (one
process, today's `path_refresh`) as the baseline, then 1 and 2 workers, and prints the ratio.

    .venv/bin/python bench/path_refresh_workers.py [--learners 5000] [--chunk-size 500]

Needs PostgreSQL (a database `pathwise_bench_workers` is recreated) and Redis (REDIS_URL; its
`default` queue is purged first). Writes bench/results/path_refresh_workers.json. On a machine
whose cores are already busy the ratio says more about the machine than about the design.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
DATABASE = "pathwise_bench_workers"


def _workers_start(count: int, log_dir: Path) -> list[tuple[subprocess.Popen, Path]]:
    env = {
        **os.environ,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PYTHONUNBUFFERED": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    workers = []
    for number in range(count):
        log = log_dir / f"worker-{number}.log"
        with log.open("w") as handle:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "-Q",
                    "default",
                    "-c",
                    "1",
                    "--hostname",
                    f"bench-{number}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "--loglevel",
                    "INFO",
                ],
                cwd=ROOT,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        workers.append((process, log))
    deadline = time.monotonic() + 120
    for process, log in workers:
        while "ready." not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                _workers_stop(workers)
                raise RuntimeError(f"worker did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
    return workers


def _workers_stop(workers: list[tuple[subprocess.Popen, Path]]) -> None:
    for process, _ in workers:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process, _ in workers:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def _default_queue_purge() -> None:
    from celery import current_app

    with current_app.connection_for_write() as connection:
        connection.default_channel.queue_purge("default")


def measure_workers(course_id: int, workers: int, chunk_size: int) -> dict:
    """Refresh a course fanned out over `workers` real worker processes; learners/s and more."""
    from celery import current_app

    from adaptive.models import PathRefresh
    from adaptive.services.path_refresh_fanout import path_refreshes_start

    eager = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = False
    _default_queue_purge()
    with tempfile.TemporaryDirectory(prefix="pathwise-bench-workers-") as folder:
        started_workers = _workers_start(workers, Path(folder))
        try:
            started = time.perf_counter()
            [refresh] = path_refreshes_start(course_ids=[course_id], chunk_size=chunk_size)
            deadline = time.monotonic() + 3600
            while True:
                refresh.refresh_from_db()
                if refresh.status != PathRefresh.Status.RUNNING:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"path refresh {refresh.pk} did not finish in an hour")
                time.sleep(0.05)
            seconds = time.perf_counter() - started
        finally:
            _workers_stop(started_workers)
            current_app.conf.task_always_eager = eager
    return {
        "workers": workers,
        "status": refresh.status,
        "chunk_size": refresh.chunk_size,
        "chunks": refresh.chunks_total,
        "learners": refresh.learners,
        "rows": refresh.rows,
        "seconds": round(seconds, 3),
        "learners_per_s": round(refresh.learners / seconds, 1) if seconds else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=5000)
    parser.add_argument("--attempts", type=int, default=20, help="mean attempts per learner")
    parser.add_argument("--skills", type=int, default=110)
    parser.add_argument("--chunk-size", type=int, default=500)
    parser.add_argument("--admin-dsn", default="dbname=postgres user=postgres host=127.0.0.1")
    args = parser.parse_args()

    import path_refresh as single  # bench/path_refresh.py: the course builders

    single.DATABASE = DATABASE
    single.recreate_database(args.admin_dsn)
    single.setup_django(f"postgres://postgres@127.0.0.1:5432/{DATABASE}")
    from django.core.management import call_command

    from adaptive.services.learning_paths import path_refresh

    call_command("migrate", verbosity=0)
    rng = np.random.default_rng(7)
    print(f"Building {args.learners:,} learners x {args.skills} skills...", file=sys.stderr)
    course, skills, exercises = single.build_course(args.skills, rng)
    attempts = single.build_learners(course, skills, exercises, args.learners, args.attempts, rng)

    inline = path_refresh(course_id=course.pk, chunk_size=args.chunk_size)
    print(f"  inline: {inline.learners_per_second:,.0f} learners/s", file=sys.stderr)
    measured = []
    for workers in (1, 2):
        result = measure_workers(course.pk, workers, args.chunk_size)
        print(f"  {workers} worker(s): {result['learners_per_s']:,} learners/s", file=sys.stderr)
        measured.append(result)
    one, two = measured
    ratio = two["learners_per_s"] / one["learners_per_s"] if one["learners_per_s"] else 0.0

    print()
    print(
        f"Fanned-out path refresh: {args.learners:,} learners, {args.skills} skills, "
        f"{attempts:,} attempts, chunks of {args.chunk_size}, {os.cpu_count()} CPUs"
    )
    print(f"{'variant':<34}{'learners':>10}{'seconds':>10}{'learners/s':>12}{'vs 1 worker':>13}")
    print(
        f"{'baseline: inline, one process':<34}{inline.learners:>10,}{inline.seconds:>10.1f}"
        f"{inline.learners_per_second:>12,.0f}"
        f"{inline.learners_per_second / one['learners_per_s']:>12.2f}x"
    )
    for result in measured:
        name = f"fan-out, {result['workers']} worker process(es)"
        print(
            f"{name:<34}{result['learners']:>10,}{result['seconds']:>10.1f}"
            f"{result['learners_per_s']:>12,.0f}"
            f"{result['learners_per_s'] / one['learners_per_s']:>12.2f}x"
        )
    print(f"2 workers / 1 worker: {ratio:.2f}")
    output = {
        "figures": {
            "workers_1.learners_per_s": one["learners_per_s"],
            "workers_2.learners_per_s": two["learners_per_s"],
            "workers_ratio": round(ratio, 2),
            "inline.learners_per_s": round(inline.learners_per_second, 1),
        },
        "learners": args.learners,
        "skills": args.skills,
        "attempts": attempts,
        "cpus": os.cpu_count(),
        "runs": measured,
        "command": "python bench/path_refresh_workers.py " + " ".join(sys.argv[1:]),
    }
    out = ROOT / "bench" / "results" / "path_refresh_workers.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(output, indent=2) + "\n")


if __name__ == "__main__":
    main()
