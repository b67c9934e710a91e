"""The PostgreSQL writer of the follower import: COPY and a few set-based statements.

Holds `PostgresWriter` (the direct and staged paths, explained in its docstring) and
`can_skip_row_triggers`, which tells whether the role may turn the foreign-key row
triggers off for the writer's own statements.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ..models import Follower, FollowerEvent, OfficialAccount
from .parsing import RowProblem
from .writing import StartOver, Writer, repeat_problems

# The direct path's (openid, tags) pairs stay in memory up to this size, then go to disk.
SPOOL_IN_MEMORY = 16 * 1024 * 1024

FOLLOWER = Follower._meta.db_table
EVENT = FollowerEvent._meta.db_table
KINDS = {"subscribe": FollowerEvent.Kind.SUBSCRIBE.value, "unsubscribe": FollowerEvent.Kind.UNSUBSCRIBE.value}

# Direct path: every follower of the (fresh) account was copied in by this import, following
# from its subscribed_at: one follow each in the history. A follower the platform's events made
# meanwhile already has its own history: left out by an anti-join on the account's few events,
# cheaper than ON CONFLICT's speculative insertion of every row.
DIRECT_FOLLOWS = f"""
INSERT INTO {EVENT} (account_id, follower_id, kind, at, recorded_at)
SELECT f.account_id, f.id, %(subscribe)s, f.subscribed_at, %(now)s FROM {FOLLOWER} f
WHERE f.account_id = %(account)s
  AND NOT EXISTS (SELECT 1 FROM {EVENT} e WHERE e.account_id = %(account)s AND e.follower_id = f.id)
