"""The CSV row parser of the follower import: pure Python, no database.

Holds the file's header and limits, the per-row validation (`parse_rows`: one line is one
row; text through the console's hygiene rule, operator_console.text), the bookkeeping of
bad rows (`RowProblem`, `Problems`: the first few, a count, and the data lines read), and
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
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from operator_console.text import INVISIBLE, SURELY_CLEAN_LINE, Kind, find_fault, printable

from ..exceptions import ImportHeaderInvalid

HEADER = ("openid", "nickname", "tags", "subscribed_at")
# The optional fifth column: does the person follow (the default) or not. A file either has it
# in every row (its header says so) or in none.
SUBSCRIBED = "subscribed"
HEADER_WITH_SUBSCRIBED = (*HEADER, SUBSCRIBED)
# Its values, case-insensitive and stripped; empty means following.
SUBSCRIBED_VALUES = {"": True, "1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
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
# UTC offsets the world's clocks use (Baker Island to Kiribati).
OFFSET_RANGE = (-timedelta(hours=12), timedelta(hours=14))
IDENTIFIER, LINE = Kind.IDENTIFIER, Kind.LINE


@dataclass(frozen=True)
class Limits:
    """The longest openid, nickname and tag name the database columns hold."""

    openid: int
    nickname: int
    tag: int


@dataclass(frozen=True, order=True)
class RowProblem:
    line: int
    message: str  # a whole sentence, translated when the problem was found (only bad rows pay for it)

    def __str__(self) -> str:
        return _("line %(line)s: %(message)s") % {"line": self.line, "message": self.message}


class Problems:
    """Bad rows: the first few in line order, and how many in all (constant memory)."""

    def __init__(self, keep: int = MAX_REPORTED_PROBLEMS):
        self.keep = keep
        self.first: list[RowProblem] = []
        self.count = 0
        self.lines = 0  # data lines read, good and bad (blank lines are none)

    def add(self, line: int, message: str, *, lines: int = 1) -> None:
        """One problem, on `lines` lines of the file (a record over several lines is as many bad rows)."""
        self.count += lines
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
    for column, text in zip(HEADER_WITH_SUBSCRIBED, row, strict=False):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            byte = ord(exc.object[exc.start]) - 0xDC00
            return _("%(column)s is not valid UTF-8 (byte %(byte)s); save the file as UTF-8") % {
                "column": column, "byte": f"0x{byte:02x}"}
    if len(row) > len(HEADER_WITH_SUBSCRIBED):
        return _bad_encoding(row[len(HEADER_WITH_SUBSCRIBED) :])
    return None


def _check_header(row: list[str] | None, name: str) -> tuple[str, ...]:
    """The file's columns: HEADER, or HEADER_WITH_SUBSCRIBED. Raises import_header_invalid."""
    expected = _("%(header)s (optionally followed by ,%(column)s)") % {"header": ",".join(HEADER), "column": SUBSCRIBED}
    if row is None:
        raise ImportHeaderInvalid(
            _("%(name)s is empty: its first line must be the header %(header)s.") % {"name": name, "header": expected}
        )
    found = tuple(cell.strip().lower() for cell in row)
    if found not in (HEADER, HEADER_WITH_SUBSCRIBED):
        shown = printable(",".join(row))[:200]
        raise ImportHeaderInvalid(
            _("Line 1 of %(name)s must be the header %(header)s; found '%(found)s'.")
            % {"name": name, "header": expected, "found": shown}
        )
    return found


