"""A synthetic MOOC course end to end: import, export, one training epoch, promotion, full refresh.

For each size (``--learners``, comma-separated; 50 attempts per learner and 200 skills by
default, so 100,000 learners are 5 M attempts) the bench builds a fresh PostgreSQL database and
runs every stage in its own subprocess, through the project's real entry points:

* import: ``manage.py import_interactions`` on a generated ASSISTments-style CSV (gzip);
* export: ``attempts_export`` + learner split + ``export.sequences()`` + the three subsets;
* training: ``model_version_train(kind="gru", variant="skills", epochs=1)``, which exports
  again, fits BKT, trains the GRU for one epoch and then runs
* promotion: ``model_version_gate`` (scoring on held-out learners) and the activation it calls;
* full refresh: ``adaptive.services.learning_paths.path_refresh`` of the course.

Wall time per stage is measured in its process. Peak RSS: for import, export and refresh, the
child's ``ru_maxrss`` from ``os.wait4``; training and promotion share one process, so a sampling
thread reads ``VmRSS`` every 20 ms and keeps the maximum per stage of the run's progress. The
projection to ``--project`` learners fits a line through the two largest sizes, per stage.

    .venv/bin/python bench/scale.py [--learners 20000,100000] [--attempts 50] [--skills 200]

Prints a table and writes bench/results/scale.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE = "pathwise_bench_scale"
RESULTS = ROOT / "bench" / "results" / "scale.json"
STAGES = ("import", "export", "training", "promotion", "refresh")


def progress(label: str, done: int, total: int) -> None:
    """A one-line progress bar on stderr (tqdm is not a dependency)."""
    width = 30
    filled = int(width * done / max(total, 1))
    end = "\n" if done >= total else ""
    sys.stderr.write(
        f"\r  {label:<24} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}{end}"
    )
    sys.stderr.flush()


def csv_write(path: Path, learners: int, attempts: int, skills: int, seed: int) -> int:
    """An interaction log: learners climb a skill ladder, 2 problems a skill, BKT-like answers."""
    rng = np.random.default_rng(seed)
    rows = 0
    with gzip.open(path, "wt", compresslevel=1) as out:
        out.write("user_id,problem_id,skill_id,correct,order_id\n")
        block = 2000
        for start in range(0, learners, block):
            size = min(block, learners - start)
            lengths = rng.integers(max(3, attempts // 2), attempts * 3 // 2 + 1, size=size)
            user = np.repeat(np.arange(start, start + size), lengths)
            step = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            first = rng.integers(0, skills // 2, size=size)
            skill = (np.repeat(first, lengths) + step // 6) % skills
            problem = skill * 2 + step % 2
            practiced = step % 6
            correct = rng.random(len(step)) < np.where(practiced >= 3, 0.85, 0.3)
            out.write(
                "".join(
                    f"{u},{p},{s},{int(c)},{o}\n"
                    for u, p, s, c, o in zip(
                        user.tolist(),
                        problem.tolist(),
                        skill.tolist(),
                        correct.tolist(),
                        step.tolist(),
                        strict=True,
                    )
                )
            )
            rows += len(step)
            progress("writing CSV", start + size, learners)
    return rows


def database_create(server: str, database: str = DATABASE) -> str:
    import psycopg2

    connection = psycopg2.connect(f"{server}/postgres")
    connection.autocommit = True  # CREATE / DROP DATABASE refuse to run in a transaction
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {database}")
        cursor.execute(f"CREATE DATABASE {database}")
    connection.close()
    return f"{server}/{database}"


def child_run(arguments: list[str], url: str, models: Path) -> tuple[float, float, str]:
    """Run a command; its wall seconds, peak RSS (MB, ru_maxrss of the child) and stdout."""
    started = time.perf_counter()
    process = subprocess.Popen(
        arguments,
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            # Each size's database is new: its model versions start at 1, so artifacts too.
            "PATHWISE_MODEL_ROOT": str(models),
        },
        stdout=subprocess.PIPE,
        text=True,
    )
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(arguments[:4])} failed")
    return time.perf_counter() - started, usage.ru_maxrss / 1024, output


class RssSampler(threading.Thread):
    """Samples this process's VmRSS and keeps the maximum per named stage."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stage = "start"
        self.peaks: dict[str, float] = {}
        self.running = True

    def run(self) -> None:
        while self.running:
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        rss = int(line.split()[1]) / 1024
                        self.peaks[self.stage] = max(self.peaks.get(self.stage, 0.0), rss)
            time.sleep(0.02)


def stage_export(course_slug: str) -> dict:
    from adaptive.ml.sequences import sequences_subset
    from adaptive.services.model_export import attempts_export, learner_split
    from courses.models import Course

    course = Course.objects.get(slug=course_slug)
    export = attempts_export(course=course)
    split = learner_split(export=export)
    sequences = export.sequences()
    subsets = [sequences_subset(sequences, getattr(split, n)) for n in ("train", "validation")]
    return {"attempts": export.n_attempts, "train_attempts": subsets[0].n_attempts}


