"""The SQLite writer of the follower import (the first-run default database).

Holds `SqliteWriter`: chunked inserts into temporary tables, then SQLite's upsert.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.utils import timezone

from ..models import FollowerEvent, OfficialAccount
from .parsing import TAG_SEPARATOR, RowProblem
from .writing import Writer, repeat_problems

# Staging: rows per executemany (bounded memory, few round trips).
SQLITE_CHUNK = 2_000

# The staged rows of known followers, with what the file would make of them (as STAGED_WRITE's
# `old` and `new` in postgres.py); times are compared as Django stores them (UTC text). `since` is
# never NULL, so SQLite's max() of it and the row's time is the newer of the two.
_CHANGES = """
CREATE TEMP TABLE follower_import_change AS
SELECT id, follows, at, flips, nickname, subscribed, subscribed_at, unsubscribed_at, last_event_at, new_nickname,
       CASE WHEN untimed AND NOT flips THEN since ELSE max(since, at) END AS new_last_event_at,
       CASE WHEN flips THEN follows ELSE subscribed END AS new_subscribed,
       CASE WHEN flips AND follows THEN at
            WHEN subscribed AND follows AND NOT untimed THEN at
            ELSE subscribed_at END AS new_subscribed_at,
       CASE WHEN flips AND NOT follows THEN at ELSE unsubscribed_at END AS new_unsubscribed_at