def parse_rows(
    stream: BinaryIO,
    *,
    problems: Problems,
    limits: Limits,
    name: str = "the file",
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[int, str, str, str, datetime | None, bool]]:
    """Yield valid rows as (line, openid, nickname, tags, time, subscribed); record bad ones.

    One line is one row: a quoted field may hold a comma, never a line break, so a quote
    left open is a problem naming the lines it swallowed, each of them a bad row. Every
    line after the header that is not blank is yielded or counted bad (`problems.lines`
    counts them all), so an import's counts add up to the file's lines.
    Text goes through the console's hygiene rule (operator_console.text): openids are
    identifiers, nicknames and tag names single lines.

    `tags` comes back normalised: stripped, without empties or repeats, joined by '|'.
    `subscribed` is the optional fifth column (SUBSCRIBED_VALUES; True when the file has no such
    column). The time is the `subscribed_at` column: when the row follows, the time it began; when
    it does not (`subscribed` false), the time of the unfollow. It is None when the file leaves it empty, and *naive* when the file
    gives no offset: a wall-clock time in settings.PLATFORM_TIME_ZONE, which the writer
    attaches (PostgreSQL does it while copying; attaching it here costs a microsecond a row).
    `limits` are the longest openid, nickname and tag allowed.
    `progress(bytes_read)` is called every PROGRESS_EVERY lines and at the end.
    Raises import_header_invalid.
    """
    openid_max, nickname_max = limits.openid, limits.nickname
    surely_clean = SURELY_CLEAN_LINE.fullmatch
    lowest_offset, highest_offset = OFFSET_RANGE
    now = timezone.now()
    latest = now + FUTURE_SLACK
    latest_local = timezone.localtime(latest, ZoneInfo(settings.PLATFORM_TIME_ZONE)).replace(tzinfo=None)
    # utf-8-sig drops the byte-order mark spreadsheet programs write.
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="accounts.imports", newline="")
    data_lines = 0  # into problems.lines at the end (a local is cheaper than an attribute, per row)
    try:
        if csv.field_size_limit() < CSV_FIELD_LIMIT:
            csv.field_size_limit(CSV_FIELD_LIMIT)
        reader = csv.reader(text, strict=False)
        # The decoder runs ahead of the reader, a chunk at a time: take the count before it starts.
        clean = _bad_bytes_seen  # while the counter stays here, no row can hold bad bytes
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise ImportHeaderInvalid(
                _("Line 1 of %(name)s is not a CSV header (%(error)s).") % {"name": name, "error": exc}
            ) from None
        if header is not None and _bad_bytes_seen != clean and _bad_encoding(header):
            raise ImportHeaderInvalid(_("Line 1 of %(name)s is not valid UTF-8; save the file as UTF-8.") % {"name": name})
        columns = _check_header(header, name)
        width = len(columns)
        column_names = ",".join(columns)
        has_subscribed = width == len(HEADER_WITH_SUBSCRIBED)
        subscribed_values = SUBSCRIBED_VALUES

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
                line, line_num = line_num + 1, reader.line_num
                data_lines += line_num - line + 1
                add(line, _("is not valid CSV (%(error)s)") % {"error": exc}, lines=line_num - line + 1)
                continue
            line, line_num = line_num + 1, reader.line_num
            if line >= next_progress and position is not None:
                progress(position())
                next_progress = line + PROGRESS_EVERY
            if not row:
                continue  # a blank line
            data_lines += line_num - line + 1
            if line_num > line:
                # A quoted field ran over a line end: a quote left open (or a field holding a line
                # break, which no column may). Every line it swallowed is a skipped line.
                add(line, _("has a quote that is not closed on its line: lines %(first)s to %(last)s read as one "
                            "field (a field cannot hold a line break)") % {"first": line, "last": line_num},
                    lines=line_num - line + 1)
                continue
            if _bad_bytes_seen != clean:
                problem = _bad_encoding(row)
                if problem:
                    add(line, problem)
                    continue
            if len(row) != width:
                add(line, ngettext("has %(count)s column; expected %(width)s (%(columns)s)",
                                   "has %(count)s columns; expected %(width)s (%(columns)s)", len(row))
                    % {"count": len(row), "width": width, "columns": column_names})
                continue
            if has_subscribed:
                openid, nickname, tags, subscribed_at, flag = row
                subscribed = subscribed_values.get(flag.strip().lower())
                if subscribed is None:
                    add(line, _("subscribed '%(value)s' is not one of 1/0, true/false, yes/no (empty means 1)")
                        % {"value": printable(flag)[:40]})
                    continue
            else:
                openid, nickname, tags, subscribed_at = row
                subscribed = True
            # Each check has a C-speed fast path; operator_console.text words a problem when there is one.
            if not (openid.isascii() and openid.isprintable()) or " " in openid:
                openid = openid.strip()  # spaces around it are forgiven
                if not openid:
                    add(line, _("openid is missing"))
                    continue
                fault = find_fault(openid, IDENTIFIER)
                if fault is not None:
                    add(line, _text_problem("openid", openid, fault))
                    continue
            elif not openid:
                add(line, _("openid is missing"))
                continue
            if len(openid) > openid_max:
                add(line, _too_long("openid", len(openid), openid_max))
                continue
            nickname = nickname.strip()
            if len(nickname) > nickname_max:
                add(line, _too_long("nickname", len(nickname), nickname_max))
                continue
            if nickname and not surely_clean(nickname):
                fault = find_fault(nickname, LINE)
                if fault is not None:
                    add(line, _text_problem("nickname", nickname, fault))
                    continue
            if tags:
                tags, problem = _tags(tags, limits.tag)
                if problem:
                    add(line, problem)
                    continue
            if subscribed_at:
                try:
                    moment = fromisoformat(subscribed_at)  # dates, times, offsets, 'Z' (Python 3.11+)
                except ValueError:
                    subscribed_at = subscribed_at.strip()
                    try:
                        moment = fromisoformat(subscribed_at) if subscribed_at else None
                    except ValueError:
                        add(line, _("subscribed_at '%(value)s' is not an ISO-8601 time") % {"value": subscribed_at})
                        continue
                if moment is not None and (
                    moment.year < EARLIEST_YEAR
                    or (moment > latest_local if moment.tzinfo is None else moment > latest)
                    or (moment.tzinfo is not None and not lowest_offset <= moment.utcoffset() <= highest_offset)
                ):
                    add(line, _moment_problem(subscribed_at, moment))
                    continue
            else:
                moment = None
            yield line, openid, nickname, tags, moment, subscribed
        if position is not None:
            progress(position())
    finally:
        problems.lines += data_lines
        text.detach()  # the caller's stream stays open (and can be read again)


