"""A follower list as a person gives it: openids pasted one a line, or a CSV file whose first
column is the openid. Pure Python, no database: what the admin's audience picker reads before
`services.recipients_by_openid` checks the openids against the account.

Blank lines and spaces around an openid are ignored; a simple paste of several openids on a
line, separated by commas, semicolons, tabs or spaces (a spreadsheet row), is read too. The
file is UTF-8 (a byte-order mark is fine), with or without an `openid` header, at most
CSV_MAX_BYTES; its columns may be separated by commas, semicolons (a European spreadsheet's
"CSV") or tabs, whichever the file uses. An openid listed twice counts once, where it was first given.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from operator_console.text import INVISIBLE, Kind, find_fault, printable

# 10,000 openids (the most a list holds) of 28 characters with their line ends is under 300 KB;
# a megabyte leaves room for a second column and longer ids, and no more is read into memory.
CSV_MAX_BYTES = 1_048_576
_SEPARATORS = re.compile(r"[,;\s]+")
SHOWN = 70  # characters of a bad value a message quotes


class OpenidListError(ValueError):
    """A list that cannot be read: `message` says what and where."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class OpenidList:
    """The openids given, folded, in the order given; `where` names where each was first given."""

    openids: list[str] = field(default_factory=list)
    where: dict[str, str] = field(default_factory=dict)

    def add(self, openid: str, where: str) -> None:
        fault = find_fault(openid, Kind.IDENTIFIER)
        if fault is not None:
            values = {"where": where, "value": printable(openid[:SHOWN]), "what": fault}
            if fault is INVISIBLE:
                raise OpenidListError(
                    _("%(where)s: “%(value)s” is not an openid: it is made only of invisible characters.") % values
                )
            raise OpenidListError(_("%(where)s: “%(value)s” is not an openid: it contains %(what)s.") % values)
        if openid not in self.where:
            self.where[openid] = where
            self.openids.append(openid)


def pasted_openids(text: str) -> list[str]:
    """The openids of a pasted text, unchecked (what tells a changed list from an unchanged one)."""
    return [o for o, _where in _lines(text or "")]


def _lines(text: str) -> Iterator[tuple[str, str]]:
    for number, line in enumerate(text.splitlines(), 1):
        for openid in _SEPARATORS.split(line.strip()):
            if openid:
                yield openid, _("line %(number)d") % {"number": number}


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    """The file's separator (comma, semicolon or tab) from its first lines; a one-column file is plain CSV."""
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        return csv.excel


def _csv_rows(data: bytes, name: str, size: int) -> Iterator[tuple[str, str]]:
    if size > CSV_MAX_BYTES:
        raise OpenidListError(
            _("“%(name)s” is %(size)s KB; a file of openids is at most %(max)s KB (10,000 openids fit in 300 KB).")
            % {"name": name, "size": f"{-(-size // 1024):,}", "max": f"{CSV_MAX_BYTES // 1024:,}"}
        )
    if not data:
        raise OpenidListError(_("“%(name)s” is empty: it holds no openid.") % {"name": name})
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise OpenidListError(
            _("“%(name)s” is not UTF-8 text (byte %(at)s); save it as CSV UTF-8.") % {"name": name, "at": exc.start + 1}
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), dialect=_dialect(text))
    first = True
    try:
        for row in reader:
            openid = row[0].strip() if row else ""
            if not openid:
                continue
            if first and openid.lower() == "openid":
                first = False
                continue  # the header
            first = False
            yield openid, _("row %(number)d of %(name)s") % {"number": reader.line_num, "name": name}
    except csv.Error as exc:
        raise OpenidListError(
            _("Row %(number)d of %(name)s cannot be read as CSV: %(error)s.")
            % {"number": reader.line_num, "name": name, "error": exc}
        ) from None


def read_openids(text: str = "", *, data: bytes | None = None, name: str = "", size: int | None = None) -> OpenidList:
    """The openids pasted in `text` and those of the CSV file `data` (both may be given: the union).
    `size` is the file's whole size when `data` is only its beginning (no more than the limit is read).

    Raises OpenidListError naming the line or row at fault, or the file (too big, empty, not UTF-8).
    """
    listed = OpenidList()
    for openid, where in _lines(text or ""):
        listed.add(openid, where)
    if data is not None:
        for openid, where in _csv_rows(data, name, len(data) if size is None else size):
            listed.add(openid, where)
    return listed
