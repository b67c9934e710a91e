"""The one text hygiene rule of the console, for every input path, and the one way to echo text.

Every piece of text a person or a file gives the console goes through `clean_text` in the
services (the admin forms and the API call them) or `find_problem` in the CSV import's parser,
with one of three kinds:

* IDENTIFIER (openids, links): printable characters only; no space, control, format
  (invisible), bidi or line-break character.
* LINE (nicknames, tag names, titles): no control character at all (so no tab, line break or
  terminal escape sequence: ESC and the C1 CSI are controls), no U+2028/U+2029, no bidi
  embedding, override or isolate (U+202A–U+202E, U+2066–U+2069), no lone surrogate.
* MULTILINE (bodies): as LINE, but newline and tab are allowed, and so are U+2028/U+2029;
  line endings are normalised (CRLF and CR become LF — browsers send textareas with CRLF).

And text that is not empty must show something: text made only of spaces, format characters
(zero-width space, joiners, marks, soft hyphen, BOM), combining marks, variation selectors and
the blank-looking letters (Hangul fillers, the blank Braille pattern) is refused.

Refused, never silently stripped: the person or the file is told what and where, and the
text stored is what was given (apart from surrounding spaces and line endings). Other format characters (the
zero-width joiner of an emoji sequence, the left-to-right mark in Arabic or Hebrew text)
are accepted inside visible text.

`printable` is the one way to put stored or given text on a terminal or in a log line:
controls, bidi controls and line separators become visible escapes (`\\x1b`, `\\u202e`) and
bytes that were not UTF-8 become U+FFFD. Commands write through operator_console.command,
which applies it to everything they print.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

from django.utils.translation import gettext as _

from .errors import UnsafeText


class Kind(StrEnum):
    IDENTIFIER = "identifier"
    LINE = "line"
    MULTILINE = "multiline"


BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Letters and symbols that draw nothing, though Unicode does not class them as format characters.
BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me", "Cs"})

# Refused characters as regex classes: every control, line and paragraph separators, bidi
# embeddings, overrides and isolates, lone surrogates; multi-line text keeps tab and newline
# (and the separators). One search finds the first (C-speed: the import runs it on every row).
_LINE_REFUSED = "\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_MULTILINE_REFUSED = "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_REFUSED = {Kind.LINE: re.compile(f"[{_LINE_REFUSED}]"), Kind.MULTILINE: re.compile(f"[{_MULTILINE_REFUSED}]")}
# The fast path for callers checking millions of values (the import): one-line text this fully
# matches (nothing refused, and a visible ASCII character) is clean; anything else goes to find_problem.
SURELY_CLEAN_LINE = re.compile(f"[^{_LINE_REFUSED}]*[!-~][^{_LINE_REFUSED}]*")
# What `printable` escapes: what one-line text refuses; with keep_newlines, tab and newline stay.
_UNPRINTABLE = _REFUSED[Kind.LINE]
_UNPRINTABLE_KEEPING_LINES = re.compile(f"[{_MULTILINE_REFUSED}\u2028\u2029]")
_LINE_ENDS = re.compile("\r\n?")
_ASCII_VISIBLE = re.compile("[!-~]")


def is_invisible(char: str) -> bool:
    """True for a character that draws nothing on its own."""
    return char in BLANK_LOOKING or unicodedata.category(char) in INVISIBLE_CATEGORIES



def shows_something(text: str) -> bool:
    """True when `text` has at least one character that draws something."""
    # Most text holds a visible ASCII character: one C-speed search answers.
    return _ASCII_VISIBLE.search(text) is not None or any(not is_invisible(c) for c in text)


def _describe(char: str) -> str:
    """What a refused character is, for a person: "a terminal escape sequence (U+001B)"."""
    code = f"U+{ord(char):04X}"
    if char == "\x00":
        return _("a NUL character (%(code)s), which text columns cannot hold") % {"code": code}
    if char in "\x1b\x9b":
        return _("a terminal escape sequence (%(code)s)") % {"code": code}
    if char in "\r\n\x0b\x0c\x85\u2028\u2029":
        return _("a line break (%(code)s)") % {"code": code}
    if char == "\t":
        return _("a tab (%(code)s)") % {"code": code}
    if char in BIDI_CONTROLS:
        return _("a bidirectional override (%(code)s), which can make text read in another order") % {"code": code}
    if "\ud800" <= char <= "\udfff":
        return _("bytes that are not valid Unicode text")
    if char == " " or char.isspace():
        return _("a space (%(code)s)") % {"code": code}
    if unicodedata.category(char) == "Cc":
        return _("a control character (%(code)s)") % {"code": code}
    return _("an invisible or unprintable character (%(code)s)") % {"code": code}


# find_fault's answer for text made only of invisible characters.
INVISIBLE = "invisible"


def find_fault(text: str, kind: Kind) -> str | None:
    """What is wrong with `text` as text of `kind`: the refused character described ("a tab (U+0009)"),
    INVISIBLE when it shows nothing, or None. Callers word a whole sentence per case.

    Multi-line text is checked as given: normalise its line endings first (`clean_text` does).
    """
    if kind == Kind.IDENTIFIER:
        if text.isascii() and text.isprintable() and " " not in text:
            return None  # printable ASCII without a space always shows something (the import's common case)
        if not text.isprintable() or " " in text:
            return _describe(next(c for c in text if c == " " or not c.isprintable()))
    else:
        found = _REFUSED[kind].search(text)
        if found is not None:
            return _describe(found.group())
    # Plain white space alone is empty text: each field's own rule says whether it may be empty.
    if text.strip() and not shows_something(text):
        return INVISIBLE
    return None


def find_problem(text: str, kind: Kind) -> str | None:
    """What is wrong with `text` as text of `kind`, as a phrase ("contains a tab (U+0009)"), or None."""
    fault = find_fault(text, kind)
    if fault is None:
        return None
    if fault is INVISIBLE:
        return _("is made only of invisible characters")
    return _("contains %(what)s") % {"what": fault}


def normalise(text: str, kind: Kind) -> str:
    """Line endings of multi-line text as LF; other kinds are returned as they are."""
    if kind == Kind.MULTILINE and "\r" in text:
        return _LINE_ENDS.sub("\n", text)
    return text


def clean_text(text: str, *, kind: Kind, label: str, field: str | None = None) -> str:
    """`text` checked (and line endings normalised) by the hygiene rule of `kind`.

    `label` names the text in the refusal ("The title"); `field` goes into its context.
    Raises unsafe_text.
    """
    text = normalise(text, kind)
    problem = find_problem(text, kind)
    if problem is not None:
        context = {"field": field} if field else {}
        raise UnsafeText(_("%(label)s %(problem)s.") % {"label": label, "problem": problem}, **context)
    return text


_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(found: re.Match) -> str:
    char = found.group()
    if "\ud800" <= char <= "\udfff":
        return "\ufffd"
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """`text` made safe for a terminal or a log line: controls, bidi controls and line separators
    shown as escapes (`\\x1b`, `\\u202e`), bytes that were not UTF-8 as U+FFFD. With
    `keep_newlines`, newline and tab stay (a message of several lines)."""
    pattern = _UNPRINTABLE_KEEPING_LINES if keep_newlines else _UNPRINTABLE
    return pattern.sub(_escape, text)
