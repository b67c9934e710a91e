"""Import followers from a CSV file: a streaming parse and a set-based write.

The file is UTF-8 with the header ``openid,nickname,tags,subscribed_at``; ``tags``
are separated by ``|``; ``subscribed_at`` is ISO-8601 (a date, or a time with or
without an offset; a time without one is in ``settings.PLATFORM_TIME_ZONE``; empty
means now). Rows are upserted by openid:

* a new openid becomes a subscribed follower;
* a known openid gets the file's nickname and subscribed_at (an empty subscribed_at
  keeps the time already known); a follower who had unsubscribed is subscribed again,
  because the file says the person follows the account;
* tags are created when missing and *added* to the follower; an import never removes a
  tag (ops may have tagged followers in the console);
* an openid that appears twice in one file is a bad row (the later line), since either
  line could be the one that is wrong.

Memory stays constant: rows are validated one at a time and streamed to the database
(PostgreSQL ``COPY``, straight into the followers table on a first import, into a
staging table otherwise; chunked inserts on SQLite), then a handful of set-based
statements write followers, tags and tag links — all in one transaction, so a failed
import leaves nothing behind. Only the first ``MAX_REPORTED_PROBLEMS`` bad rows are
kept, with a count of the rest. The service is `import_followers`; the command of the
same name only parses arguments, shows progress and prints.
"""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import BinaryIO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from .exceptions import ImportHeaderInvalid, ImportRowsInvalid
from .models import Follower, OfficialAccount, Tag
from .selectors import get_account_by_app_id  # noqa: F401 - re-exported for callers
from .services import record_event

HEADER = ("openid", "nickname", "tags", "subscribed_at")
TAG_SEPARATOR = "|"
# Enough to find the pattern of a broken export; the rest are only counted.
MAX_REPORTED_PROBLEMS = 20
# Progress is reported every this many lines: often enough for a smooth bar,
# rare enough to cost nothing on a million rows.
PROGRESS_EVERY = 10_000
# The direct path's (openid, tags) pairs stay in memory up to this size, then go to disk.
SPOOL_IN_MEMORY = 16 * 1024 * 1024
# SQLite staging: rows per executemany (bounded memory, few round trips).
SQLITE_CHUNK = 2_000
# A CSV field is never legitimately longer; a runaway quote stops here instead of
# swallowing the rest of the file into memory.
CSV_FIELD_LIMIT = 64 * 1024
# Clock skew tolerated before a subscription time counts as "in the future".
FUTURE_SLACK = timedelta(days=1)
EARLIEST_YEAR = 1970

OPENID_MAX = Follower._meta.get_field("openid").max_length
NICKNAME_MAX = Follower._meta.get_field("nickname").max_length
TAG_MAX = Tag._meta.get_field("name").max_length



@dataclass(frozen=True, order=True)
class RowProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0  # already there exactly as the file says
    skipped: int = 0
    tags_created: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, {self.skipped} skipped, "
            f"{self.tags_created} tags created"
        )


class _Problems:
    """Bad rows: the first few in line order, and how many in all (constant memory)."""

    def __init__(self, keep: int = MAX_REPORTED_PROBLEMS):
        self.keep = keep
        self.first: list[RowProblem] = []
        self.count = 0

    def add(self, line: int, message: str) -> None:
        self.count += 1
        if len(self.first) < self.keep:
            self.first.append(RowProblem(line, message))

    def merge(self, problems: list[RowProblem], total: int) -> None:
        """Fold in problems found later (not in line order), keeping the lowest lines."""
        self.count += total
        self.first = sorted(self.first + problems)[: self.keep]


# --------------------------------------------------------------------------- parsing


def _note_bad_bytes(exc: UnicodeDecodeError):
    """Decoding error handler: count the event, keep the bytes as lone surrogates."""
    global _bad_bytes_seen
    _bad_bytes_seen += 1
    return codecs.lookup_error("surrogateescape")(exc)


# Files are decoded in C, in chunks; this counter tells the row loop whether any bad
# byte has been met at all, so clean files pay nothing for the per-row encoding check.
_bad_bytes_seen = 0
codecs.register_error("accounts.imports", _note_bad_bytes)


