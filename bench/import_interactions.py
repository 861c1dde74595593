"""Benchmark `manage.py import_interactions` into throwaway PostgreSQL databases.

    .venv/bin/python bench/import_interactions.py [--csv PATH] [--server postgres://...] [--keep]

Creates the database `pathwise_bench` (dropped first if it exists), migrates it, imports the file
twice (the second run must add nothing) and prints a table. The baseline is the time to merely
read and validate the same CSV with the importer's own reader, measured in the same run. Results
go to bench/results/import_interactions.json.

    .venv/bin/python bench/import_interactions.py --synthetic 1000000,5000000
        [--baseline-rev a4b1117] [--database pathwise_bench_import]

Streaming import (now) beside the importer of ``--baseline-rev`` (before: the whole file parsed
into a list of attempts, then written), at each size of a generated ASSISTments-style CSV (gzip;
50 attempts per learner, 200 skills; bench/scale.py's generator). Each variant imports into its own
fresh database (a copy of one migrated template) in its own subprocess; peak RSS is the child's
``ru_maxrss`` (``os.wait4``), rows/s counts the import call alone (Django start-up excluded). The
variants alternate in order between sizes; "now" then re-imports the file (must add 0), and a
checksum of every attempt (id, username, problem, correctness, time, key) must be equal between
the two databases. Results go to bench/results/import_interactions_streaming.json.
"""

import argparse
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CSV = ROOT.parent / "shared" / "datasets" / "assist2009_akt" / "interactions.csv.gz"
DATABASE = "pathwise_bench"
RESULTS = ROOT / "bench" / "results" / "import_interactions.json"
STREAMING_RESULTS = ROOT / "bench" / "results" / "import_interactions_streaming.json"
BASELINE_REV = "a4b1117"  # the last revision that read the whole file into a list


def _admin_sql(server: str, statement: str) -> None:
    import psycopg2

    connection = psycopg2.connect(f"{server}/postgres")
    try:
        connection.autocommit = True  # CREATE / DROP DATABASE refuse to run in a transaction
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def _manage(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout + completed.stderr)
        raise SystemExit(f"manage.py {' '.join(args)} failed")
    return seconds, completed.stdout.strip()


def _counts(env: dict[str, str]) -> dict[str, int]:
    code = (
        "import json;from learners.models import Attempt,User;"
        "from courses.models import Exercise,Skill;"
        "print(json.dumps({'users':User.objects.count(),'skills':Skill.objects.count(),"
        "'exercises':Exercise.objects.count(),'attempts':Attempt.objects.count()}))"
    )
    _, output = _manage(["shell", "--no-imports", "-c", code], env)
    return json.loads(output.splitlines()[-1])