def _tags(tags: str, tag_max: int) -> tuple[str, str | None]:
    """A row's tags normalised (stripped, no empties or repeats, joined by '|'), and the problem of the first bad one."""
    if TAG_SEPARATOR in tags or tags != tags.strip():
        names = dict.fromkeys(t for t in (t.strip() for t in tags.split(TAG_SEPARATOR)) if t)
        tags = TAG_SEPARATOR.join(names)
    else:
        names = (tags,)
    for tag in names:
        if len(tag) > tag_max:
            return tags, ngettext(
                "tag '%(tag)s' is longer than %(limit)s character", "tag '%(tag)s' is longer than %(limit)s characters",
                tag_max,
            ) % {"tag": tag, "limit": tag_max}
        fault = None if SURELY_CLEAN_LINE.fullmatch(tag) else find_fault(tag, LINE)
        if fault is not None:
            return tags, _text_problem("tag", tag, fault)
    return tags, None


# The problems of bad rows, each a whole sentence (one msgid per column and case: translators can
# reorder every part). Called for bad rows only.


def _text_problem(column: str, value: str, fault: str) -> str:
    """A column's text refused by the hygiene rule: `fault` is operator_console.text.find_fault's answer."""
    if column == "openid":
        if fault is INVISIBLE:
            return _("openid '%(value)s' is made only of invisible characters") % {"value": value}
        return _("openid '%(value)s' contains %(what)s") % {"value": value, "what": fault}
    if column == "nickname":
        if fault is INVISIBLE:
            return _("nickname is made only of invisible characters")
        return _("nickname contains %(what)s") % {"what": fault}
    if fault is INVISIBLE:
        return _("tag '%(value)s' is made only of invisible characters") % {"value": value}
    return _("tag '%(value)s' contains %(what)s") % {"value": value, "what": fault}


def _too_long(column: str, length: int, limit: int) -> str:
    values = {"length": length, "limit": limit}
    if column == "openid":
        return ngettext(
            "openid is %(length)s characters long; at most %(limit)s is allowed",
            "openid is %(length)s characters long; at most %(limit)s are allowed",
            limit,
        ) % values
    return ngettext(
        "nickname is %(length)s characters long; at most %(limit)s is allowed",
        "nickname is %(length)s characters long; at most %(limit)s are allowed",
        limit,
    ) % values


def _moment_problem(value: str, moment: datetime) -> str:
    """Why a parsed subscription time is unusable (parse_rows found that it is)."""
    if moment.year < EARLIEST_YEAR:
        return _("subscribed_at '%(value)s' is before %(year)s") % {"value": value, "year": EARLIEST_YEAR}
    if moment.tzinfo is not None and not OFFSET_RANGE[0] <= moment.utcoffset() <= OFFSET_RANGE[1]:
        # Python reads offsets up to ±23:59, PostgreSQL stores up to ±15:59: refuse here what no clock shows.
        return _("subscribed_at '%(value)s' has an offset outside -12:00 to +14:00, the range of the world's "
                 "time zones") % {"value": value}
    return _("subscribed_at '%(value)s' is in the future") % {"value": value}
