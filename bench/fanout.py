"""Benchmark: one broadcast to 1,000,000 followers through real Celery workers, beside the floor.

    .venv/bin/python bench/fanout.py [--followers N] [--workers 2] [--concurrency 1] [--batch-size 5000]

Uses DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test, migrated if needed,
PostgreSQL only) and CELERY_BROKER_URL (default redis://127.0.0.1:6379/13: give it a
Redis database no other worker listens on). In one run:

1. makes a service account with N subscribed followers (one INSERT … generate_series);
2. starts --workers `celery worker` processes (--concurrency each) with the inbox backend;
3. engine, first broadcast: dispatch (audience cut into batches) -> the workers deliver
   every batch (R5 counters created, delivery rows, inbox rows) -> `sent`. Timed from
   the dispatch call to the broadcast's finish; worker memory (RSS of each worker's
   process tree) is sampled every 50 ms;
4. floor, first run: the bare set-based SQL writing the same cap counters and delivery
   rows — one statement, `INSERT … ON CONFLICT DO UPDATE … RETURNING` feeding
   `INSERT … SELECT` — into scratch copies of the real tables (same columns, indexes,
   constraints and storage options);
5. the same again with the counters present (second broadcast of the month, second
   floor run: every counter is an update).

Prints recipients per second of both, their ratio and the peak worker memory, then
removes everything it made (account, followers, broadcasts and their rows, scratch
tables, users) and stops the workers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "operator_console.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/13")

import django  # noqa: E402

django.setup()

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import AuditEvent, Follower, OfficialAccount  # noqa: E402
from broadcasts import lifecycle, selectors, services, windows  # noqa: E402
from broadcasts.models import (  # noqa: E402
    Broadcast,
    Delivery,
    DeliveryBatch,
    FollowerQuotaUsage,
    InboxMessage,
    QuotaPolicy,
)

BENCH_ACCOUNT = "Bench fan-out (temporary)"
SCRATCH = {"usage": "bench_fanout_floor_usage", "delivery": "bench_fanout_floor_delivery"}


# --- setup -------------------------------------------------------------------------------


def make_audience(n: int) -> OfficialAccount:
    acc = OfficialAccount.objects.create(name=BENCH_ACCOUNT, kind=OfficialAccount.Kind.SERVICE, owner_name="bench")
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {Follower._meta.db_table} (account_id, openid, nickname, subscribed, subscribed_at) "
            "SELECT %s, 'oBenchFanout' || lpad(g::text, 16, '0'), '', true, now() FROM generate_series(1, %s) g",
            [acc.pk, n],
        )
        # What autovacuum does soon after a bulk load (statistics, visibility map), and the
        # dead rows of an earlier run's cleanup: not left for autovacuum to do mid-measurement.
        for model in (Follower, FollowerQuotaUsage, Delivery, InboxMessage):
            cur.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    return acc


def approve(acc: OfficialAccount, author: User, reviewer: User, title: str) -> Broadcast:
    b = services.create_broadcast(acc, by=author, title=title, message_type="text", body="Bench message.")
    b = services.submit_broadcast(b, by=author)
    return services.approve_broadcast(b, by=reviewer)


def mirror_tables() -> None:
    """Scratch copies of the cap-counter and delivery tables: same columns, defaults,
    indexes, constraints (foreign keys too, if the real tables have any), storage options
    and id sequence cache."""
    with connection.cursor() as cur:
        for key, real in (("usage", FollowerQuotaUsage._meta.db_table), ("delivery", Delivery._meta.db_table)):
            scratch = SCRATCH[key]
            cur.execute(f"DROP TABLE IF EXISTS {scratch}")
            cur.execute(f"CREATE TABLE {scratch} (LIKE {real} INCLUDING ALL)")
            cur.execute("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [real])
            options = cur.fetchone()[0]
            if options:
                cur.execute(f"ALTER TABLE {scratch} SET ({', '.join(options)})")
            cur.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
                [real],
            )
            for (definition,) in cur.fetchall():
                cur.execute(f"ALTER TABLE {scratch} ADD {definition}")
            cur.execute("SELECT seqcache FROM pg_sequence WHERE seqrelid = pg_get_serial_sequence(%s, 'id')::regclass",
                        [real])
            (cache,) = cur.fetchone()
            cur.execute(f"ALTER TABLE {scratch} ALTER COLUMN id SET CACHE {int(cache)}")


def checkpoint() -> None:
    """Start each timed phase with the same WAL state (a checkpoint otherwise lands in one at random)."""
    with connection.cursor() as cur:
        try:
            cur.execute("CHECKPOINT")
        except Exception as exc:  # not a superuser: measure anyway
            print(f"  (no CHECKPOINT before the phase: {exc})")


# --- workers and their memory -------------------------------------------------------------


class Workers:
    def __init__(self, count: int, concurrency: int, batch_size: int, pool: str, prefetch: int):
        self.procs = []
        self.logs = []
        self.peak_tree = [0] * count  # RSS bytes, per worker (main process + children)
        self.peak_process = 0  # RSS of the largest single process
        self.peak_total = 0  # PSS of all worker processes together (shared pages counted once)
        self._stop = threading.Event()
        env = dict(os.environ)
        env.update(
            BROADCAST_DELIVERY_BACKEND="broadcasts.backends.inbox.InboxBackend",
            BROADCAST_BATCH_SIZE=str(batch_size),
            PYTHONUNBUFFERED="1",
            # Production workers keep their database connection between tasks; with the
            # default CONN_MAX_AGE=0 Django opens a new PostgreSQL backend for every batch.
            CONN_MAX_AGE=os.environ.get("BENCH_WORKER_CONN_MAX_AGE", "600"),
            # As deployed: DEBUG off (no query log kept per task).
            DEBUG="False",
            SECRET_KEY=os.environ.get("SECRET_KEY") or "bench-only-secret-" + "x" * 40,
        )
        self.log_dir = tmp = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
        for i in range(count):
            log = tmp / f"worker{i}.log"
            self.logs.append(log)
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "operator_console", "worker", "--loglevel=INFO",
                     f"--concurrency={concurrency}", f"--pool={pool}", f"--prefetch-multiplier={prefetch}",
                     "--queues=control,bulk",
                     "--without-gossip", "--without-mingle",
                     "--without-heartbeat", "-n", f"bench-fanout-{i}-{os.getpid()}@%h"],
                    cwd=ROOT, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True,
                )
            )
        deadline = time.monotonic() + 60
        while not all(" ready." in log.read_text(errors="replace") for log in self.logs):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                self.stop(keep_logs=True)
                raise SystemExit(f"Celery workers did not start; see {tmp}")
            time.sleep(0.2)
        self.sampler = threading.Thread(target=self._sample, daemon=True)
        self.sampler.start()

    def reset_peaks(self) -> None:
        self.peak_tree = [0] * len(self.procs)
        self.peak_process = self.peak_total = 0

    def _sample(self) -> None:
        while not self._stop.is_set():
            total = 0
            for i, proc in enumerate(self.procs):
                tree = 0
                for pid in _tree(proc.pid):
                    rss, pss = _memory(pid)
                    tree += rss
                    total += pss
                    self.peak_process = max(self.peak_process, rss)
                self.peak_tree[i] = max(self.peak_tree[i], tree)
            self.peak_total = max(self.peak_total, total)
            time.sleep(0.05)

    def stop(self, keep_logs: bool = False) -> None:
        self._stop.set()
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        if not keep_logs:
            shutil.rmtree(self.log_dir, ignore_errors=True)


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return pids


def _memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process in bytes; PSS shares the pages a prefork child shares with its parent."""
    values = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("Rss", "Pss"):
                    values[key] = int(rest.split()[0]) * 1024
    except OSError:
        pass
    return values.get("Rss", 0), values.get("Pss", 0)


