"""Chaos run: one broadcast delivered while workers die, the broker loses its queue and a
database backend is terminated; at the end every follower has exactly one delivery.

    .venv/bin/python bench/chaos.py [--followers 100000] [--batch-size 1000] [--workers 2]
                                    [--kill-every 3] [--stale 5] [--batch-delay 0] [--timeout 600]

Uses DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test, PostgreSQL only) and a
Redis of its own: a `redis-server` started on a free port that keeps nothing on disk, so the
one broker restart loses every queued message and delivery must be recovered from the
database's state (requeue_stale_batches, which this script runs every second as beat would,
with BROADCAST_BATCH_STALE_SECONDS=--stale). In one run:

1. a certified service account with N subscribed followers, one broadcast approved;
2. --workers `celery worker` processes (both queues, concurrency 1) and the dispatch;
3. every --kill-every seconds a random worker is SIGKILLed (its whole process group) and
   started again; once, the broker is killed and started again empty; once, a worker's
   PostgreSQL backend is terminated (pg_terminate_backend);
4. checks: the broadcast is `sent`, every follower has exactly one `sent` delivery and one
   inbox message, total = sent + filtered + failed, and each follower's R5 counter equals
   its sent deliveries.

Exits 0 when every check holds, 1 (saying which failed) otherwise; removes what it made.
tests/test_chaos.py runs it at a size that fits CI.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "operator_console.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
REDIS_PORT = int(os.environ.get("CHAOS_REDIS_PORT") or 0) or None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


REDIS_PORT = REDIS_PORT or _free_port()
os.environ["CELERY_BROKER_URL"] = f"redis://127.0.0.1:{REDIS_PORT}/0"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Sum  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import AuditEvent, Certification, Follower, OfficialAccount  # noqa: E402
from broadcasts import lifecycle, services  # noqa: E402
from broadcasts.models import Broadcast, Delivery, DeliveryBatch, FollowerQuotaUsage, InboxMessage  # noqa: E402

ACCOUNT = "Chaos run (temporary)"
WORKER_APP_NAME = "chaos-worker"


class Redis:
    """A redis-server of this run's own, keeping nothing on disk."""

    def __init__(self, port: int):
        self.port = port
        self.proc = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


class Worker:
    def __init__(self, index: int, env: dict, log_dir: Path):
        self.index, self.env, self.proc = index, env, None
        self.log = log_dir / f"worker{index}.log"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "operator_console", "worker", "--loglevel=INFO",
             "--concurrency=1", "--queues=control,bulk", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-n", f"chaos-{self.index}-{os.getpid()}-{time.monotonic_ns()}@%h"],
            cwd=ROOT, env=self.env, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def make_broadcast(n: int) -> tuple[Broadcast, list[User]]:
    acc = OfficialAccount.objects.create(name=ACCOUNT, kind=OfficialAccount.Kind.SERVICE, owner_name="chaos")
    Certification.objects.create(
        account=acc, status=Certification.Status.APPROVED, legal_name="Chaos Ltd", registration_number="X",
        valid_from=timezone.now() - timedelta(days=1), valid_until=timezone.now() + timedelta(days=30),
    )
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {Follower._meta.db_table} (account_id, openid, nickname, subscribed, subscribed_at) "
            "SELECT %s, 'oChaos' || lpad(g::text, 16, '0'), '', true, now() FROM generate_series(1, %s) g",
            [acc.pk, n],
        )
    suffix = f"{os.getpid()}-{time.monotonic_ns()}"
    author = User.objects.create_user(f"chaos-author-{suffix}")
    reviewer = User.objects.create_user(f"chaos-reviewer-{suffix}")
    b = services.create_broadcast(acc, by=author, title="Chaos run", message_type="text", body="Hello.")
    b = services.submit_broadcast(b, by=author)
    return services.approve_broadcast(b, by=reviewer), [author, reviewer]


def terminate_a_worker_backend() -> int:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s AND pid <> pg_backend_pid() "
            "ORDER BY random() LIMIT 1",
            [WORKER_APP_NAME],
        )
        return sum(1 for (ok,) in cur.fetchall() if ok)


def check(b: Broadcast, n: int) -> list[str]:
    """The end state's problems (empty when every check holds)."""
    b.refresh_from_db()
    problems = []
    if b.status != Broadcast.Status.SENT:
        problems.append(f"broadcast is {b.status}, not sent ({b.failure_reason})")
    per_follower = Delivery.objects.filter(broadcast=b).values("follower_id").annotate(n=Count("id"))
    deliveries = Delivery.objects.filter(broadcast=b).count()
    if deliveries != n or per_follower.filter(n__gt=1).exists():
        problems.append(f"{deliveries:,} deliveries for {n:,} followers")
    sent = Delivery.objects.filter(broadcast=b, status=Delivery.Status.SENT).count()
    if sent != n:
        problems.append(f"{sent:,} sent deliveries, expected {n:,}")
    inbox = InboxMessage.objects.filter(broadcast=b).count()
    if inbox != n:
        problems.append(f"{inbox:,} inbox messages, expected {n:,}")
    if b.total_count != b.sent_count + b.filtered_count + b.error_count or b.sent_count != sent:
        problems.append(
            f"counters do not add up: total {b.total_count}, sent {b.sent_count}, filtered {b.filtered_count}, "
            f"failed {b.error_count} ({sent} sent rows)"
        )
    usage = FollowerQuotaUsage.objects.filter(follower__account=b.account)
    cap_total = usage.aggregate(total=Sum("count"))["total"] or 0
    if cap_total != sent or usage.exclude(count=1).exists():
        problems.append(f"R5 counters sum to {cap_total:,} for {sent:,} sent deliveries")
    return problems