def _bad_encoding(row: list[str]) -> str | None:
    """The problem with a row holding bytes that were not UTF-8, or None."""
    for column, text in zip(HEADER, row, strict=False):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            byte = ord(exc.object[exc.start]) - 0xDC00
            return f"{column} is not valid UTF-8 (byte 0x{byte:02x}); save the file as UTF-8"
    if len(row) > len(HEADER):
        return _bad_encoding(row[len(HEADER) :])
    return None


def printable(text: str) -> str:
    """File text made safe to print (bytes that were not UTF-8 shown as U+FFFD)."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _check_header(row: list[str] | None, name: str) -> None:
    expected = ",".join(HEADER)
    if row is None:
        raise ImportHeaderInvalid(f"{name} is empty: its first line must be the header {expected}.")
    found = tuple(cell.strip().lower() for cell in row)
    if found != HEADER:
        shown = printable(",".join(row))[:200]
        raise ImportHeaderInvalid(f"Line 1 of {name} must be the header {expected}; found '{shown}'.")


def parse_rows(
    stream: BinaryIO,
    *,
    problems: _Problems,
    name: str = "the file",
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[int, str, str, str, datetime | None]]:
    """Yield valid rows as (line, openid, nickname, tags, subscribed_at); record bad ones.

    `tags` comes back normalised: stripped, without empties or repeats, joined by '|'.
    `subscribed_at` is None when the file leaves it empty, and *naive* when the file
    gives no offset: a wall-clock time in settings.PLATFORM_TIME_ZONE, which the writer
    attaches (PostgreSQL does it while copying; attaching it here costs a microsecond a row).
    `progress(bytes_read)` is called every PROGRESS_EVERY lines and at the end.
    Raises import_header_invalid.
    """
    now = timezone.now()
    latest = now + FUTURE_SLACK
    latest_local = timezone.localtime(latest, ZoneInfo(settings.PLATFORM_TIME_ZONE)).replace(tzinfo=None)
    # utf-8-sig drops the byte-order mark spreadsheet programs write.
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="accounts.imports", newline="")
    try:
        if csv.field_size_limit() < CSV_FIELD_LIMIT:
            csv.field_size_limit(CSV_FIELD_LIMIT)
        reader = csv.reader(text, strict=False)
        # The decoder runs ahead of the reader, a chunk at a time: take the count before it starts.
        clean = _bad_bytes_seen  # while the counter stays here, no row can hold bad bytes
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise ImportHeaderInvalid(f"Line 1 of {name} is not a CSV header ({exc}).") from None
        if header is not None and _bad_bytes_seen != clean and _bad_encoding(header):
            raise ImportHeaderInvalid(f"Line 1 of {name} is not valid UTF-8; save the file as UTF-8.")
        _check_header(header, name)

        add = problems.add
        fromisoformat = datetime.fromisoformat
        position = stream.tell if progress is not None else None
        line_num = reader.line_num
        next_progress = PROGRESS_EVERY
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                add(line_num + 1, f"is not valid CSV ({exc})")
                line_num = reader.line_num
                continue
            line, line_num = line_num + 1, reader.line_num  # a quoted field may span lines: report the first
            if line >= next_progress and position is not None:
                progress(position())
                next_progress = line + PROGRESS_EVERY
            if _bad_bytes_seen != clean:
                problem = _bad_encoding(row)
                if problem:
                    add(line, problem)
                    continue
            if len(row) != 4:
                if not row:
                    continue  # a blank line
                add(line, f"has {len(row)} columns; expected 4 ({','.join(HEADER)})")
                continue
            openid, nickname, tags, subscribed_at = row
            if not openid.isprintable() or " " in openid:
                openid = openid.strip()
                if not openid:
                    add(line, "openid is missing")
                    continue
                if not openid.isprintable() or " " in openid:
                    add(line, f"openid '{openid}' contains spaces or control characters")
                    continue
            elif not openid:
                add(line, "openid is missing")
                continue
            if len(openid) > OPENID_MAX:
                add(line, f"openid is {len(openid)} characters long; at most {OPENID_MAX} are allowed")
                continue
            nickname = nickname.strip()
            if len(nickname) > NICKNAME_MAX:
                add(line, f"nickname is {len(nickname)} characters long; at most {NICKNAME_MAX} are allowed")
                continue
            if "\x00" in nickname or "\x00" in tags:
                add(line, "contains a NUL character, which text columns cannot hold")
                continue
            if tags:
                if TAG_SEPARATOR in tags or tags != tags.strip():
                    names = dict.fromkeys(t for t in (t.strip() for t in tags.split(TAG_SEPARATOR)) if t)
                    tags = TAG_SEPARATOR.join(names)
                else:
                    names = (tags,)
                too_long = next((t for t in names if len(t) > TAG_MAX), None)
                if too_long is not None:
                    add(line, f"tag '{too_long}' is longer than {TAG_MAX} characters")
                    continue
            if subscribed_at:
                try:
                    moment = fromisoformat(subscribed_at)  # dates, times, offsets, 'Z' (Python 3.11+)
                except ValueError:
                    subscribed_at = subscribed_at.strip()
                    try:
                        moment = fromisoformat(subscribed_at) if subscribed_at else None
                    except ValueError:
                        add(line, f"subscribed_at '{subscribed_at}' is not an ISO-8601 time")
                        continue
                if moment is not None:
                    if moment.year < EARLIEST_YEAR:
                        add(line, f"subscribed_at '{subscribed_at}' is before {EARLIEST_YEAR}")
                        continue
                    if moment > (latest_local if moment.tzinfo is None else latest):
                        add(line, f"subscribed_at '{subscribed_at}' is in the future")
                        continue
            else:
                moment = None
            yield line, openid, nickname, tags, moment
        if position is not None:
            progress(position())
    finally:
        text.detach()  # the caller's stream stays open (and can be read again)


# --------------------------------------------------------------------------- writing


class _RepeatedOpenids(Exception):
    """The staged rows name an openid twice."""


class _StartOver(Exception):
    """The direct path met a repeated openid: read the file again, through the staging table."""


def _repeat_problems(rows) -> list[RowProblem]:
    return [RowProblem(line, f"openid '{openid}' repeats line {first}") for line, openid, first, *_ in rows]


def can_skip_row_triggers(cursor) -> bool:
    """True when this PostgreSQL role may set session_replication_role (see _PostgresWriter)."""
    if connection.vendor != "postgresql":
        return False
    if connection.pg_version >= 150000:
        cursor.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')")
    else:
        cursor.execute("SELECT current_setting('is_superuser') = 'on'")
    return bool(cursor.fetchone()[0])


class _PostgresWriter:
    """COPY and a few set-based statements, in the caller's transaction.

    Two paths.

    *Direct* (the account had no followers when the import began, as in a first import,
    and the file can be read twice): the rows are copied straight into accounts_follower,
    so the server inserts while Python is still parsing; the (openid, tags) pairs go to a
    spooled temporary file (constant memory), are copied into a temporary table
    afterwards, and the tag links are one INSERT … SELECT joined back by openid. A
    repeated openid breaks the unique index: the copy is rolled back to a savepoint and
    the file read again on the staged path, which names the repeated lines.

    *Staged* (otherwise): COPY into a temporary table, a search for repeated openids, an
    upsert (INSERT … ON CONFLICT (account_id, openid) DO UPDATE … WHERE something
    changed), new tags, and the tag links joined back by openid (ON CONFLICT DO NOTHING).

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
        self.cursor = cursor
        self.account_id = account.pk
        self.direct = fresh and seekable
        self.skip_row_triggers = can_skip_row_triggers(cursor) if skip_row_triggers is None else skip_row_triggers
        self.spool = None

    # -- reading

    def stage(self, rows) -> int:
        """Copy the valid rows in; returns how many. Raises _StartOver (direct path)."""
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
                import psycopg  # COPY is psycopg's own API: its errors come unwrapped

                try:
                    with transaction.atomic():
                        return self._copy_direct(rows)
                except (IntegrityError, psycopg.IntegrityError):
                    self.direct = False
                    self.spool.close()
                    raise _StartOver from None
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
            "COPY accounts_follower (account_id, openid, nickname, subscribed, subscribed_at) FROM STDIN"
        ) as copy:
            write = copy.write_row
            for _line, openid, nickname, tags, moment in rows:
                write((account_id, openid, nickname, True, moment or now))
                if tags:
                    tagged((openid, tags))
                count += 1
        self.copied = count
        return count

    def _copy_staged(self, rows) -> int:
        cur = self.cursor
        cur.execute("DROP TABLE IF EXISTS pg_temp.follower_import")
        cur.execute(
            "CREATE TEMP TABLE follower_import (line integer NOT NULL, openid text NOT NULL, nickname text NOT NULL,"
            " tags text NOT NULL, subscribed_at timestamptz) ON COMMIT DROP"
        )
        count = 0
        with cur.copy("COPY follower_import (line, openid, nickname, tags, subscribed_at) FROM STDIN") as copy:
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
        return _repeat_problems(rows), (rows[0][3] if rows else 0)

    def drop_duplicates(self) -> None:
        self.cursor.execute(
            "DELETE FROM follower_import s USING follower_import e WHERE e.openid = s.openid AND e.line < s.line"
        )

    # -- writing

    def write(self, phase: Callable[[str], None]) -> tuple[int, int, int]:
        """(created, updated, tags created). Raises _RepeatedOpenids (staged path)."""
        cur, account_id = self.cursor, self.account_id
        if self.direct:
            phase("Writing tags")
            cur.execute("DROP TABLE IF EXISTS pg_temp.follower_import")
            cur.execute("CREATE TEMP TABLE follower_import (openid text NOT NULL, tags text NOT NULL) ON COMMIT DROP")
            self.spool.seek(0)
            with cur.copy("COPY follower_import (openid, tags) FROM STDIN (FORMAT csv)") as copy:
                while chunk := self.spool.read(1 << 20):
                    copy.write(chunk)
            self.spool.close()
            cur.execute("ANALYZE follower_import")
            created, updated = self.copied, 0
        else:
            if self.duplicates(1)[1]:
                raise _RepeatedOpenids
            phase("Writing tags")
        tags_created = self._create_tags()
        if not self.direct:
            phase("Writing followers")
            created, updated = self._upsert_followers()
        phase("Linking tags")
        # Fresh followers have no links yet, so the direct path needs no conflict check.
        on_conflict = "" if self.direct else "ON CONFLICT (follower_id, tag_id) DO NOTHING"
        cur.execute(
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
            {"account": account_id},
        )
        return created, updated, tags_created

    def finish(self) -> None:
        """Row triggers back on for whatever else the transaction does."""
        if self.skip_row_triggers:
            self.cursor.execute("SET LOCAL session_replication_role = DEFAULT")

    def _create_tags(self) -> int:
        cur, account_id = self.cursor, self.account_id
        cur.execute("DROP TABLE IF EXISTS pg_temp.follower_import_tag")
        cur.execute(
            "CREATE TEMP TABLE follower_import_tag ON COMMIT DROP AS SELECT DISTINCT t.name"
            " FROM follower_import s, unnest(string_to_array(s.tags, '|')) AS t(name) WHERE s.tags <> ''"
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

    def _upsert_followers(self) -> tuple[int, int]:
        # `now()` is the transaction's start, the same value in both places: an empty
        # subscribed_at gives a new follower now() and keeps a subscribed one's time.
        # Rows the file does not change are left alone (no dead tuples, no index
        # churn; ON CONFLICT still locks them). xmax = 0 marks an inserted row.
        self.cursor.execute(
            """
            WITH up AS (
                INSERT INTO accounts_follower AS f
                    (account_id, openid, nickname, subscribed, subscribed_at, unsubscribed_at)
                SELECT %(account)s, openid, nickname, true, coalesce(subscribed_at, now()), NULL
                FROM follower_import
                ON CONFLICT (account_id, openid) DO UPDATE SET
                    nickname = EXCLUDED.nickname,
                    subscribed_at = CASE WHEN f.subscribed AND EXCLUDED.subscribed_at = now()
                                         THEN f.subscribed_at ELSE EXCLUDED.subscribed_at END,
                    subscribed = true,
                    unsubscribed_at = NULL
                WHERE NOT f.subscribed OR f.nickname <> EXCLUDED.nickname
                   OR (EXCLUDED.subscribed_at <> now() AND EXCLUDED.subscribed_at <> f.subscribed_at)
                RETURNING xmax = 0 AS inserted
            )
            SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up
            """,
            {"account": self.account_id},
        )
        return self.cursor.fetchone()


class _SqliteWriter:
    """The first-run default: chunked inserts into temporary tables, then an upsert in SQLite's SQL."""

    def __init__(self, cursor, account: OfficialAccount, **_):
        self.cursor = cursor
        self.account_id = account.pk
        self.adapt = connection.ops.adapt_datetimefield_value
        self.zone = ZoneInfo(settings.PLATFORM_TIME_ZONE)

    def stage(self, rows) -> int:
        cur = self.cursor
        cur.execute("DROP TABLE IF EXISTS temp.follower_import")
        cur.execute("DROP TABLE IF EXISTS temp.follower_import_tag")
        cur.execute(
            "CREATE TEMP TABLE follower_import (line integer PRIMARY KEY, openid text, nickname text, subscribed_at text)"
        )
        cur.execute("CREATE TEMP TABLE follower_import_tag (line integer, name text)")
        count = 0
        chunk, tag_chunk = [], []
        adapt, zone = self.adapt, self.zone
        for line, openid, nickname, tags, moment in rows:
            if moment is not None:
                moment = adapt(moment if moment.tzinfo is not None else moment.replace(tzinfo=zone))
            chunk.append((line, openid, nickname, moment))
            if tags:
                tag_chunk.extend((line, name) for name in tags.split(TAG_SEPARATOR))
            if len(chunk) >= SQLITE_CHUNK:
                count += self._flush(chunk, tag_chunk)
                chunk, tag_chunk = [], []
        count += self._flush(chunk, tag_chunk)
        cur.execute("CREATE INDEX temp.follower_import_openid ON follower_import (openid)")
        return count

    def finish(self) -> None:
        pass

    def _flush(self, chunk, tag_chunk) -> int:
        if chunk:
            self.cursor.executemany("INSERT INTO follower_import VALUES (%s, %s, %s, %s)", chunk)
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
        return _repeat_problems(self.cursor.fetchall()), total

    def drop_duplicates(self) -> None:
        self.cursor.execute(
            "DELETE FROM follower_import WHERE EXISTS (SELECT 1 FROM follower_import e"
            " WHERE e.openid = follower_import.openid AND e.line < follower_import.line)"
        )
        self.cursor.execute("DELETE FROM follower_import_tag WHERE line NOT IN (SELECT line FROM follower_import)")

    def write(self, phase: Callable[[str], None]) -> tuple[int, int, int]:
        """(created, updated, tags created). Raises _RepeatedOpenids."""
        cur, account_id = self.cursor, self.account_id
        # SQLite's upsert would apply a repeated openid twice instead of failing: look first.
        cur.execute(f"SELECT EXISTS ({self._REPEATS})")
        if cur.fetchone()[0]:
            raise _RepeatedOpenids
        phase("Writing tags")
        cur.execute(
            "SELECT count(DISTINCT t.name) FROM follower_import_tag t WHERE NOT EXISTS"
            " (SELECT 1 FROM accounts_tag g WHERE g.account_id = %s AND g.name = t.name)",
            [account_id],
        )
        tags_created = cur.fetchone()[0]
        cur.execute(
            "INSERT INTO accounts_tag (account_id, name) SELECT DISTINCT %s, name FROM follower_import_tag WHERE true"
            " ON CONFLICT (account_id, name) DO NOTHING",
            [account_id],
        )
        phase("Writing followers")
        cur.execute("SELECT count(*) FROM follower_import")
        staged = cur.fetchone()[0]
        cur.execute(
            "SELECT count(*) FROM follower_import s JOIN accounts_follower f ON f.account_id = %s AND f.openid = s.openid",
            [account_id],
        )
        created = staged - cur.fetchone()[0]
        now = self.adapt(timezone.now())
        cur.execute(
            """
            INSERT INTO accounts_follower (account_id, openid, nickname, subscribed, subscribed_at, unsubscribed_at)
            SELECT %s, openid, nickname, 1, coalesce(subscribed_at, %s), NULL FROM follower_import WHERE true
            ON CONFLICT (account_id, openid) DO UPDATE SET
                nickname = excluded.nickname,
                subscribed_at = CASE WHEN accounts_follower.subscribed AND excluded.subscribed_at = %s
                                     THEN accounts_follower.subscribed_at ELSE excluded.subscribed_at END,
                subscribed = 1,
                unsubscribed_at = NULL
            WHERE NOT accounts_follower.subscribed OR accounts_follower.nickname <> excluded.nickname
               OR (excluded.subscribed_at <> %s AND excluded.subscribed_at <> accounts_follower.subscribed_at)
            """,
            [account_id, now, now, now],
        )
        updated = cur.rowcount - created  # SQLite counts inserted and really updated rows
        phase("Linking tags")
        cur.execute(
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
            [account_id, account_id],
        )
        cur.execute("DROP TABLE temp.follower_import")  # SQLite keeps temp tables for the connection's life
        cur.execute("DROP TABLE temp.follower_import_tag")
        return created, updated, tags_created


def _writer_for(cursor, account: OfficialAccount, **options):
    if connection.vendor == "postgresql":
        return _PostgresWriter(cursor, account, **options)
    if connection.vendor == "sqlite":
        return _SqliteWriter(cursor, account, **options)
    raise NotImplementedError(f"import_followers supports PostgreSQL and SQLite, not {connection.vendor}.")


def _rejected(problems: _Problems, name: str) -> ImportRowsInvalid:
    n = problems.count
    return ImportRowsInvalid(
        f"{n} invalid row{'s' if n != 1 else ''} in {name}; nothing was imported "
        "(fix them, or pass --skip-invalid to import the good rows).",
        problems=problems.first,
        problem_count=n,
    )


def _no_phase(text: str) -> None:
    pass


def import_followers(
    account: OfficialAccount,
    stream: BinaryIO,
    *,
    skip_invalid: bool = False,
    by=None,
    name: str = "the file",
    progress: Callable[[int], None] | None = None,
    on_phase: Callable[[str], None] | None = None,
    skip_row_triggers: bool | None = None,
) -> ImportResult:
    """Upsert the followers of a CSV stream into `account` in one transaction.

    With `skip_invalid` the good rows are written and the bad ones listed in the result;
    without it a single bad row means nothing is written. `progress(bytes_read)` is called
    while reading and `on_phase(text)` before each writing step. `skip_row_triggers`
    (PostgreSQL; default: when the role may) is explained in _PostgresWriter.
    Raises import_header_invalid, import_rows_invalid.
    """
    problems = _Problems()
    phase = on_phase or _no_phase
    with transaction.atomic(), connection.cursor() as cursor:
        # One import per account at a time; a second one waits for the first to commit.
        account = OfficialAccount.objects.select_for_update().get(pk=account.pk)
        fresh = not Follower.objects.filter(account_id=account.pk).exists()
        writer = _writer_for(cursor, account, fresh=fresh, seekable=stream.seekable(),
                             skip_row_triggers=skip_row_triggers)
        start = stream.tell() if stream.seekable() else 0
        try:
            staged = writer.stage(parse_rows(stream, problems=problems, name=name, progress=progress))
        except _StartOver:
            phase("The file repeats an openid; reading it again to name the lines")
            stream.seek(start)
            problems = _Problems()
            staged = writer.stage(parse_rows(stream, problems=problems, name=name, progress=progress))
        if problems.count and not skip_invalid:
            problems.merge(*writer.duplicates(MAX_REPORTED_PROBLEMS))  # so the list is complete
            raise _rejected(problems, name)
        result = ImportResult()
        if staged:
            try:
                result.created, result.updated, result.tags_created = writer.write(phase)
            except _RepeatedOpenids:
                repeats, repeat_count = writer.duplicates(MAX_REPORTED_PROBLEMS)
                problems.merge(repeats, repeat_count)
                if not skip_invalid:
                    raise _rejected(problems, name) from None
                writer.drop_duplicates()
                staged -= repeat_count
                result.created, result.updated, result.tags_created = writer.write(phase)
            result.unchanged = staged - result.created - result.updated
        writer.finish()
        result.skipped, result.problems = problems.count, problems.first
        record_event(account, by=by, verb="imported_followers", account=account, note=f"{name}: {result.summary}")
    return result
