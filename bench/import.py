"""Benchmark: import 1,000,000 followers from CSV, beside PostgreSQL's own COPY of the same file.

    .venv/bin/python bench/import.py [--rows N] [--keep-file] [--row-triggers]

Uses DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), migrating it if
needed. Writes the CSV into a temporary directory, then in one run:

1. the floor: `COPY` of the file into a bare table without indexes (typed columns,
   timestamps parsed in the platform zone, CSV parsed by the server), streamed from
   this process like the import;
2. the import: `accounts.imports.import_followers` (what `manage.py import_followers`
   calls) into a fresh account — parse, validation, staging, follower upsert, tags;
3. a re-import of the same file into the same account (every row already there:
   the upsert path, with nothing to change).

Prints the times and the ratio to the floor; cleans up after itself (the bench
account, its followers and tags, the floor table, the file).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "operator_console.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.migrations.executor import MigrationExecutor  # noqa: E402

from accounts.imports import can_skip_row_triggers, import_followers  # noqa: E402
from accounts.models import Follower, OfficialAccount, Tag  # noqa: E402

TAGS = ["vip", "beijing", "shanghai", "guangzhou", "newcomer", "weekly-digest", "coffee", "travel", "sports", "tech"]
FLOOR_TABLE = "bench_import_floor"
BENCH_ACCOUNT = "Bench import (temporary)"


def write_csv(path: Path, rows: int) -> None:
    """Rows shaped like a platform export: a third untagged, a third with one tag, a
    third with two; times as dates, with offsets, naive, and empty, in turn."""
    rnd = random.Random(3)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["openid", "nickname", "tags", "subscribed_at"])
        for i in range(rows):
            month, day, hour, minute = 1 + i % 12, 1 + i % 28, i % 24, i % 60
            kind = i % 4
            if kind == 0:
                ts = f"2024-{month:02d}-{day:02d}"
            elif kind == 1:
                ts = f"2024-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00+08:00"
            elif kind == 2:
                ts = f"2024-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:{minute:02d}"
            else:
                ts = ""
            w.writerow([f"oBench{i:022d}", f"粉丝 Fan {i}", "|".join(rnd.sample(TAGS, i % 3)), ts])


def checkpoint() -> None:
    """Start each timed step from a fresh checkpoint (when the role may), so that WAL left by
    earlier work — the CSV's neighbours, other users of the server — does not force one midway."""
    with connection.cursor() as cur:
        cur.execute("SELECT rolsuper OR pg_has_role(current_user, 'pg_checkpoint', 'MEMBER') FROM pg_roles"
                    " WHERE rolname = current_user")
        if cur.fetchone()[0]:
            cur.execute("CHECKPOINT")


def copy_floor(path: Path) -> float:
    checkpoint()
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
        cur.execute(
            f"CREATE TABLE {FLOOR_TABLE} (openid text, nickname text, tags text, subscribed_at timestamptz)"
        )
        cur.execute("SET TIME ZONE %s", [settings.PLATFORM_TIME_ZONE])
        start = time.perf_counter()
        with cur.copy(f"COPY {FLOOR_TABLE} FROM STDIN WITH (FORMAT csv, HEADER true)") as copy, open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                copy.write(chunk)
        elapsed = time.perf_counter() - start
        cur.execute(f"SELECT count(*) FROM {FLOOR_TABLE}")
        assert cur.fetchone()[0] > 0
        cur.execute(f"DROP TABLE {FLOOR_TABLE}")
        cur.execute("SET TIME ZONE 'UTC'")
    return elapsed


def cleanup() -> None:
    """Remove the bench account with its followers, their history, tags and links, and the floor table."""
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
    for account in OfficialAccount.objects.filter(name=BENCH_ACCOUNT):
        with transaction.atomic(), connection.cursor() as cur:
            # Set-based, and without per-row foreign-key triggers where the role may: the
            # bench account's followers are referenced by nothing but their tag links,
            # which go first. (The ORM's cascade would fetch a million rows into Python.)
            cur.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')")
            if cur.fetchone()[0]:
                cur.execute("SET LOCAL session_replication_role = replica")
            cur.execute(
                "DELETE FROM accounts_follower_tags WHERE follower_id IN"
                " (SELECT id FROM accounts_follower WHERE account_id = %s)",
                [account.pk],
            )
            cur.execute("DELETE FROM accounts_follower WHERE account_id = %s", [account.pk])
            cur.execute("DELETE FROM accounts_followerevent WHERE account_id = %s", [account.pk])
            cur.execute("SET LOCAL session_replication_role = DEFAULT")
            account.delete()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep-file", action="store_true", help="leave the CSV in the temp dir")
    parser.add_argument(
        "--row-triggers",
        action="store_true",
        help="keep PostgreSQL's per-row foreign-key triggers on, as for a role that may not set "
        "session_replication_role",
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("bench/import.py needs PostgreSQL: set DATABASE_URL=postgres://…", file=sys.stderr)
        return 2
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", verbosity=0)
    cleanup()  # a run that was killed half-way

    workdir = Path(tempfile.mkdtemp(prefix="bench-import-"))
    path = workdir / "followers.csv"
    try:
        t = time.perf_counter()
        write_csv(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        print(f"CSV: {args.rows:,} rows, {size_mb:.1f} MB, written in {time.perf_counter() - t:.1f} s ({path})")
        with connection.cursor() as cur:
            skip = can_skip_row_triggers(cur) and not args.row_triggers
        print(f"database: {connection.settings_dict['NAME']} on {connection.settings_dict['HOST']}, "
              f"PostgreSQL {connection.pg_version}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; "
              f"row triggers {'skipped (role may set session_replication_role)' if skip else 'on'}")

        floor = copy_floor(path)
        print(f"floor   COPY into a bare table:           {floor:7.2f} s  {args.rows / floor:>10,.0f} rows/s")

        account = OfficialAccount.objects.create(name=BENCH_ACCOUNT, kind=OfficialAccount.Kind.SERVICE)
        phases: list[tuple[str, float]] = []

        def on_phase(text: str) -> None:
            phases.append((text, time.perf_counter()))

        checkpoint()
        start = time.perf_counter()
        phases.append(("Reading and staging", start))
        with open(path, "rb") as f:
            result = import_followers(account, f, name=path.name, on_phase=on_phase, skip_row_triggers=skip)
        elapsed = time.perf_counter() - start
        print(f"import  into a fresh account:             {elapsed:7.2f} s  {args.rows / elapsed:>10,.0f} rows/s"
              f"  = {elapsed / floor:.1f} x floor   ({result.summary})")
        marks = phases + [("end", start + elapsed)]
        print("        " + ", ".join(f"{n.lower()} {b - a:.2f} s" for (n, a), (_, b) in zip(marks, marks[1:], strict=False)))

        checkpoint()
        start = time.perf_counter()
        with open(path, "rb") as f:
            again = import_followers(account, f, name=path.name, skip_row_triggers=skip)
        reimport = time.perf_counter() - start
        print(f"re-import of the same file (unchanged):  {reimport:7.2f} s  {args.rows / reimport:>10,.0f} rows/s"
              f"  = {reimport / floor:.1f} x floor   ({again.summary})")

        followers = Follower.objects.filter(account=account).count()
        tags = Tag.objects.filter(account=account).count()
        assert followers == args.rows, followers
        verdict = "OK" if elapsed <= 20 else "OVER"
        print(f"check: {followers:,} followers, {tags} tags; target 1M rows in <= 20 s: {verdict}")
    finally:
        cleanup()
        if args.keep_file:
            print(f"kept {path}")
        else:
            path.unlink(missing_ok=True)
            workdir.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