def cleanup(users: list[User]) -> None:
    accounts = list(OfficialAccount.objects.filter(name=ACCOUNT).values_list("id", flat=True))
    if accounts:
        broadcasts = list(Broadcast.objects.filter(account_id__in=accounts).values_list("id", flat=True))
        InboxMessage.objects.filter(broadcast_id__in=broadcasts).delete()
        Delivery.objects.filter(broadcast_id__in=broadcasts).delete()
        FollowerQuotaUsage.objects.filter(follower__account_id__in=accounts).delete()
        DeliveryBatch.objects.filter(broadcast_id__in=broadcasts).delete()
        AuditEvent.objects.filter(account_id__in=accounts).delete()
        Broadcast.objects.filter(pk__in=broadcasts).delete()
        Follower.objects.filter(account_id__in=accounts).delete()
        OfficialAccount.objects.filter(pk__in=accounts).delete()
    for user in users:
        user.delete()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--followers", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kill-every", type=float, default=3.0, help="seconds between worker kills (3)")
    parser.add_argument("--stale", type=int, default=5, help="BROADCAST_BATCH_STALE_SECONDS for this run (5)")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--batch-delay", type=float, default=0,
                        help="seconds each batch takes on top of its work (tests.backends.SlowInboxBackend), "
                             "so that a small run lasts long enough for the faults (0)")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("The chaos run needs PostgreSQL (DATABASE_URL).")

    settings.BROADCAST_BATCH_SIZE = args.batch_size
    settings.BROADCAST_BATCH_STALE_SECONDS = args.stale
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
                     f"?application_name={WORKER_APP_NAME}",
        CELERY_BROKER_URL=os.environ["CELERY_BROKER_URL"], CONN_MAX_AGE="600", PYTHONUNBUFFERED="1",
        BROADCAST_BATCH_SIZE=str(args.batch_size), BROADCAST_BATCH_STALE_SECONDS=str(args.stale),
        BROADCAST_DELIVERY_BACKEND="tests.backends.SlowInboxBackend" if args.batch_delay
        else "broadcasts.backends.inbox.InboxBackend",
        BROADCAST_TEST_BATCH_DELAY=str(args.batch_delay), DEBUG="False",
        SECRET_KEY=os.environ.get("SECRET_KEY") or "chaos-only-secret-" + "x" * 40,
    )
    log_dir = Path(tempfile.mkdtemp(prefix="chaos-"))
    redis = Redis(REDIS_PORT)
    redis.start()
    workers = [Worker(i, env, log_dir) for i in range(args.workers)]
    users: list[User] = []
    events = {"worker kills": 0, "broker restarts": 0, "backends terminated": 0, "batches requeued": 0}
    try:
        started = time.monotonic()
        b, users = make_broadcast(args.followers)
        print(f"{args.followers:,} followers, batches of {args.batch_size:,}, {args.workers} workers; "
              f"Redis on port {REDIS_PORT}; made in {time.monotonic() - started:.1f} s", flush=True)
        for worker in workers:
            worker.start()
        services.dispatch_due_broadcasts()
        b.refresh_from_db()
        print(f"dispatched: {b.batch_count} batches", flush=True)
        began = time.monotonic()
        next_kill = began + args.kill_every
        broker_at, backend_at = began + 2 * args.kill_every + 1, began + args.kill_every + 0.5
        while time.monotonic() - began < args.timeout:
            now = time.monotonic()
            b.refresh_from_db()
            if b.status in lifecycle.FINISHED_STATUSES:
                break
            # A worker's connection to terminate exists only while it runs a task: try until one does.
            if now >= next_kill:
                victim = random.choice(workers)
                victim.kill()
                victim.start()
                events["worker kills"] += 1
                next_kill = now + args.kill_every
            if broker_at and now >= broker_at:
                redis.stop()
                redis.start()
                events["broker restarts"] += 1
                broker_at = None
            if backend_at and now >= backend_at:
                events["backends terminated"] += terminate_a_worker_backend()
                backend_at = None if events["backends terminated"] else now
            try:
                events["batches requeued"] += services.requeue_stale_batches()  # what beat does
            except Exception as exc:  # the broker is restarting: beat would try again too
                print(f"  requeue failed ({exc.__class__.__name__}); trying again", flush=True)
            time.sleep(0.2 if backend_at and now >= backend_at else 1)
        seconds = time.monotonic() - began
        problems = check(b, args.followers)
        print(f"finished in {seconds:.1f} s: {b.status}, sent {b.sent_count:,}, filtered {b.filtered_count:,}, "
              f"failed {b.error_count:,}; " + ", ".join(f"{k} {v}" for k, v in events.items()), flush=True)
        for problem in problems:
            print(f"FAILED: {problem}", flush=True)
        if not problems:
            print("OK: every follower has exactly one delivery; counters and R5 counts add up.", flush=True)
        return 1 if problems else 0
    finally:
        for worker in workers:
            worker.stop()
        redis.stop()
        cleanup(users)
        shutil.rmtree(log_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