def _parse_seconds(csv_path: Path, env: dict[str, str]) -> tuple[float, int, int]:
    """Time reading and validating alone, in a fresh interpreter like the command's."""
    code = (
        "import time,json,django;django.setup();from pathlib import Path;"
        "from learners.importers import interactions_scan;t=time.perf_counter();"
        f"log=interactions_scan(Path({str(csv_path)!r}),file_format='assistments');"
        "print(json.dumps([time.perf_counter()-t,log.rows,log.attempts]))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    seconds, rows, attempts = json.loads(completed.stdout.splitlines()[-1])
    return seconds, rows, attempts


# Streaming (now) beside the list importer (before) --------------------------------------------


def _baseline_module(rev: str):
    """The importer of `rev`, loaded from git under another name (it imports today's models)."""
    source = subprocess.run(
        ["git", "show", f"{rev}:learners/importers.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    spec = importlib.util.spec_from_loader("importers_before", loader=None)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["importers_before"] = module  # dataclasses look their module up
    exec(compile(source, f"{rev}:learners/importers.py", "exec"), module.__dict__)  # noqa: S102
    return module


def child(variant: str, csv_path: Path, rev: str) -> None:
    """One import in this fresh process; prints its figures as JSON."""
    import django

    django.setup()
    startup_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    if variant == "before":
        before = _baseline_module(rev)
        log = before.interactions_read(csv_path, file_format="assistments")
        if not log.skill_names:
            log.skill_names = before.skill_names_beside(csv_path)
        # The command's default batch size at that revision.
        result = before.interactions_import(
            log=log, source="synth", course_slug="bench", batch_size=20000
        )
    else:
        from learners.importers import interactions_import

        result = interactions_import(
            path=csv_path, source="synth", course_slug="bench", batch_size=50000
        )
    seconds = time.perf_counter() - started
    # VmHWM is this process's own peak since exec; ru_maxrss can start at the parent's RSS.
    with open("/proc/self/status") as status:
        hwm = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(
        json.dumps(
            {
                "seconds": seconds,
                "vmhwm_mb": hwm / 1024,
                "rows": result.rows,
                "attempts_read": result.attempts_read,
                "attempts_created": result.attempts_created,
                "startup_rss_mb": startup_rss,
            }
        )
    )


def _child_run(variant: str, csv_path: Path, url: str, rev: str) -> dict:
    process = subprocess.Popen(
        [
            sys.executable,
            __file__,
            *("--child", variant, "--csv", str(csv_path), "--baseline-rev", rev),
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "PYTHONPATH": str(ROOT),
        },
        stdout=subprocess.PIPE,
        text=True,
    )
    output = process.stdout.read() if process.stdout else ""
    _pid, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{variant} import of {csv_path.name} failed")
    figures = json.loads(output.strip().splitlines()[-1])
    figures["peak_rss_mb"] = usage.ru_maxrss / 1024
    figures["rows_per_s"] = figures["rows"] / figures["seconds"]
    figures["load_average_1m"] = os.getloadavg()[0]
    return figures


def _checksum(url: str) -> list:
    """Count and order-sensitive hash of every attempt, with its learner and problem keys."""
    import psycopg2

    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), sum(hashtext(concat_ws(',', a.id, u.username, e.external_id,"
                " a.is_correct, a.created_at, a.external_id))::bigint)"
                " FROM learners_attempt a JOIN learners_user u ON u.id = a.user_id"
                " JOIN courses_exercise e ON e.id = a.exercise_id"
            )
            return [int(value or 0) for value in cursor.fetchone()]
    finally:
        connection.close()


def streaming_main(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from scale import csv_write

    # A size is a row count to generate, or the path of an existing CSV to import as it is.
    sizes = [entry if not entry.isdigit() else int(entry) for entry in args.synthetic.split(",")]
    variants = args.variants.split(",")
    template = f"{args.database}_template"
    databases = {variant: f"{args.database}_{variant}" for variant in ("before", "now")}
    load_at_start = os.getloadavg()
    _admin_sql(args.server, f'DROP DATABASE IF EXISTS "{template}"')
    _admin_sql(args.server, f'CREATE DATABASE "{template}"')
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"{args.server}/{template}",
        "PYTHONPATH": str(ROOT),
    }
    _manage(["migrate", "--noinput", "--skip-checks", "-v", "0"], env)
    runs = []
    work = Path(tempfile.mkdtemp(prefix="pathwise-import-bench-"))
    try:
        for index, size in enumerate(sizes):
            label = size if isinstance(size, str) else f"{size:,} rows"
            if isinstance(size, str):
                path = Path(size)
                learners = rows = 0
            else:
                path = work / f"synthetic-{size}.csv.gz"
                learners = args.learners or max(size // 50, 1)
                rows = csv_write(path, learners, max(size // learners, 1), 200, seed=size)
            order = ("before", "now") if index % 2 == 0 else ("now", "before")
            order = tuple(variant for variant in order if variant in variants)
            figures: dict = {"target_rows": size, "rows": rows, "learners": learners}
            for variant in order:
                database = databases[variant]
                _admin_sql(args.server, f'DROP DATABASE IF EXISTS "{database}"')
                _admin_sql(args.server, f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
                url = f"{args.server}/{database}"
                print(f"  {label}: {variant}...", file=sys.stderr, flush=True)
                figures[variant] = _child_run(variant, path, url, args.baseline_rev)
                figures[variant]["checksum"] = _checksum(url)
                if variant == "now":
                    print(f"  {label}: now, re-import...", file=sys.stderr, flush=True)
                    figures["now_reimport"] = _child_run(variant, path, url, args.baseline_rev)
                    if figures["now_reimport"]["attempts_created"] != 0:
                        raise SystemExit("The re-import added attempts")
                    if _checksum(url) != figures["now"]["checksum"]:
                        raise SystemExit("The re-import changed the attempts")
            figures["rows"] = figures[variants[0]]["rows"]
            if isinstance(size, str):
                figures["file"] = path.name
            elif len(variants) < 2:
                path.unlink()
            if len(variants) < 2:
                runs.append(figures)
                continue
            figures["same_attempts"] = figures["before"]["checksum"] == figures["now"]["checksum"]
            if not figures["same_attempts"]:
                raise SystemExit(f"Different attempts at {label}: {figures}")
            runs.append(figures)
            if not isinstance(size, str):
                path.unlink()
    finally:
        for database in (*databases.values(), template):
            _admin_sql(args.server, f'DROP DATABASE IF EXISTS "{database}"')
        for leftover in work.iterdir():
            leftover.unlink()
        work.rmdir()

    print(
        f"import_interactions, streaming (now) vs {args.baseline_rev} (before); PostgreSQL; "
        f"load average at start {load_at_start[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(
        f"{'rows':>10}  {'variant':<18}{'seconds':>9}{'rows/s':>10}{'peak RSS MB':>13}"
        f"{'VmHWM MB':>10}{'start-up MB':>13}{'load':>6}"
    )
    for figures in runs:
        for variant in ("before", "now", "now_reimport"):
            if variant not in figures:
                continue
            f = figures[variant]
            label = {"now_reimport": "now, re-import"}.get(variant, variant)
            print(
                f"{figures['rows']:>10,}  {label:<18}{f['seconds']:>9.1f}{f['rows_per_s']:>10,.0f}"
                f"{f['peak_rss_mb']:>13,.0f}{f['vmhwm_mb']:>10,.0f}{f['startup_rss_mb']:>13,.0f}"
                f"{f['load_average_1m']:>6.1f}"
            )
        if "same_attempts" not in figures:
            continue
        ratio = figures["now"]["rows_per_s"] / figures["before"]["rows_per_s"]
        memory = figures["before"]["peak_rss_mb"] / figures["now"]["peak_rss_mb"]
        print(
            f"{'':>10}  now / before: {ratio:.2f}x rows/s, {memory:.1f}x less peak RSS; "
            f"same attempts: {figures['same_attempts']}"
        )
    results = args.results or STREAMING_RESULTS
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(
        json.dumps(
            {
                "command": "python bench/import_interactions.py " + " ".join(sys.argv[1:]),
                "baseline_rev": args.baseline_rev,
                "runs": runs,
                "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
                f"{platform.python_version()}",
                "load_average_at_start": [round(x, 2) for x in load_at_start],
                "note": "seconds: the import call alone in a fresh process (Django start-up "
                "excluded); peak RSS: ru_maxrss of that process (os.wait4), start-up included; "
                "it can start at the bench's own RSS at fork time, so vmhwm_mb (VmHWM, the "
                "child's own peak since exec) is the tighter figure",
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {results}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--synthetic", help="comma-separated row counts: now vs before")
    parser.add_argument("--baseline-rev", default=BASELINE_REV)
    parser.add_argument("--database", default="pathwise_bench_import")
    parser.add_argument(
        "--learners", type=int, help="with --synthetic: this many learners at every size"
    )
    parser.add_argument("--variants", default="before,now", help="with --synthetic")
    parser.add_argument("--results", type=Path, help="with --synthetic: the JSON file to write")
    parser.add_argument("--child", choices=["before", "now"])
    args = parser.parse_args()
    if args.child:
        child(args.child, args.csv, args.baseline_rev)
        return
    if args.synthetic:
        streaming_main(args)
        return
    if not args.csv.is_file():
        raise SystemExit(f"No such file: {args.csv}")

    load_at_start = os.getloadavg()[0]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": f"{args.server}/{DATABASE}",
        "PYTHONPATH": str(ROOT),
    }
    _admin_sql(args.server, f'DROP DATABASE IF EXISTS "{DATABASE}"')
    _admin_sql(args.server, f'CREATE DATABASE "{DATABASE}"')
    try:
        migrate_seconds, _ = _manage(["migrate", "--noinput", "--skip-checks", "-v", "0"], env)
        parse_seconds, rows, attempts = _parse_seconds(args.csv, env)
        source = "".join(ch for ch in args.csv.name.split(".")[0].lower() if ch.isalnum())[:16]
        command = ["import_interactions", str(args.csv), "--format", "assistments"]
        command += ["--source", source or "bench"]
        first_seconds, first_output = _manage(command, env)
        after_first = _counts(env)
        second_seconds, second_output = _manage(command, env)
        after_second = _counts(env)
    finally:
        if not args.keep:
            _admin_sql(args.server, f'DROP DATABASE IF EXISTS "{DATABASE}"')

    if after_first != after_second:
        raise SystemExit(f"The second import changed counts: {after_first} -> {after_second}")
    lines = [
        ("read + parse only (baseline)", parse_seconds),
        ("import into empty database", first_seconds),
        ("re-import (idempotent, adds 0)", second_seconds),
    ]
    print(f"import_interactions: {args.csv.name}, {rows:,} rows -> {attempts:,} attempts")
    print(
        f"PostgreSQL database {DATABASE}; migrate took {migrate_seconds:.1f} s (not counted); "
        f"load average at start {load_at_start:.1f} on {os.cpu_count()} CPUs"
    )
    print(f"{'run':<34}{'rows':>10}{'seconds':>10}{'rows/s':>12}{'x baseline':>12}")
    for label, seconds in lines:
        print(
            f"{label:<34}{rows:>10,}{seconds:>10.2f}{rows / seconds:>12,.0f}"
            f"{seconds / parse_seconds:>12.1f}"
        )
    print(f"counts after each run: {after_first}")
    print(first_output)
    print(second_output)

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "figures": {
                    "rows": rows,
                    "attempts": attempts,
                    "seconds": round(first_seconds, 2),
                    "rows_per_s": round(rows / first_seconds),
                    "baseline_parse_seconds": round(parse_seconds, 2),
                    "ratio_to_baseline": round(first_seconds / parse_seconds, 2),
                    "reimport_seconds": round(second_seconds, 2),
                    "counts": after_first,
                },
                "command": "manage.py " + " ".join(command),
                "bench": ".venv/bin/python bench/import_interactions.py",
                "database": "PostgreSQL (fresh database, COPY path)",
                "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
                f"{platform.python_version()}",
                "load_average_1m_at_start": round(load_at_start, 2),
                "note": "seconds are wall-clock for the whole command, Django start-up included; "
                "the machine's 2 cores are shared, so compare runs at a similar load",
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