FROM (
    SELECT r.*, r.follows <> r.subscribed AND r.at > r.since AS flips
    FROM (
        SELECT f.id, f.nickname, f.subscribed, f.subscribed_at, f.unsubscribed_at, f.last_event_at,
               coalesce(nullif(s.nickname, ''), f.nickname) AS new_nickname,
               s.subscribed AS follows, coalesce(s.subscribed_at, %(now)s) AS at, s.subscribed_at IS NULL AS untimed,
               coalesce(f.last_event_at,
                        CASE WHEN f.subscribed THEN f.subscribed_at ELSE coalesce(f.unsubscribed_at, f.subscribed_at) END)
                   AS since
        FROM follower_import s JOIN accounts_follower f ON f.account_id = %(account)s AND f.openid = s.openid
    ) r
)
"""


class SqliteWriter(Writer):
    """The first-run default: chunked inserts into temporary tables, then an upsert in SQLite's SQL."""

    def __init__(self, cursor, account: OfficialAccount, **_):
        super().__init__(cursor, account)
        self.adapt = connection.ops.adapt_datetimefield_value
        self.zone = ZoneInfo(settings.PLATFORM_TIME_ZONE)

    def stage(self, rows) -> int:
        cur = self.cursor
        cur.execute("DROP TABLE IF EXISTS temp.follower_import")
        cur.execute("DROP TABLE IF EXISTS temp.follower_import_tag")
        cur.execute(
            "CREATE TEMP TABLE follower_import (line integer PRIMARY KEY, openid text, nickname text, subscribed_at text,"
            " subscribed integer)"
        )
        cur.execute("CREATE TEMP TABLE follower_import_tag (line integer, name text)")
        count = 0
        chunk, tag_chunk = [], []
        adapt, zone = self.adapt, self.zone
        for line, openid, nickname, tags, moment, subscribed in rows:
            if moment is not None:
                moment = adapt(moment if moment.tzinfo is not None else moment.replace(tzinfo=zone))
            chunk.append((line, openid, nickname, moment, subscribed))
            if tags:
                tag_chunk.extend((line, name) for name in tags.split(TAG_SEPARATOR))
            if len(chunk) >= SQLITE_CHUNK:
                count += self._flush(chunk, tag_chunk)
                chunk, tag_chunk = [], []
        count += self._flush(chunk, tag_chunk)
        cur.execute("CREATE INDEX temp.follower_import_openid ON follower_import (openid)")
        return count

    def _flush(self, chunk, tag_chunk) -> int:
        if chunk:
            self.cursor.executemany("INSERT INTO follower_import VALUES (%s, %s, %s, %s, %s)", chunk)
        if tag_chunk:
            self.cursor.executemany("INSERT INTO follower_import_tag VALUES (%s, %s)", tag_chunk)
        return len(chunk)

    _REPEATS = """
        SELECT s.line, s.openid, (SELECT min(e.line) FROM follower_import e WHERE e.openid = s.openid)
        FROM follower_import s
        WHERE EXISTS (SELECT 1 FROM follower_import e WHERE e.openid = s.openid AND e.line < s.line)
    """

    def duplicates(self, keep: int) -> tuple[list[RowProblem], int]:
        self.cursor.execute(f"SELECT count(*) FROM ({self._REPEATS})")
        total = self.cursor.fetchone()[0]
        self.cursor.execute(f"{self._REPEATS} ORDER BY s.line LIMIT %s", [keep])
        return repeat_problems(self.cursor.fetchall()), total

    def drop_duplicates(self) -> None:
        self.cursor.execute(
            "DELETE FROM follower_import WHERE EXISTS (SELECT 1 FROM follower_import e"
            " WHERE e.openid = follower_import.openid AND e.line < follower_import.line)"
        )
        self.cursor.execute("DELETE FROM follower_import_tag WHERE line NOT IN (SELECT line FROM follower_import)")

    # -- writing

    def _has_repeats(self) -> bool:
        # SQLite's upsert would apply a repeated openid twice instead of failing: look first.
        self.cursor.execute(f"SELECT EXISTS ({self._REPEATS})")
        return bool(self.cursor.fetchone()[0])

    def _create_tags(self) -> int:
        cur, account_id = self.cursor, self.account_id
        # A row that neither follows nor names a known follower writes nothing, not even its tags.
        cur.execute(
            "DELETE FROM follower_import_tag WHERE line IN (SELECT line FROM follower_import s WHERE NOT s.subscribed"
            " AND NOT EXISTS (SELECT 1 FROM accounts_follower f WHERE f.account_id = %s AND f.openid = s.openid))",
            [account_id],
        )
        cur.execute(
            "SELECT count(DISTINCT t.name) FROM follower_import_tag t WHERE NOT EXISTS"
            " (SELECT 1 FROM accounts_tag g WHERE g.account_id = %s AND g.name = t.name)",
            [account_id],
        )
        created = cur.fetchone()[0]
        cur.execute(
            "INSERT INTO accounts_tag (account_id, name) SELECT DISTINCT %s, name FROM follower_import_tag WHERE true"
            " ON CONFLICT (account_id, name) DO NOTHING",
            [account_id],
        )
        return created

    def _write_followers(self, phase: Callable[[str], None]) -> tuple[int, int]:
        """PostgresWriter's STAGED_WRITE in a few statements (the rule: writing.py, "Following state")."""
        cur, params = self.cursor, {"account": self.account_id, "now": self.adapt(timezone.now()),
                                    "subscribe": FollowerEvent.Kind.SUBSCRIBE.value,
                                    "unsubscribe": FollowerEvent.Kind.UNSUBSCRIBE.value}
        phase("Writing followers")
        cur.execute("DROP TABLE IF EXISTS temp.follower_import_change")
        cur.execute(_CHANGES, params)
        cur.execute(
            "DELETE FROM follower_import_change WHERE (new_nickname, new_subscribed, new_subscribed_at, new_unsubscribed_at,"
            " new_last_event_at) IS (nickname, subscribed, subscribed_at, unsubscribed_at, last_event_at)"
        )
        # Counted updated when more than last_event_at changes (a row that only raises it is unchanged).
        cur.execute(
            "SELECT count(*) FROM follower_import_change WHERE NOT (new_nickname, new_subscribed, new_subscribed_at,"
            " new_unsubscribed_at) IS (nickname, subscribed, subscribed_at, unsubscribed_at)"
        )
        updated = cur.fetchone()[0]
        cur.execute(
            """
            UPDATE accounts_follower SET nickname = c.new_nickname, subscribed = c.new_subscribed,
                subscribed_at = c.new_subscribed_at, unsubscribed_at = c.new_unsubscribed_at,
                last_event_at = c.new_last_event_at
            FROM follower_import_change c WHERE accounts_follower.id = c.id
            """
        )
        cur.execute(
            "INSERT INTO accounts_followerevent (account_id, follower_id, kind, at, recorded_at)"
            " SELECT %(account)s, id, CASE WHEN follows THEN %(subscribe)s ELSE %(unsubscribe)s END, at, %(now)s"
            " FROM follower_import_change WHERE flips ON CONFLICT (follower_id, at, kind) DO NOTHING",
            params,
        )
        cur.execute("SELECT coalesce(max(id), 0) FROM accounts_follower")
        params["last_id"] = cur.fetchone()[0]
        cur.execute(
            """
            INSERT INTO accounts_follower (account_id, openid, nickname, subscribed, subscribed_at, unsubscribed_at,
                                           last_event_at)
            SELECT %(account)s, openid, nickname, 1, coalesce(subscribed_at, %(now)s), NULL,
                   coalesce(subscribed_at, %(now)s) FROM follower_import s
            WHERE s.subscribed
              AND NOT EXISTS (SELECT 1 FROM accounts_follower f WHERE f.account_id = %(account)s AND f.openid = s.openid)
            """,
            params,
        )
        created = cur.rowcount
        cur.execute(
            "INSERT INTO accounts_followerevent (account_id, follower_id, kind, at, recorded_at)"
            " SELECT account_id, id, %(subscribe)s, subscribed_at, %(now)s FROM accounts_follower"
            " WHERE account_id = %(account)s AND id > %(last_id)s ON CONFLICT (follower_id, at, kind) DO NOTHING",
            params,
        )
        return created, updated

    def _link_tags(self) -> None:
        self.cursor.execute(
            """
            INSERT INTO accounts_follower_tags (follower_id, tag_id)
            SELECT f.id, g.id
            FROM follower_import_tag t
            JOIN follower_import s ON s.line = t.line
            JOIN accounts_follower f ON f.account_id = %s AND f.openid = s.openid
            JOIN accounts_tag g ON g.account_id = %s AND g.name = t.name
            WHERE true
            ON CONFLICT (follower_id, tag_id) DO NOTHING
            """,
            [self.account_id, self.account_id],
        )

    def _drop_staging(self) -> None:
        # SQLite keeps temp tables for the connection's life
        self.cursor.execute("DROP TABLE temp.follower_import")
        self.cursor.execute("DROP TABLE temp.follower_import_tag")
        self.cursor.execute("DROP TABLE IF EXISTS temp.follower_import_change")
