"""Benchmark: the advanced mass interface under gunicorn, beside DRF's own floor on the same server.

    .venv/bin/python bench/api.py [--followers 1000000] [--sends 20] [--pages 60] [--clients 2] [--workers 2]

Uses DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test, migrated if needed,
PostgreSQL only) and a Redis database of its own (BENCH_REDIS_URL, default
redis://127.0.0.1:6379/12: the server's tokens and throttle counters, and the dispatch tasks
that approved sends queue, which no worker takes here; emptied at the end). In one run:

1. makes a certified service account with N subscribed followers (one INSERT … generate_series),
   its app secret and an access token;
2. starts gunicorn (--workers sync workers, as the Procfile) serving the console and the floor
   views of bench/api_urls.py, with DEBUG off;
3. from --clients threads, each request on its own connection (gunicorn's sync workers close
   them), measures requests per second of
   * floor: DRF's minimal view answering a GET, and parsing a POSTed 10,000-openid body;
   * `mass/send` with 10,000 openids drawn at random from the N (distinct content each time, so
     no send is a duplicate): parse, resolve the openids, create, screen and approve;
   * floor: DRF's minimal view rendering a 10,000-openid page held in memory;
   * `user/get` pages whose next_openid is spread evenly over the N followers;
   and, as the database's share, a page's statements, the total, and a list's statements
   (resolve 10,000 openids, insert their links) run directly on one connection;
4. stops the server and removes everything it made.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "operator_console.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
os.environ["CELERY_BROKER_URL"] = os.environ["API_CACHE_URL"] = BENCH_REDIS
os.environ["API_CACHE_KEY_PREFIX"] = f"bench-api-{os.getpid()}"

import django  # noqa: E402

django.setup()

import redis  # noqa: E402
import requests  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from accounts import services as account_services  # noqa: E402
from accounts.models import AuditEvent, Certification, Follower, OfficialAccount  # noqa: E402
from broadcasts.models import Broadcast  # noqa: E402

BENCH_ACCOUNT = "Bench API (temporary)"
LIST_SIZE = 10_000


def make_account(n: int) -> OfficialAccount:
    acc = OfficialAccount.objects.create(name=BENCH_ACCOUNT, kind=OfficialAccount.Kind.SERVICE, owner_name="bench")
    Certification.objects.create(account=acc, status=Certification.Status.APPROVED, legal_name="Bench Ltd",
                                 registration_number="bench")
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {Follower._meta.db_table} (account_id, openid, nickname, subscribed, subscribed_at) "
            "SELECT %s, 'oBenchApi' || lpad(g::text, 16, '0'), '', true, now() FROM generate_series(1, %s) g",
            [acc.pk, n],
        )
        cur.execute(f"VACUUM ANALYZE {Follower._meta.db_table}")
    return acc


def openid(i: int) -> str:
    return f"oBenchApi{i:016d}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.api_settings", "DEBUG": "False",
           "SECRET_KEY": "bench-" + "x" * 60, "SECURE_SSL_REDIRECT": "False",
           "API_RATE_PER_MINUTE": "1000000", "API_RATE_PER_DAY": "100000000"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "operator_console.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--timeout", "120", "--pythonpath", str(ROOT)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/bench/floor", timeout=10).ok:
                return proc, base
        except requests.RequestException:  # not listening yet, or a worker still loading Django
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("gunicorn did not answer within 60 s")


def measure(name: str, count: int, clients: int, call) -> float:
    """Run `call(i)` for i in range(count) from `clients` threads; print and return requests/s."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    todo = iter(range(count))

    def worker():
        while True:
            with lock:
                i = next(todo, None)
            if i is None:
                return
            t = time.perf_counter()
            problem = call(i)
            with lock:
                latencies.append(time.perf_counter() - t)
                if problem:
                    failures.append(problem)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    rate = count / wall
    print(f"{name:<58} {count:>5} requests {wall:7.2f} s {rate:9.1f} req/s   "
          f"median {statistics.median(latencies) * 1000:7.1f} ms")
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, the first: {failures[0]}")
    return rate


def timed(name: str, samples: int, statements) -> float:
    """Run `statements(cursor, k)` for k in range(samples) on one connection; print ms each."""
    start = time.perf_counter()
    with connection.cursor() as cur:
        for k in range(samples):
            statements(cur, k)
    seconds = (time.perf_counter() - start) / samples
    print(f"{name:<58} {samples:>5} runs     {seconds * 1000:7.1f} ms each ({1 / seconds:.1f}/s)")
    return seconds