# --- the two measurements -------------------------------------------------------------------


def wal_lsn() -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_current_wal_lsn()")
        return cur.fetchone()[0]


def wal_since(lsn: str) -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_current_wal_lsn() - %s::pg_lsn", [lsn])
        return int(cur.fetchone()[0])


def run_engine(b: Broadcast) -> tuple[float, float, Broadcast]:
    checkpoint()
    start = time.perf_counter()
    services.dispatch_broadcast(b)
    dispatched = time.perf_counter() - start
    while True:
        b.refresh_from_db()
        if b.status in lifecycle.FINISHED_STATUSES:
            break
        time.sleep(0.05)
    return time.perf_counter() - start, dispatched, b


def run_floor(acc: OfficialAccount, b: Broadcast) -> tuple[float, int]:
    """The floor: one statement bumps each follower's monthly counter and writes the delivery rows."""
    at = b.scheduled_at
    policy = selectors.policy_in_force(acc.kind, QuotaPolicy.Scope.FOLLOWER, at)
    window = windows.window_for(policy.period, at).start_date
    checkpoint()
    start = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute(
            f"""
            WITH cap AS (
                INSERT INTO {SCRATCH['usage']} AS u (follower_id, window_start, count)
                SELECT f.id, %s, 1 FROM {Follower._meta.db_table} f WHERE f.account_id = %s AND f.subscribed
                ON CONFLICT (follower_id, window_start) DO UPDATE SET count = u.count + 1 WHERE u.count < %s
                RETURNING u.follower_id
            )
            INSERT INTO {SCRATCH['delivery']} (broadcast_id, follower_id, status, error, delivered_at)
            SELECT %s, follower_id, 'sent', '', now() FROM cap
            """,
            [window, acc.pk, policy.limit, b.pk],
        )
        rows = cur.rowcount
        cur.execute("COMMIT")
    return time.perf_counter() - start, rows


