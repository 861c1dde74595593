"""Benchmark `manage.py import_interactions` on ASSIST2009 into a throwaway PostgreSQL database.

    .venv/bin/python bench/import_interactions.py [--csv PATH] [--server postgres://...] [--keep]

Creates the database `pathwise_bench` (dropped first if it exists), migrates it, imports the file
twice (the second run must add nothing) and prints a table. The baseline is the time to merely
read and parse the same CSV with the importer's own reader, measured in the same run. Results go
to bench/results/import_interactions.json.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CSV = ROOT.parent / "shared" / "datasets" / "assist2009_akt" / "interactions.csv.gz"
DATABASE = "pathwise_bench"
RESULTS = ROOT / "bench" / "results" / "import_interactions.json"


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
    """Time interactions_read alone, in a fresh interpreter like the command's."""
    code = (
        "import time,json,django;django.setup();from pathlib import Path;"
        "from learners.importers import interactions_read;t=time.perf_counter();"
        f"log=interactions_read(Path({str(csv_path)!r}),file_format='assistments');"
        "print(json.dumps([time.perf_counter()-t,log.rows,len(log.attempts)]))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    seconds, rows, attempts = json.loads(completed.stdout.splitlines()[-1])
    return seconds, rows, attempts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()
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
