"""The chaos run (bench/chaos.py) at a size that fits CI: workers SIGKILLed every 1.5 s, the
broker restarted empty once, a worker's database backend terminated once; every follower
still gets exactly one delivery and the counters add up."""

import os
import subprocess
import sys

import pytest
from django.db import connection

from tests.conftest import ROOT

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_delivery_survives_dead_workers_a_lost_queue_and_a_terminated_backend():
    db = connection.settings_dict
    env = dict(os.environ, DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}")
    env.pop("CELERY_BROKER_URL", None)  # the run starts a Redis of its own
    run = subprocess.run(
        [sys.executable, "bench/chaos.py", "--followers", "20000", "--batch-size", "250", "--kill-every", "1.5",
         "--stale", "3", "--batch-delay", "0.2", "--timeout", "180"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    report = run.stdout + run.stderr
    assert run.returncode == 0, report
    assert "OK: every follower has exactly one delivery" in report
    assert "broker restarts 1" in report and "backends terminated 1" in report, report
    assert "worker kills 0," not in report, report
