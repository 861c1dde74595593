"""Real processes for integration tests: Celery workers, a web server and a private Redis."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from config.celery_app import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
WORKER_APPLICATION = "pathwise-test-worker"


def wait_until(condition: Callable[[], object], *, timeout: float, what: str) -> object:
    """Poll `condition` until it returns something truthy; fail the test after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


class Worker:
    def __init__(self, process: subprocess.Popen, log: Path) -> None:
        self.process = process
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def pool_pids(self) -> list[int]:
        """The prefork children that run tasks (the parent only supervises)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)


def database_url_for_workers() -> str:
    db = connection.settings_dict
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    user = db.get("USER") or "postgres"
    return f"postgres://{user}@{host}:{port}/{db['NAME']}?application_name={WORKER_APPLICATION}"


def process_env(broker_url: str) -> dict[str, str]:
    """The environment of a worker or web process on the test database and the given broker."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url_for_workers(),
        "REDIS_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PATHWISE_MODEL_ROOT": str(settings.PATHWISE_MODEL_ROOT),
        "PYTHONUNBUFFERED": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """A private redis-server on a free port, so that a test may stop it (never the shared one)."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        wait_until(lambda: _pings(client), timeout=10, what="the private redis-server")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


@pytest.fixture
def private_redis(tmp_path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


class WebServer:
    def __init__(self, process: subprocess.Popen, port: int, log: Path) -> None:
        self.process = process
        self.url = f"http://127.0.0.1:{port}"
        self.log = log


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own server
            return True
    except urllib.error.HTTPError:
        return True  # it answered
    except OSError:
        return False


@pytest.fixture
def start_web(transactional_db, tmp_path) -> Iterator[Callable[..., WebServer]]:
    """Start the web application (Django's threaded server) on a free port, as a process."""
    servers: list[subprocess.Popen] = []

    def start(*, broker_url: str) -> WebServer:
        port = free_port()
        log = tmp_path / f"web-{port}.log"
        with log.open("w") as handle:
            process = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                cwd=ROOT,
                env=process_env(broker_url),
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        servers.append(process)
        server = WebServer(process, port, log)
        wait_until(
            lambda: _answers(f"{server.url}/api/v1/courses"), timeout=60, what="the web server"
        )
        return server

    yield start
    for process in servers:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)


@pytest.fixture
def celery_sends_for_real() -> Iterator[None]:
    """Tasks sent from the test process go to Redis instead of running in-process."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = True
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()


@pytest.fixture
def start_worker(
    transactional_db, celery_sends_for_real, tmp_path
) -> Iterator[Callable[..., Worker]]:
    """Start `celery worker` processes against the test database; stopped after the test."""
    workers: list[Worker] = []

    def start(
        *,
        queues: str,
        name: str,
        extra_env: dict[str, str] | None = None,
        broker_url: str | None = None,
        beat: bool = False,
    ) -> Worker:
        log = tmp_path / f"{name}-{len(workers)}.log"
        env = {
            **process_env(broker_url or settings.CELERY_BROKER_URL),
            **(extra_env or {}),
        }
        beat_args = ["--beat", "--schedule", str(tmp_path / f"beat-{name}")] if beat else []
        with log.open("w") as handle:
            process = subprocess.Popen(  # a real worker, as production runs it
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--queues",
                    queues,
                    "--concurrency",
                    "1",
                    "--hostname",
                    f"{name}-{len(workers)}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "--loglevel",
                    "INFO",
                    *beat_args,
                ],
                cwd=ROOT,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = Worker(process, log)
        workers.append(worker)
        wait_until(
            lambda: "ready." in worker.output() or process.poll() is not None,
            timeout=90,
            what=f"worker {name} to start",
        )
        assert process.poll() is None, worker.output()[-3000:]
        return worker

    yield start
    for worker in workers:
        worker.stop()
    with connection.cursor() as cursor:
        # Leftover sessions of killed pool processes would block the table flush.
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            [WORKER_APPLICATION],
        )
