"""The CSV row parser of the follower import: pure Python, no database.

Holds the file's header and limits, the per-row validation (`parse_rows`), the
bookkeeping of bad rows (`RowProblem`, `Problems`: the first few, and a count), and
the detection of bytes that were not UTF-8. The column lengths come in as `Limits`
(the service takes them from the models).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from ..exceptions import ImportHeaderInvalid

HEADER = ("openid", "nickname", "tags", "subscribed_at")
TAG_SEPARATOR = "|"
# Enough to find the pattern of a broken export; the rest are only counted.
MAX_REPORTED_PROBLEMS = 20
# Progress is reported every this many lines: often enough for a smooth bar,
# rare enough to cost nothing on a million rows.
PROGRESS_EVERY = 10_000
# A CSV field is never legitimately longer; a runaway quote stops here instead of
# swallowing the rest of the file into memory.
CSV_FIELD_LIMIT = 64 * 1024
# Clock skew tolerated before a subscription time counts as "in the future".
FUTURE_SLACK = timedelta(days=1)
EARLIEST_YEAR = 1970


@dataclass(frozen=True)
class Limits:
    """The longest openid, nickname and tag name the database columns hold."""

    openid: int
    nickname: int
    tag: int


@dataclass(frozen=True, order=True)
class RowProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class Problems:
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
    problems: Problems,
    limits: Limits,
    name: str = "the file",
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[int, str, str, str, datetime | None]]:
    """Yield valid rows as (line, openid, nickname, tags, subscribed_at); record bad ones.

    `tags` comes back normalised: stripped, without empties or repeats, joined by '|'.
    `subscribed_at` is None when the file leaves it empty, and *naive* when the file
    gives no offset: a wall-clock time in settings.PLATFORM_TIME_ZONE, which the writer
    attaches (PostgreSQL does it while copying; attaching it here costs a microsecond a row).
    `limits` are the longest openid, nickname and tag allowed.
    `progress(bytes_read)` is called every PROGRESS_EVERY lines and at the end.
    Raises import_header_invalid.
    """
    openid_max, nickname_max, tag_max = limits.openid, limits.nickname, limits.tag
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
            if len(openid) > openid_max:
                add(line, f"openid is {len(openid)} characters long; at most {openid_max} are allowed")
                continue
            nickname = nickname.strip()
            if len(nickname) > nickname_max:
                add(line, f"nickname is {len(nickname)} characters long; at most {nickname_max} are allowed")
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
                too_long = next((t for t in names if len(t) > tag_max), None)
                if too_long is not None:
                    add(line, f"tag '{too_long}' is longer than {tag_max} characters")
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
