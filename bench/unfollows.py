"""Benchmark: the R8 beat job (unfollows after each broadcast) at 10 million deliveries.

    .venv/bin/python bench/unfollows.py [--followers 2000000] [--broadcasts 5] [--unfollow-rate 0.005]

Uses DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_insight, created and migrated if
needed; PostgreSQL only). In one run:

1. one service account with --followers followers (one INSERT … generate_series);
2. --broadcasts sent broadcasts a day apart, each delivered to every follower over 10 minutes
   (one INSERT … SELECT per broadcast: followers × broadcasts Delivery rows, 10 M by default);
3. unfollow events (FollowerEvent) for --unfollow-rate of the followers after each broadcast, spread
   over the 96 h after it (so some fall outside 72 h, and later broadcasts take some over), a tenth of
   them following again an hour later;
4. ANALYZE, then times `services.measure_broadcast` for each broadcast (the statement the beat job
   and unfollow_report run), twice (the second with the pages cached), and one whole
   `services.measure_unfollows` run (every broadcast, the follower days, the flags).

Prints the figures and removes everything it made.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "operator_console.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_insight")
os.environ.setdefault("DEBUG", "True")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import OfficialAccount  # noqa: E402
from broadcasts import services  # noqa: E402
from broadcasts.models import Broadcast, UnfollowMeasure  # noqa: E402


def ensure_database() -> None:
    settings_db = connection.settings_dict
    try:
        connection.ensure_connection()
    except Exception:  # noqa: BLE001 - the database does not exist yet
        with psycopg.connect(host=settings_db["HOST"], port=settings_db["PORT"], user=settings_db["USER"],
                             password=settings_db["PASSWORD"] or None, dbname="postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{settings_db["NAME"]}"')
    call_command("migrate", verbosity=0)


def timed(label: str, fn):
    start = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - start
    print(f"  {label}: {seconds:.2f} s")
    return value, seconds


def build(n: int, broadcasts: int, rate: float):
    now = timezone.now()
    t0 = now - timedelta(days=broadcasts + 5)
    account = OfficialAccount.objects.create(name="Bench unfollows", kind="service")
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO accounts_follower (account_id, openid, nickname, subscribed, subscribed_at)"
            " SELECT %s, 'bu' || g, '', true, %s FROM generate_series(1, %s) g",
            [account.pk, t0 - timedelta(days=30), n],
        )
        cur.execute("SELECT min(id) FROM accounts_follower WHERE account_id = %s", [account.pk])
        first = cur.fetchone()[0]
    sent = []
    for i in range(broadcasts):
        at = t0 + timedelta(days=i)
        b = Broadcast.objects.create(account=account, title=f"Bench {i}", status="sent", started_at=at,
                                     finished_at=at + timedelta(minutes=10), total_count=n, sent_count=n)
        sent.append(b)
        with connection.cursor() as cur:
            cur.execute(
                "INSERT INTO broadcasts_delivery (broadcast_id, follower_id, status, error, delivered_at)"
                " SELECT %(b)s, id, 'sent', '', %(at)s + (id - %(first)s) * interval '600 seconds' / %(n)s"
                " FROM accounts_follower WHERE account_id = %(account)s",
                {"b": b.pk, "at": at, "first": first, "n": n, "account": account.pk},
            )
            # Unfollows after this broadcast: a random sample, spread over the 96 h after delivery.
            cur.execute(
                "INSERT INTO accounts_followerevent (account_id, follower_id, kind, at, recorded_at)"
                " SELECT %(account)s, %(first)s + floor(random() * %(n)s)::bigint, 'unsubscribe',"
                "        %(at)s + interval '10 minutes' + random() * interval '96 hours', now()"
                " FROM generate_series(1, %(k)s) ON CONFLICT DO NOTHING",
                {"account": account.pk, "first": first, "n": n, "at": at, "k": int(n * rate)},
            )
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO accounts_followerevent (account_id, follower_id, kind, at, recorded_at)"
            " SELECT account_id, follower_id, 'subscribe', at + interval '1 hour', now()"
            " FROM accounts_followerevent WHERE account_id = %s AND random() < 0.1 ON CONFLICT DO NOTHING",
            [account.pk],
        )
        cur.execute("ANALYZE accounts_follower; ANALYZE broadcasts_delivery; ANALYZE accounts_followerevent")
    return account, sent


def clean(account: OfficialAccount) -> None:
    with connection.cursor() as cur:
        cur.execute("DELETE FROM broadcasts_delivery WHERE broadcast_id IN"
                    " (SELECT id FROM broadcasts_broadcast WHERE account_id = %s)", [account.pk])
        cur.execute("DELETE FROM accounts_followerevent WHERE account_id = %s", [account.pk])
        cur.execute("DELETE FROM accounts_follower WHERE account_id = %s", [account.pk])
    UnfollowMeasure.objects.filter(account=account).delete()
    Broadcast.objects.filter(account=account).delete()
    account.delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=2_000_000)
    parser.add_argument("--broadcasts", type=int, default=5)
    parser.add_argument("--unfollow-rate", type=float, default=0.005)
    args = parser.parse_args()
    ensure_database()
    for stale in OfficialAccount.objects.filter(name="Bench unfollows"):
        clean(stale)  # a run interrupted before its cleanup
    deliveries = args.followers * args.broadcasts
    print(f"{args.followers:,} followers × {args.broadcasts} broadcasts = {deliveries:,} deliveries; "
          f"unfollow rate {args.unfollow_rate:.2%} per broadcast")
    (account, sent), _s = timed("set-up (followers, deliveries, events, ANALYZE)",
                                lambda: build(args.followers, args.broadcasts, args.unfollow_rate))
    try:
        for run in ("first", "second"):
            print(f"measure_broadcast, {run} run:")
            for b in sent:
                m, _s = timed(f"#{b.pk}", lambda b=b: services.measure_broadcast(b))
                print(f"    sent {m.sent:,}, unfollows 24 h {m.unfollows_24h:,}, 72 h {m.unfollows_72h:,},"
                      f" rate {m.rate_72h:.4%}")
        UnfollowMeasure.objects.filter(account=account).delete()
        print("measure_unfollows (the beat job, everything in the database):")
        count, seconds = timed("whole run", services.measure_unfollows)
        print(f"    {count} broadcasts measured: {seconds / max(count, 1):.2f} s per broadcast")
    finally:
        timed("clean-up", lambda: clean(account))


if __name__ == "__main__":
    main()
