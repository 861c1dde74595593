"""Update lag on the `make run` stack: from an answer posted to its new path being readable.

Run against a running `make run` from the same checkout (it gives one simulated student the demo
password through the same database), SQLite and the filesystem broker by default: 4 students
answer at once, each posting an attempt through the API and polling `GET /api/v1/me/learning-path`
until the path generated after it appears. The baseline, in the same run, is the round trip of
`GET /api/v1/me/learning-path` itself (what a page load costs with no update to wait for).

    .venv/bin/python bench/make_run_lag.py [--url URL] [--rounds 15] [--label NAME]

Prints a table and writes bench/results/make_run_lag[-LABEL].json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STUDENTS = ("maya", "leo", "sam", "sim-student-001")
PASSWORD = "learn-algebra-demo"  # noqa: S105 - the demo accounts' published password


def call(url: str, *, token: str | None = None, body: dict | None = None) -> dict:
    request = urllib.request.Request(  # noqa: S310 - the local server's http URL
        url, data=json.dumps(body).encode() if body else None
    )
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Token {token}")
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local server
        return json.loads(response.read() or b"null")


def _fourth_student_password() -> None:
    """The demo has three named students; give one simulated student the demo password too."""
    import os
    import sys

    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    django.setup()
    from learners.models import User

    user = User.objects.get(username=STUDENTS[-1])
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    api = args.url.rstrip("/") + "/api/v1"
    _fourth_student_password()
    tokens = {}
    for username in STUDENTS:
        try:
            tokens[username] = call(
                f"{api}/auth/token", body={"username": username, "password": PASSWORD}
            )["token"]
        except OSError as error:
            print(f"skipping {username}: {error}")
    course = next(c for c in call(f"{api}/courses")["results"] if c["slug"])
    listed = call(f"{api}/exercises?course={course['id']}&page_size=100")["results"]
    exercises = [e["id"] for e in listed if e["kind"] == "numeric"]
    lags: list[float] = []
    baseline: list[float] = []
    lock = threading.Lock()

    def student(token: str, offset: int) -> None:
        path_url = f"{api}/me/learning-path?course={course['id']}"
        for turn in range(args.rounds):
            started = time.monotonic()
            before = call(path_url, token=token)
            with lock:
                baseline.append(time.monotonic() - started)
            generated = before["results"][0]["generated_at"] if before.get("results") else None
            exercise = exercises[(offset + turn) % len(exercises)]
            posted = time.monotonic()
            call(f"{api}/attempts", token=token, body={"exercise": exercise, "answer": 1})
            while time.monotonic() - posted < 60:
                now = call(path_url, token=token)
                if now.get("results") and now["results"][0]["generated_at"] != generated:
                    break
                time.sleep(0.05)
            with lock:
                lags.append(time.monotonic() - posted)
            time.sleep(0.5)

    threads = [
        threading.Thread(target=student, args=(token, index * 7))
        for index, token in enumerate(tokens.values())
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = {
        "students": len(tokens),
        "updates": len(lags),
        "update_lag_p50_s": round(statistics.median(lags), 3),
        "update_lag_p90_s": round(percentile(lags, 0.9), 3),
        "baseline_path_read_p50_s": round(statistics.median(baseline), 3),
        "ratio_p50": round(statistics.median(lags) / statistics.median(baseline), 1),
    }
    print("| measure | value |\n|---|---|")
    for key, value in result.items():
        print(f"| {key} | {value} |")
    out = ROOT / "bench" / "results" / f"make_run_lag{'-' + args.label if args.label else ''}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
