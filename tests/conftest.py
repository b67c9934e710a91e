import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from tests import factories
from tests.api import Platform

ROOT = Path(__file__).resolve().parent.parent


# The factories as fixtures, for tests that take them as arguments (requesting one gives database access).


@pytest.fixture
def make_account(db):
    """tests.factories.make_account."""
    return factories.make_account


@pytest.fixture
def make_followers(db):
    """tests.factories.make_followers."""
    return factories.make_followers


@pytest.fixture
def make_user(db):
    """tests.factories.make_user."""
    return factories.make_user


def _broker_url() -> str:
    return settings.CELERY_BROKER_URL


@pytest.fixture
def celery_worker_env():
    """Extra environment for the worker process (settings are read from env); override in a test module."""
    return {}


class CeleryWorker:
    """A real `celery worker` process (its own process group) with the given environment."""

    def __init__(self, env: dict):
        self.env = env
        self.proc = None
        self.log = ROOT / f".pytest-worker-{os.getpid()}.log"

    def start(self, concurrency: int = 2, queues: str = "control,bulk"):
        """Start the worker (again) on `queues` (the Procfile runs one worker per queue)."""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "operator_console", "worker", "--loglevel=INFO",
             f"--concurrency={concurrency}", f"--queues={queues}",
             "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-n", f"test-{os.getpid()}-{time.monotonic_ns()}@%h"],
            cwd=ROOT, env=self.env, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        return self

    def kill(self):
        """SIGKILL the whole process group: a crash, no chance to ack or clean up."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def _worker_env(extra: dict) -> dict:
    env = dict(os.environ)
    env.update(extra)
    db = connection.settings_dict
    env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env["CELERY_BROKER_URL"] = _broker_url()
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture
def celery_worker_process(transactional_db, celery_worker_env):
    """A real `celery worker` process on the real Redis broker, using the test database, consuming
    both queues (control and bulk).

    Yields a CeleryWorker with `.proc`, `.stop()`, `.start()`, `.kill()`; the broker database is
    emptied first so no task of an earlier run is picked up.
    """
    client = redis.Redis.from_url(_broker_url())
    client.flushdb()
    worker = CeleryWorker(_worker_env(celery_worker_env)).start()
    yield worker
    worker.stop()
    client.flushdb()


@pytest.fixture
def celery_workers(transactional_db, celery_worker_env):
    """Start workers as the Procfile does, one per queue: `celery_workers(queues="bulk", concurrency=1)`.

    The broker database is emptied first and after; every worker started is stopped at the end.
    """
    client = redis.Redis.from_url(_broker_url())
    client.flushdb()
    started = []

    def start(*, queues: str, concurrency: int = 1, **env) -> CeleryWorker:
        worker = CeleryWorker(_worker_env({**celery_worker_env, **env})).start(concurrency, queues)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
    client.flushdb()


def wait_for(predicate, *, timeout: float = 30, interval: float = 0.2, what: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail the test naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def run_on_sqlite(tmp_path, script: str, **env_overrides) -> dict:
    """Migrate a fresh SQLite database (the first-run default) and run `script` in `manage.py shell` on it,
    in a process of its own; returns the JSON object the script prints last."""
    env = dict(os.environ)
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'first-run.sqlite3'}",
               DJANGO_SETTINGS_MODULE="operator_console.settings", **env_overrides)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    run = subprocess.run([*manage, "shell", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.fixture
def api(client):
    """The advanced mass interface called as an integration would, through Django's test client."""
    return Platform(client)