"""

# Staged path, one statement (the rule: accounts.imports.writing, "Following state"):
#   old      the staged rows of known followers, with the state the file would give them (an empty
#            nickname keeps the known one); `since` is the newest event time seen for the follower
#            (last_event_at; before any was recorded, when its state began)
#   updated  known followers whose nickname, state or times change, or whose last_event_at moves
#            forward (a row that changes nothing else still raises it; counted updated only when
#            something else changes); the WHERE also checks that the row is still as read (a
#            concurrent platform event wins: the row is left alone)
#   created  new followers, from rows that follow
#   kept     the follows of new followers and the flips of known ones, into the history
# %(now)s is the moment of the write (the clock's, not the transaction's start, which may be older
# than a change another transaction made meanwhile): what an empty time means.
STAGED_WRITE = f"""
WITH old AS (
    SELECT r.*, r.follows <> r.subscribed AND r.at > r.since AS flips
    FROM (
        SELECT f.id, f.nickname, f.subscribed, f.subscribed_at, f.unsubscribed_at, f.last_event_at,
               coalesce(nullif(s.nickname, ''), f.nickname) AS new_nickname,
               s.subscribed AS follows, coalesce(s.subscribed_at, %(now)s) AS at, s.subscribed_at IS NULL AS untimed,
               coalesce(f.last_event_at,
                        CASE WHEN f.subscribed THEN f.subscribed_at ELSE coalesce(f.unsubscribed_at, f.subscribed_at) END)
                   AS since
        FROM follower_import s JOIN {FOLLOWER} f ON f.account_id = %(account)s AND f.openid = s.openid
    ) r
),
new AS (
    -- A row without a time ("follows, since some time") is no dated event: it raises last_event_at
    -- only when it changes the state (then at now); else a re-import would rewrite every such row.
    SELECT o.*, CASE WHEN untimed AND NOT flips THEN since ELSE greatest(since, at) END AS new_last_event_at,
           CASE WHEN flips THEN follows ELSE subscribed END AS new_subscribed,
           CASE WHEN flips AND follows THEN at
                WHEN subscribed AND follows AND NOT untimed THEN at
                ELSE subscribed_at END AS new_subscribed_at,
           CASE WHEN flips AND NOT follows THEN at ELSE unsubscribed_at END AS new_unsubscribed_at
    FROM old o
),
updated AS (
    UPDATE {FOLLOWER} f
    SET nickname = n.new_nickname, subscribed = n.new_subscribed, subscribed_at = n.new_subscribed_at,
        unsubscribed_at = n.new_unsubscribed_at, last_event_at = n.new_last_event_at
    FROM new n
    WHERE f.id = n.id
      AND (n.new_nickname, n.new_subscribed, n.new_subscribed_at, n.new_unsubscribed_at, n.new_last_event_at)
          IS DISTINCT FROM (n.nickname, n.subscribed, n.subscribed_at, n.unsubscribed_at, n.last_event_at)
      AND (f.subscribed, f.subscribed_at, f.unsubscribed_at, f.last_event_at)
          IS NOT DISTINCT FROM (n.subscribed, n.subscribed_at, n.unsubscribed_at, n.last_event_at)
    RETURNING f.id, n.flips, n.follows, n.at,
              (n.new_nickname, n.new_subscribed, n.new_subscribed_at, n.new_unsubscribed_at)
                  IS DISTINCT FROM (n.nickname, n.subscribed, n.subscribed_at, n.unsubscribed_at) AS visible
),
created AS (
    INSERT INTO {FOLLOWER} (account_id, openid, nickname, subscribed, subscribed_at, unsubscribed_at, last_event_at)
    SELECT %(account)s, s.openid, s.nickname, true, coalesce(s.subscribed_at, %(now)s), NULL,
           coalesce(s.subscribed_at, %(now)s)
    FROM follower_import s
    WHERE s.subscribed
      AND NOT EXISTS (SELECT 1 FROM {FOLLOWER} f WHERE f.account_id = %(account)s AND f.openid = s.openid)
    ON CONFLICT (account_id, openid) DO NOTHING
    RETURNING id, subscribed_at
),
kept AS (
    INSERT INTO {EVENT} (account_id, follower_id, kind, at, recorded_at)
    SELECT %(account)s, id, %(subscribe)s, subscribed_at, %(now)s FROM created
    UNION ALL
    SELECT %(account)s, id, CASE WHEN follows THEN %(subscribe)s ELSE %(unsubscribe)s END, at, %(now)s
    FROM updated WHERE flips
    ON CONFLICT (follower_id, at, kind) DO NOTHING
)
SELECT (SELECT count(*) FROM created), (SELECT count(*) FROM updated WHERE visible)
"""


def can_skip_row_triggers(cursor) -> bool:
    """True when this PostgreSQL role may set session_replication_role (see PostgresWriter)."""
    if connection.vendor != "postgresql":
        return False
    if connection.pg_version >= 150000:
        cursor.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')")
    else:
        cursor.execute("SELECT current_setting('is_superuser') = 'on'")
    return bool(cursor.fetchone()[0])


class PostgresWriter(Writer):
    """COPY and a few set-based statements, in the caller's transaction.

    Two paths.

    *Direct* (the account had no followers when the import began, as in a first import,
    and the file can be read twice): the rows are copied straight into accounts_follower,
    so the server inserts while Python is still parsing; the (openid, tags) pairs go to a
    spooled temporary file (constant memory), are copied into a temporary table
    afterwards, and the tag links are one INSERT … SELECT joined back by openid. A
    repeated openid breaks the unique index: the copy is rolled back to a savepoint and
    the file read again on the staged path, which names the repeated lines.

    Rows that do not follow (`subscribed` 0) are left out: a fresh account knows nobody
    to unfollow. After the copy, one INSERT … SELECT writes each new follower's follow
    into the history (FollowerEvent).

    *Staged* (otherwise): COPY into a temporary table, a search for repeated openids, new
    tags, then one statement (STAGED_WRITE) that updates the known followers that change,
    inserts the new ones and writes each change of following state into the history, and
    the tag links joined back by openid (ON CONFLICT DO NOTHING).

    Row triggers: every inserted follower and tag link normally fires PostgreSQL's
    foreign-key check triggers, three queries for a follower with a tag, which cost more
    than the inserts themselves. When the database role may set
    session_replication_role (a superuser, or on PostgreSQL 15+ after
    `GRANT SET ON PARAMETER session_replication_role TO <role>`), the writer turns them
    off for its own statements, as pg_restore does. The references are sound by
    construction: the account is locked FOR UPDATE, every follower linked was inserted or
    upserted (so locked) by this transaction, and the tags used are locked FOR KEY SHARE;
    other sessions' triggers still guard their own deletes.
    """

    def __init__(self, cursor, account: OfficialAccount, *, fresh: bool, seekable: bool,
                 skip_row_triggers: bool | None):
        super().__init__(cursor, account)
        self.direct = fresh and seekable
        self.skip_row_triggers = can_skip_row_triggers(cursor) if skip_row_triggers is None else skip_row_triggers
        self.spool = None

    # -- reading

    def stage(self, rows) -> int:
        """Copy the valid rows in; returns how many. Raises StartOver (direct path)."""
        cur = self.cursor
        # The staged path hashes the file's rows against the account's followers.
        cur.execute("SET LOCAL work_mem = '64MB'")
        if self.skip_row_triggers:
            cur.execute("SET LOCAL session_replication_role = replica")
        # Times without an offset are wall-clock times in the platform zone: let the
        # server read them in that zone while copying, then restore the session's zone.
        cur.execute("SELECT current_setting('TimeZone'), set_config('TimeZone', %s, true)", [settings.PLATFORM_TIME_ZONE])
        session_zone = cur.fetchone()[0]
        try:
            if self.direct:
                # psycopg is imported where it is used: only PostgreSQL needs it.
                import psycopg  # COPY is psycopg's own API: its errors come unwrapped

                try:
                    with transaction.atomic():
                        return self._copy_direct(rows)
                except (IntegrityError, psycopg.IntegrityError):
                    self.direct = False
                    self.spool.close()
                    raise StartOver from None
            return self._copy_staged(rows)
        finally:
            # A bad file stops the COPY and aborts the transaction, which then takes no more
            # statements; its rollback undoes this transaction-local setting anyway.
            from psycopg import pq

            if cur.connection.info.transaction_status != pq.TransactionStatus.INERROR:
                cur.execute("SELECT set_config('TimeZone', %s, true)", [session_zone])

    def _copy_direct(self, rows) -> int:
        cur, account_id = self.cursor, self.account_id
        # Not the server's now(): nothing may read a timestamptz while the session's zone is
        # switched (Django reads them as UTC).
        now = timezone.now()
        self.spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY, mode="w+", encoding="utf-8", newline="")
        tagged = csv.writer(self.spool).writerow
        count = 0
        with cur.copy(
            "COPY accounts_follower (account_id, openid, nickname, subscribed, subscribed_at, last_event_at) FROM STDIN"
        ) as copy:
            write = copy.write_row
            copied = 0
            for _line, openid, nickname, tags, moment, subscribed in rows:
                count += 1
                if not subscribed:
                    continue  # not a follower, and never one as far as the console knows: unchanged
                when = moment or now  # the follow's time, and so the newest event seen of the follower
                write((account_id, openid, nickname, True, when, when))
                if tags:
                    tagged((openid, tags))
                copied += 1
        self.copied = copied
        return count

    def _copy_staged(self, rows) -> int:
        cur = self.cursor
        cur.execute("DROP TABLE IF EXISTS pg_temp.follower_import")
        cur.execute(
            "CREATE TEMP TABLE follower_import (line integer NOT NULL, openid text NOT NULL, nickname text NOT NULL,"
            " tags text NOT NULL, subscribed_at timestamptz, subscribed boolean NOT NULL) ON COMMIT DROP"
        )
        count = 0
        with cur.copy("COPY follower_import (line, openid, nickname, tags, subscribed_at, subscribed) FROM STDIN") as copy:
            write = copy.write_row
            for row in rows:
                write(row)
                count += 1
        # The planner knows nothing of a fresh temp table; the joins below need its size.
        cur.execute("ANALYZE follower_import")
        return count

    # -- checking

    def duplicates(self, keep: int) -> tuple[list[RowProblem], int]:
        """Later lines repeating an openid of an earlier line: the first `keep`, and how many."""
        if self.direct:
            return [], 0  # the unique index has already said there are none
        self.cursor.execute(
            """
            SELECT line, openid, first_line, count(*) OVER () FROM (
                SELECT line, openid, min(line) OVER (PARTITION BY openid) AS first_line FROM follower_import
            ) d
            WHERE line <> first_line ORDER BY line LIMIT %s
            """,
            [keep],
        )
        rows = self.cursor.fetchall()
        return repeat_problems(rows), (rows[0][3] if rows else 0)

    def drop_duplicates(self) -> None:
        self.cursor.execute(
            "DELETE FROM follower_import s USING follower_import e WHERE e.openid = s.openid AND e.line < s.line"
        )


    # -- writing

    def finish(self) -> None:
        """Row triggers back on for whatever else the transaction does."""
        if self.skip_row_triggers:
            self.cursor.execute("SET LOCAL session_replication_role = DEFAULT")

    def _has_repeats(self) -> bool:
        return bool(self.duplicates(1)[1])

    def _create_tags(self) -> int:
        cur, account_id = self.cursor, self.account_id
        if self.direct:
            self._copy_tag_pairs()
        cur.execute("DROP TABLE IF EXISTS pg_temp.follower_import_tag")
        # The direct path spooled only the rows it copied; the staged one leaves out a row that
        # neither follows nor names a known follower (it writes nothing).
        written = "" if self.direct else (
            " AND (s.subscribed OR EXISTS (SELECT 1 FROM accounts_follower f"
            " WHERE f.account_id = %(account)s AND f.openid = s.openid))"
        )
        cur.execute(
            "CREATE TEMP TABLE follower_import_tag ON COMMIT DROP AS SELECT DISTINCT t.name"
            " FROM follower_import s, unnest(string_to_array(s.tags, '|')) AS t(name) WHERE s.tags <> ''" + written,
            {"account": account_id},
        )
        cur.execute(
            "INSERT INTO accounts_tag (account_id, name) SELECT %s, name FROM follower_import_tag"
            " ON CONFLICT (account_id, name) DO NOTHING",
            [account_id],
        )
        created = cur.rowcount
        # Tags another session might delete before we commit (see the class docstring).
        cur.execute(
            "SELECT count(*) FROM (SELECT 1 FROM accounts_tag WHERE account_id = %s"
            " AND name IN (SELECT name FROM follower_import_tag) FOR KEY SHARE) locked",
            [account_id],
        )
        return created

    def _copy_tag_pairs(self) -> None:
        """Direct path: the spooled (openid, tags) pairs into the table the tag statements read."""
        cur = self.cursor
        cur.execute("DROP TABLE IF EXISTS pg_temp.follower_import")
        cur.execute("CREATE TEMP TABLE follower_import (openid text NOT NULL, tags text NOT NULL) ON COMMIT DROP")
        self.spool.seek(0)
        with cur.copy("COPY follower_import (openid, tags) FROM STDIN (FORMAT csv)") as copy:
            while chunk := self.spool.read(1 << 20):
                copy.write(chunk)
        self.spool.close()
        cur.execute("ANALYZE follower_import")

    def _write_followers(self, phase: Callable[[str], None]) -> tuple[int, int]:
        if self.direct:
            # Copied in while the file was read; their follows go into the history in one statement.
            phase("Writing follower history")
            self.cursor.execute(DIRECT_FOLLOWS, {"account": self.account_id, "now": timezone.now(), **KINDS})
            return self.copied, 0
        phase("Writing followers")
        self.cursor.execute(STAGED_WRITE, {"account": self.account_id, "now": timezone.now(), **KINDS})
        return self.cursor.fetchone()

    def _link_tags(self) -> None:
        # Fresh followers have no links yet, so the direct path needs no conflict check.
        on_conflict = "" if self.direct else "ON CONFLICT (follower_id, tag_id) DO NOTHING"
        self.cursor.execute(
            f"""
            INSERT INTO accounts_follower_tags (follower_id, tag_id)
            SELECT f.id, g.id
            FROM follower_import s
            JOIN accounts_follower f ON f.account_id = %(account)s AND f.openid = s.openid
            CROSS JOIN LATERAL unnest(string_to_array(s.tags, '|')) AS t(name)
            JOIN accounts_tag g ON g.account_id = %(account)s AND g.name = t.name
            WHERE s.tags <> ''
            {on_conflict}
            """,
            {"account": self.account_id},
        )