def db_floors(acc: OfficialAccount, n: int, lists: list[list[str]], samples: int) -> None:
    """The database's share, statements run directly: a page (look up next_openid, 10,000 openids
    by keyset), the total, and recording a 10,000-openid list (resolve the openids, insert the
    links, rolled back)."""
    table, link = Follower._meta.db_table, Broadcast.recipients.through._meta.db_table

    def page(cur, k):
        cur.execute(f"SELECT id FROM {table} WHERE account_id = %s AND openid = %s",
                    [acc.pk, openid(1 + k * (n - LIST_SIZE) // samples)])
        cur.execute(f"SELECT openid FROM {table} WHERE account_id = %s AND subscribed AND id > %s "
                    "ORDER BY id LIMIT 10000", [acc.pk, cur.fetchone()[0]])
        cur.fetchall()

    def total(cur, k):
        cur.execute(f"SELECT count(*) FROM {table} WHERE account_id = %s AND subscribed", [acc.pk])
        cur.fetchone()

    def record_list(cur, k):
        with transaction.atomic():
            cur.execute(f"SELECT id FROM {table} WHERE account_id = %s AND openid = ANY(%s::text[])",
                        [acc.pk, lists[k % len(lists)]])
            ids = [row[0] for row in cur.fetchall()]
            cur.execute(f"INSERT INTO {link} (broadcast_id, follower_id) SELECT %s, unnest(%s::bigint[])",
                        [-1 - k, ids])
            transaction.set_rollback(True)

    timed("floor: a page's statements alone (look-up, keyset)", samples, page)
    timed(f"        the total alone (count of {n:,})", min(samples, 10), total)
    timed("floor: a 10,000-openid list's statements alone", min(samples, len(lists)), record_list)


def cleanup() -> None:
    accounts = list(OfficialAccount.objects.filter(name=BENCH_ACCOUNT).values_list("id", flat=True))
    if accounts:
        broadcasts = list(Broadcast.objects.filter(account_id__in=accounts).values_list("id", flat=True))
        with connection.cursor() as cur:
            cur.execute(f"DELETE FROM {Broadcast.recipients.through._meta.db_table} WHERE broadcast_id = ANY(%s)",
                        [broadcasts])
            AuditEvent.objects.filter(account_id__in=accounts).delete()
            Broadcast.objects.filter(pk__in=broadcasts).delete()
            cur.execute(f"DELETE FROM {Follower._meta.db_table} WHERE account_id = ANY(%s)", [accounts])
        OfficialAccount.objects.filter(pk__in=accounts).delete()
    redis.Redis.from_url(BENCH_REDIS).flushdb()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--followers", type=int, default=1_000_000)
    parser.add_argument("--sends", type=int, default=20, help="mass/send requests (20)")
    parser.add_argument("--pages", type=int, default=60, help="user/get requests (60)")
    parser.add_argument("--clients", type=int, default=2, help="client threads (2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("bench/api.py measures PostgreSQL: set DATABASE_URL to a PostgreSQL database.")
    call_command("migrate", verbosity=0)
    cleanup()
    load = os.getloadavg()[0]
    server = None
    try:
        t = time.perf_counter()
        acc = make_account(args.followers)
        secret = account_services.reset_app_secret(acc, by=None)
        token, _ = account_services.issue_access_token(
            grant_type="client_credential", app_id=acc.app_id, secret=secret
        )
        print(f"{args.followers:,} followers made in {time.perf_counter() - t:.1f} s; {os.cpu_count()} CPUs, "
              f"load average {load:.2f}; gunicorn {args.workers} sync workers, {args.clients} client threads")
        server, base = start_server(args.workers)
        run(args, acc, base, token)
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(20)
        cleanup()


def run(args, acc: OfficialAccount, base: str, token: str) -> None:
    rng = random.Random(11)
    lists = [[openid(i) for i in rng.sample(range(1, args.followers + 1), LIST_SIZE)] for _ in range(args.sends)]
    bodies = [{"touser": lst, "msgtype": "text", "text": {"content": f"Bench send {i}"}} for i, lst in enumerate(lists)]
    afters = [openid(1 + k * (args.followers - LIST_SIZE) // args.pages) for k in range(args.pages)]

    def check(response, key):
        return None if response.ok and key in response.json() else f"{response.status_code} {response.text[:200]}"

    measure("floor: DRF minimal view, GET", 200, args.clients,
            lambda i: check(requests.get(f"{base}/bench/floor"), "errcode"))
    measure("floor: DRF minimal view parsing a 10,000-openid body", args.sends, args.clients,
            lambda i: check(requests.post(f"{base}/bench/floor", json=bodies[i]), "n"))
    measure("mass/send with 10,000 openids", args.sends, args.clients,
            lambda i: check(requests.post(f"{base}/cgi-bin/message/mass/send?access_token={token}",
                                          json=bodies[i]), "msg_id"))
    measure("floor: DRF minimal view rendering a 10,000-openid page", args.pages, args.clients,
            lambda i: check(requests.get(f"{base}/bench/page-floor"), "data"))
    measure(f"user/get pages at {args.followers:,} followers", args.pages, args.clients,
            lambda i: check(requests.get(f"{base}/cgi-bin/user/get",
                                         params={"access_token": token, "next_openid": afters[i]}), "data"))
    db_floors(acc, args.followers, lists, min(args.pages, 30))
    sent = Broadcast.objects.filter(account=acc, status=Broadcast.Status.APPROVED).count()
    print(f"check: {sent} approved API broadcasts of {LIST_SIZE:,} recipients each")

if __name__ == "__main__":
    main()