# --- cleanup ------------------------------------------------------------------------------------


def cleanup(users: list[User]) -> None:
    accounts = list(OfficialAccount.objects.filter(name=BENCH_ACCOUNT).values_list("id", flat=True))
    with connection.cursor() as cur:
        for scratch in SCRATCH.values():
            cur.execute(f"DROP TABLE IF EXISTS {scratch}")
        if accounts:
            broadcasts = list(Broadcast.objects.filter(account_id__in=accounts).values_list("id", flat=True))
            followers = f"SELECT id FROM {Follower._meta.db_table} WHERE account_id = ANY(%s)"
            if broadcasts:
                cur.execute(f"DELETE FROM {InboxMessage._meta.db_table} WHERE broadcast_id = ANY(%s)", [broadcasts])
                cur.execute(f"DELETE FROM {Delivery._meta.db_table} WHERE broadcast_id = ANY(%s)", [broadcasts])
            cur.execute(
                f"DELETE FROM {FollowerQuotaUsage._meta.db_table} WHERE follower_id IN ({followers})", [accounts]
            )
            DeliveryBatch.objects.filter(broadcast_id__in=broadcasts).delete()
            AuditEvent.objects.filter(account_id__in=accounts).delete()
            Broadcast.objects.filter(pk__in=broadcasts).delete()
            cur.execute(f"DELETE FROM {Follower._meta.db_table} WHERE account_id = ANY(%s)", [accounts])
            OfficialAccount.objects.filter(pk__in=accounts).delete()
    for user in users:
        user.delete()


def mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--followers", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (2)")
    parser.add_argument("--concurrency", type=int, default=1, help="pool size of each worker (1)")
    parser.add_argument("--pool", default="prefork", help="Celery pool (prefork)")
    parser.add_argument("--prefetch-multiplier", type=int, default=settings.CELERY_WORKER_PREFETCH_MULTIPLIER,
                        help="tasks a worker reserves per pool process (the setting: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=settings.BROADCAST_BATCH_SIZE)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("bench/fanout.py measures PostgreSQL: set DATABASE_URL to a PostgreSQL database.")
    settings.BROADCAST_BATCH_SIZE = args.batch_size  # dispatch runs in this process
    call_command("migrate", verbosity=0)
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("celery")  # no stale tasks of an aborted run

    stamp = int(time.time())
    users = [User.objects.create_user(f"bench-author-{stamp}"), User.objects.create_user(f"bench-reviewer-{stamp}")]
    cleanup([])  # an aborted earlier run
    workers = None
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT current_database(), current_setting('server_version'), "
                        "current_setting('shared_buffers'), current_setting('max_wal_size')")
            database, version, shared_buffers, max_wal_size = cur.fetchone()
        print(f"database {database}: PostgreSQL {version} (shared_buffers {shared_buffers}, max_wal_size "
              f"{max_wal_size}), {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
        print(f"Fan-out benchmark: {args.followers:,} followers, batches of {args.batch_size:,}, "
              f"{args.workers} worker(s) x concurrency {args.concurrency} ({args.pool} pool, prefetch multiplier "
              f"{args.prefetch_multiplier}), inbox backend")
        t = time.perf_counter()
        acc = make_audience(args.followers)
        print(f"  audience created in {time.perf_counter() - t:.1f} s")
        mirror_tables()
        workers = Workers(args.workers, args.concurrency, args.batch_size, args.pool, args.prefetch_multiplier)
        rows = []
        for run, label in ((1, "first broadcast of the month (new cap counters)"),
                           (2, "second broadcast (cap counters present)")):
            b = approve(acc, *users, title=f"Bench fan-out {run}")
            workers.reset_peaks()
            lsn = wal_lsn()
            seconds, dispatch_seconds, b = run_engine(b)
            engine_wal = wal_since(lsn)
            assert b.status == Broadcast.Status.SENT and b.sent_count == args.followers, (b.status, b.sent_count)
            lsn = wal_lsn()
            floor_seconds, floor_rows = run_floor(acc, b)
            floor_wal = wal_since(lsn)
            assert floor_rows == args.followers, floor_rows
            engine_rate, floor_rate = args.followers / seconds, args.followers / floor_seconds
            rows.append((label, seconds, engine_rate, floor_seconds, floor_rate))
            print(f"\n  {label}")
            print(f"    engine  {seconds:6.2f} s  {engine_rate:>9,.0f} recipients/s  "
                  f"(dispatch {dispatch_seconds:.2f} s, {b.batch_count} batches; WAL {mb(engine_wal)})")
            print(f"    floor   {floor_seconds:6.2f} s  {floor_rate:>9,.0f} recipients/s  (WAL {mb(floor_wal)})")
            print(f"    ratio   {engine_rate / floor_rate:.2f} of the floor (target >= 0.50)")
            print(f"    worker memory peak: RSS {', '.join(mb(p) for p in workers.peak_tree)} per worker "
                  f"(main + pool processes), largest process {mb(workers.peak_process)}; "
                  f"all workers together {mb(workers.peak_total)} (PSS)")
        print("\n  | run | engine s | engine recipients/s | floor s | floor recipients/s | ratio |")
        print("  |---|---:|---:|---:|---:|---:|")
        for label, seconds, engine_rate, floor_seconds, floor_rate in rows:
            print(f"  | {label} | {seconds:.2f} | {engine_rate:,.0f} | {floor_seconds:.2f} | {floor_rate:,.0f} "
                  f"| {engine_rate / floor_rate:.2f} |")
    finally:
        if workers is not None:
            workers.stop()
        t = time.perf_counter()
        cleanup(users)
        print(f"\n  cleaned up in {time.perf_counter() - t:.1f} s ({timezone.now():%Y-%m-%d %H:%M %Z})")


if __name__ == "__main__":
    main()