def stage_training(course_slug: str) -> dict:
    from adaptive.services.model_training import model_version_train
    from courses.models import Course

    course = Course.objects.get(slug=course_slug)
    sampler = RssSampler()
    sampler.start()
    marks: dict[str, float] = {}

    def on_progress(stage: str, info: dict) -> None:
        # export, train and epochs -> "training"; the gate and its activation -> "promotion".
        sampler.stage = "promotion" if stage in ("gate", "done") else "training"
        marks.setdefault(sampler.stage, time.perf_counter())
        if stage == "epoch":
            sys.stderr.write(f"  epoch {info.get('epoch')} done\n")

    run = model_version_train(
        course=course, kind="gru", variant="skills", epochs=1, device="cpu", on_progress=on_progress
    )
    ended = time.perf_counter()
    sampler.running = False
    sampler.join()
    return {
        "training_seconds": marks["promotion"] - marks["training"],
        "promotion_seconds": ended - marks["promotion"],
        "training_rss_mb": sampler.peaks.get("training", 0.0),
        "promotion_rss_mb": sampler.peaks.get("promotion", 0.0),
        "outcome": run.outcome,
        "timings": run.timings,
    }


def stage_refresh(course_slug: str) -> dict:
    from adaptive.services.learning_paths import path_refresh
    from courses.models import Course

    course = Course.objects.get(slug=course_slug)
    result = path_refresh(course_id=course.pk)
    return {"refresh": {k: v for k, v in vars(result).items() if isinstance(v, int | float)}}


def size_run(learners: int, args: argparse.Namespace, work: Path) -> dict:
    url = database_create(args.server, args.database)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        check=True,
    )
    path = work / f"scale-{learners}.csv.gz"
    rows = csv_write(path, learners, args.attempts, args.skills, seed=learners)
    figures: dict = {"learners": learners, "rows": rows}
    models = Path(tempfile.mkdtemp(prefix="pathwise-scale-models-"))
    seconds, rss, _ = child_run(
        [
            sys.executable,
            "manage.py",
            "import_interactions",
            str(path),
            "--format",
            "assistments",
            "--source",
            "synth",
            "--course",
            "scale",
        ],
        url,
        models,
    )
    figures["import"] = {"seconds": seconds, "peak_rss_mb": rss}
    progress("import", 1, 1)
    for stage in ("export", "training", "refresh"):
        seconds, rss, output = child_run(
            [sys.executable, __file__, "--child", stage, "--server", args.server], url, models
        )
        result = json.loads(output.strip().splitlines()[-1])
        if stage == "training":
            figures["training"] = {
                "seconds": result["training_seconds"],
                "peak_rss_mb": result["training_rss_mb"],
                "outcome": result["outcome"],
                "timings": result["timings"],
            }
            figures["promotion"] = {
                "seconds": result["promotion_seconds"],
                "peak_rss_mb": result["promotion_rss_mb"],
            }
        else:
            figures[stage] = {"seconds": seconds, "peak_rss_mb": rss, **result}
        progress(stage, 1, 1)
    path.unlink()
    shutil.rmtree(models)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--learners", default="20000,100000")
    parser.add_argument("--attempts", type=int, default=50, help="mean attempts per learner")
    parser.add_argument("--skills", type=int, default=200)
    parser.add_argument("--project", type=int, default=1_000_000, help="learners to project to")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--database",
        default=DATABASE,
        help="name of the throwaway database (dropped and created for each size)",
    )
    parser.add_argument("--child", choices=["export", "training", "refresh"])
    args = parser.parse_args()
    if args.child:
        import django

        django.setup()
        stage = {"export": stage_export, "training": stage_training, "refresh": stage_refresh}
        print(json.dumps(stage[args.child]("scale"), default=str))
        return

    work = ROOT / "bench" / "results"
    work.mkdir(parents=True, exist_ok=True)
    sizes = sorted(int(size) for size in args.learners.split(","))
    runs = []
    for learners in sizes:
        print(f"{learners:,} learners", file=sys.stderr)
        runs.append(size_run(learners, args, work))
        print(json.dumps(runs[-1], default=str), file=sys.stderr)
    projection = {}
    if len(runs) >= 2:
        small, large = runs[-2], runs[-1]
        span = large["learners"] - small["learners"]
        for stage in STAGES:
            projection[stage] = {
                key: small[stage][key]
                + (large[stage][key] - small[stage][key])
                / span
                * (args.project - small["learners"])
                for key in ("seconds", "peak_rss_mb")
            }
    print(
        f"\n{'stage':<11}"
        + "".join(f"{r['learners']:>10,} l: s / MB" for r in runs)
        + (f"{args.project:>12,} l (projected)" if projection else "")
    )
    for stage in STAGES:
        line = f"{stage:<11}" + "".join(
            f"{r[stage]['seconds']:>13.1f} / {r[stage]['peak_rss_mb']:>5.0f}" for r in runs
        )
        if projection:
            p = projection[stage]
            line += f"{p['seconds']:>14.0f} / {p['peak_rss_mb']:>6.0f}"
        print(line)
    RESULTS.write_text(
        json.dumps(
            {
                "command": " ".join(sys.argv),
                "attempts_per_learner": args.attempts,
                "skills": args.skills,
                "rss": "ru_maxrss of each stage's subprocess; training and promotion share one "
                "process and are split by a 20 ms VmRSS sampling thread",
                "runs": runs,
                "projection": {"learners": args.project, "linear_from": sizes[-2:], **projection},
            },
            indent=2,
            default=str,
        )
    )


if __name__ == "__main__":
    main()
