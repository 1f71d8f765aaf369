"""The embedded default, end to end: SQLite and kombu's filesystem broker, no external service.

Three processes share one temporary folder the way `make run` shares var/: `manage.py migrate`,
a real `celery -A config worker`, and a `manage.py shell` that enqueues a task.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("subprocess")]

BASE_DIR = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
WORKER_TIMEOUT = 60.0
# The test run's service URLs, and switches that would make the run unlike `make run`.
DROPPED_ENV = {
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CACHE_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}
# Procfile.dev's worker, with one pool process.
WORKER_ARGS = [
    "-A",
    "config",
    "worker",
    "--loglevel=INFO",
    "--concurrency=1",
    "--without-gossip",
    "--without-mingle",
]
ENQUEUE_HEARTBEAT = "from apps.core.tasks import record_heartbeat; record_heartbeat.delay()"


def _embedded_env(tmp_path: Path) -> dict[str, str]:
    """The test run's environment without its service URLs, pointed at a temporary var/ folder."""
    env = {key: value for key, value in os.environ.items() if key not in DROPPED_ENV}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        CELERY_BROKER_URL="filesystem://",
        ENSEMBLE_VAR_DIR=str(tmp_path / "var"),
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONUNBUFFERED="1",
    )
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [PYTHON, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=180, check=False
    )


def _heartbeats(db_path: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(db_path, timeout=20)) as connection:
        return [name for (name,) in connection.execute("SELECT name FROM core_heartbeat")]


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Warm shutdown (the worker stops its pool child), then a kill of its process group if it hangs."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def test_worker_runs_a_task_enqueued_through_the_filesystem_broker_into_sqlite(tmp_path: Path) -> None:
    env = _embedded_env(tmp_path)
    db_path = tmp_path / "db.sqlite3"
    migrate = _run(["manage.py", "migrate", "--noinput"], env)
    assert migrate.returncode == 0, migrate.stderr
    assert _heartbeats(db_path) == []

    worker_log = tmp_path / "worker.log"
    with worker_log.open("wb") as log:
        worker = subprocess.Popen(  # noqa: S603
            [PYTHON, "-m", "celery", *WORKER_ARGS],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a hung worker is killed with its pool child
        )
        try:
            enqueue = _run(["manage.py", "shell", "-c", ENQUEUE_HEARTBEAT], env)
            assert enqueue.returncode == 0, enqueue.stderr

            deadline = time.monotonic() + WORKER_TIMEOUT
            while "scheduler" not in _heartbeats(db_path) and time.monotonic() < deadline:
                assert worker.poll() is None, f"the worker exited:\n{worker_log.read_text()}"
                time.sleep(0.5)
        finally:
            _stop(worker)

    log_text = worker_log.read_text()
    assert _heartbeats(db_path) == ["scheduler"], f"no heartbeat after {WORKER_TIMEOUT:.0f} s:\n{log_text}"
    # Written by the worker, not inline by the enqueuing shell.
    assert re.search(r"Task core\.record_heartbeat\[[0-9a-f-]+\] succeeded", log_text), log_text
