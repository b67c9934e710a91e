"""How content rules match (R7): pure functions, no database, so the model's validation and the
screening share them.

* One normalisation for text and for keyword patterns (`fold`): Unicode NFKC, format and other
  invisible characters removed, common Cyrillic/Greek look-alikes mapped to Latin, case folded,
  and every run of whitespace, dashes and underscores made one space (none between two characters
  of a script written without spaces). It remembers where each character came from, so the
  reviewer's excerpt is cut from the text as written.
* Keywords match whole words where the script separates words with spaces, and as plain
  substrings at an edge written in a script without spaces (Chinese, Japanese, Korean, Thai...).
* Regular expressions run on RE2 (google-re2), whose time is linear in the text whatever the
  pattern: no rule can hang a submission. Patterns RE2 refuses, and patterns that can match empty
  text (which would match every broadcast), are refused when the rule is saved.
* Hosts are found as a browser finds them: the WHATWG URL standard (ada-url) with its IDNA
  mapping, backslashes, full-width letters and dots; `browser_host` is the host a browser opens.

Every scan here is linear in the text: RE2 for patterns and link candidates, one pass for folding.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import ada_url
import re2
from django.utils.translation import gettext as _

RE2_MAX_REPEAT = 1000  # RE2 refuses larger counts, or silently reads a huge one as literal text


class PatternError(ValueError):
    """A rule's pattern that cannot be used; `message` says why, for the person who wrote it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --------------------------------------------------------------------------- normalisation

# Characters that render as nothing but are not all in category Cf (format): the combining
# grapheme joiner, variation selectors, Hangul fillers, Khmer inherent vowels, Mongolian
# variation selectors. Dropped like the format characters (zero-width space, soft hyphen, bidi marks).
_INVISIBLE = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u3164\uffa0"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)
# Separators beyond whitespace and the dash (Pd) and connector (Pc) categories.
_EXTRA_SEPARATORS = frozenset("\u2212\u2043\u2800")  # minus sign, hyphen bullet, Braille blank

# Common look-alikes (from Unicode's confusables), applied after NFKC and before case folding,
# so that an upper-case letter maps by its own shape (Greek Ν is N, lower-case ν is v).
_LOOKALIKES = str.maketrans({
    # Cyrillic capitals
    "А": "A", "В": "B", "Е": "E", "Ѕ": "S", "І": "I", "Ј": "J", "К": "K", "М": "M", "Н": "H", "О": "O",
    "Р": "P", "С": "C", "Т": "T", "У": "Y", "Х": "X", "Ү": "Y", "Ԛ": "Q", "Ԝ": "W", "Ӏ": "I",
    # Cyrillic small letters
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ј": "j",
    "ԁ": "d", "һ": "h", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ү": "y", "ѵ": "v",
    # Greek capitals
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    # Greek small letters
    "α": "a", "ο": "o", "ρ": "p", "ν": "v", "ι": "i", "κ": "k", "υ": "u", "γ": "y", "χ": "x", "ϲ": "c",
    "ϳ": "j",
    # Latin letters that case folding leaves alone
    "ı": "i", "ȷ": "j",
})


def _is_ignorable(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat == "Cf" or ch in _INVISIBLE or (cat == "Cc" and not ch.isspace())


def _is_separator(ch: str) -> bool:
    return ch.isspace() or ch in _EXTRA_SEPARATORS or unicodedata.category(ch) in ("Zs", "Zl", "Zp", "Pd", "Pc")


def _continues_cluster(ch: str) -> bool:
    """A combining mark or a Hangul medial/final jamo: NFKC may join it with what precedes it."""
    return unicodedata.category(ch)[0] == "M" or "\u1160" <= ch <= "\u11ff" or "\ud7b0" <= ch <= "\ud7ff"


@dataclass(frozen=True)
class Folded:
    """Normalised text and, for each of its characters, the span of the original it came from."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that produced text[start:end] (end > start)."""
        return self.starts[start], self.ends[end - 1]


def fold(text: str) -> Folded:
    """Normalise text for matching, keeping a map back to the original (see the module's docstring)."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    kept = [(i, ch) for i, ch in enumerate(text) if not _is_ignorable(ch)]
    n = len(kept)
    k = 0
    while k < n:
        # One cluster: a character and the marks that combine with it, normalised together.
        j = k + 1
        while j < n and _continues_cluster(kept[j][1]):
            j += 1
        start, end = kept[k][0], kept[j - 1][0] + 1
        cluster = "".join(ch for _, ch in kept[k:j])
        k = j
        folded = unicodedata.normalize("NFKC", cluster).translate(_LOOKALIKES).casefold()
        for ch in unicodedata.normalize("NFKC", folded):
            if _is_ignorable(ch):
                continue
            if _is_separator(ch):
                if out and out[-1] == " ":
                    ends[-1] = end  # a run of separators is one space covering them all
                    continue
                ch = " "
            elif out and out[-1] == " " and len(out) > 1 and _unspaced_script(out[-2]) and _unspaced_script(ch):
                # Between two characters of a script without spaces a space separates nothing ("加 微信").
                out.pop()
                starts.pop()
                ends.pop()
            out.append(ch)
            starts.append(start)
            ends.append(end)
    return Folded("".join(out), tuple(starts), tuple(ends))


def normalize(text: str) -> str:
    """The normalised form of a text or a keyword pattern (one function for both)."""
    return fold(text).text


# --------------------------------------------------------------------------- keywords


def _unspaced_script(ch: str) -> bool:
    """Scripts written without spaces between words: a keyword edge there matches inside a run."""
    o = ord(ch)
    return (
        0x0E00 <= o <= 0x0EFF  # Thai, Lao
        or 0x1000 <= o <= 0x109F  # Myanmar
        or 0x1100 <= o <= 0x11FF  # Hangul jamo
        or 0x1780 <= o <= 0x17FF  # Khmer
        or 0x2E80 <= o <= 0x9FFF  # CJK radicals, kana, Bopomofo, Hangul compatibility jamo, CJK ideographs
        or 0xA000 <= o <= 0xA4CF  # Yi
        or 0xAC00 <= o <= 0xD7FF  # Hangul syllables
        or 0xF900 <= o <= 0xFAFF  # CJK compatibility ideographs
        or 0x20000 <= o <= 0x3FFFF  # CJK extensions
    )


def _spaced_word_char(ch: str) -> bool:
    """A letter, digit or mark of a script that separates words with spaces."""
    return (ch.isalnum() or unicodedata.category(ch)[0] == "M") and not _unspaced_script(ch)


def keyword_needle(pattern: str) -> str:
    """The normalised keyword a pattern stands for; PatternError if nothing is left of it."""
    needle = normalize(pattern).strip()
    if not needle:
        raise PatternError(_("The keyword is empty once spaces and invisible characters are removed."))
    return needle


def find_keyword(needle: str, folded: str) -> tuple[int, int] | None:
    """The first occurrence of a normalised keyword in normalised text on word boundaries, as a span."""
    check_left, check_right = _spaced_word_char(needle[0]), _spaced_word_char(needle[-1])
    at = folded.find(needle)
    while at != -1:
        end = at + len(needle)
        left_ok = not check_left or at == 0 or not _spaced_word_char(folded[at - 1])
        right_ok = not check_right or end == len(folded) or not _spaced_word_char(folded[end])
        if left_ok and right_ok:
            return at, end
        at = folded.find(needle, at + 1)
    return None


# --------------------------------------------------------------------------- regular expressions (RE2)

_REPEAT = re.compile(r"\{(\d*)(,?)(\d*)\}")


def _repeat_problem(pattern: str) -> str | None:
    """What RE2 would misread in a counted repetition: it takes `{,n}` and counts it cannot hold
    (`a{99999999999}`) as literal text instead of refusing them."""
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
            elif pattern.startswith("[:", i) and (close := pattern.find(":]", i + 2)) != -1:
                i = close + 2
                continue
        elif ch == "[":
            in_class = True
            i += 1
            i += pattern.startswith("^", i)
            i += pattern.startswith("]", i)  # a ] first in a class is literal
            continue
        elif ch == "{" and (m := _REPEAT.match(pattern, i)):
            low, comma, high = m.groups()
            if not low and comma and high:
                return _("“%(repeat)s” has no lower bound; write {0,%(high)s}") % {
                    "repeat": m.group(0), "high": high,
                }
            if any(n and int(n) > RE2_MAX_REPEAT for n in (low, high)):
                return _("invalid repetition size: %(repeat)s (at most %(max)d)") % {
                    "repeat": m.group(0), "max": RE2_MAX_REPEAT,
                }
        i += 1
    return None


def _options() -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # the reason goes to the person saving the rule, not to stderr
    return options


# Every context an empty match can depend on (RE2's assertions are ^ $ \A \z \b \B, with (?m)):
# start or end of text, before or after a newline, between word and non-word characters.
_EMPTY_PROBES = tuple("".join(p) for n in range(4) for p in itertools.product("a \n", repeat=n))


def _matches_empty(regex) -> bool:
    # match(text, pos, pos) asks for an empty match at pos, with the text around pos as context.
    return any(regex.match(t, i, i) for t in _EMPTY_PROBES for i in range(len(t) + 1))


@lru_cache(maxsize=512)
def compile_regex(pattern: str):
    """The rule's pattern compiled by RE2 (case-insensitive). PatternError: RE2 cannot run it, or it
    can match empty text (it would then match every broadcast)."""
    problem = _repeat_problem(pattern)
    if problem is None:
        try:
            regex = re2.compile(pattern, _options())
        except re2.error as exc:
            reason = exc.args[0] if exc.args else exc
            problem = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
    if problem is not None:
        raise PatternError(
            _("The regular expression engine (RE2) cannot run this pattern: %(reason)s.") % {"reason": problem}
        )
    if _matches_empty(regex):
        raise PatternError(
            _("The pattern can match empty text, so it would match every broadcast; "
              "remove the empty alternative or the optional whole (for example “casino|” or “(casino)?”).")
        )
    return regex


# --------------------------------------------------------------------------- hosts (WHATWG URL standard)


def browser_host(url: str) -> str:
    """The host a browser opens for `url` (WHATWG URL parsing: backslashes, IDNA to punycode,
    full-width letters and dots); "" when a browser would not open a host."""
    try:
        return ada_url.URL(url).hostname or ""
    except ValueError:  # not a URL (UnicodeEncodeError is a ValueError too)
        return ""


def _is_dns_name(host: str) -> bool:
    if host.startswith("[") and host.endswith("]"):  # IPv6, already checked by the parser
        return True
    labels = host.split(".")
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789-_")
    return all(lab and set(lab) <= allowed and not lab.startswith("-") and not lab.endswith("-") for lab in labels)


def rule_domain(pattern: str) -> str:
    """The host a domain rule stands for, as a browser would write it; PatternError if none."""
    text = pattern.strip()
    host = browser_host(text if "://" in text else "http://" + text).rstrip(".")
    if not host or not _is_dns_name(host):
        raise PatternError(
            _("“%(pattern)s” is not a domain a browser can open; write a domain such as example.com "
              "(it also matches its subdomains).") % {"pattern": pattern}
        )
    return host


# A link with a scheme: the special schemes open without slashes ("https:evil.example"), others need "//".
_DELIMITERS = r"\s<>\"'`()\[\]{},;、「」『』《》〈〉【】〔〕“”‘’"
_SCHEME_LINK = re2.compile(
    rf"(?i)(?:https?|wss?|ftp):[^{_DELIMITERS}]+|[a-z][a-z0-9+.\-]*://[^{_DELIMITERS}]+", _options()
)
# Any run without delimiters: parsed as a browser parses what is typed without a scheme.
_TOKEN = re2.compile(rf"[^{_DELIMITERS}]+", _options())
# An ASCII host name, also when written flush against text in a script without spaces ("访问bit.ly").
_ASCII_HOST = re2.compile(
    r"(?i)(?:^|[^a-z0-9_.\-])((?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+[a-z](?:[a-z0-9\-]*[a-z0-9]))", _options()
)


def _link_view(text: str) -> str:
    """The text as a link finder reads it: NFKC (full-width letters, dots, slashes, colons),
    invisible characters removed, ideographic full stops as dots (IDNA reads them so)."""
    view = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in view if not _is_ignorable(ch)).replace("\u3002", ".")


def _looks_like_domain(host: str) -> bool:
    tld = host.rstrip(".").rpartition(".")[2]
    return "." in host.rstrip(".") and (tld.startswith("xn--") or (tld.isascii() and tld.isalpha() and len(tld) > 1))


def link_hosts(*texts: str) -> list[str]:
    """Every host a browser could open from the texts, lower-case punycode without a trailing dot,
    in order of appearance: the whole text as a URL, each link with a scheme, and each host
    written without one ("bit.ly/x")."""
    hosts: list[str] = []
    for text in texts:
        if not text:
            continue
        hosts.append(browser_host(text))
        view = _link_view(text)
        pieces, last = [], 0  # the view without the links with a scheme, so their paths are not read as hosts
        for m in _SCHEME_LINK.finditer(view):
            hosts.append(browser_host(m.group(0)))
            pieces += [view[last:m.start()], " "]
            last = m.end()
        rest = "".join(pieces) + view[last:]
        for m in _TOKEN.finditer(rest):
            token = m.group(0)
            start = next((i for i, ch in enumerate(token) if ch.isalnum()), len(token))
            if "." in token[start:]:
                host = browser_host("http://" + token[start:])
                if _looks_like_domain(host):
                    hosts.append(host)
        hosts.extend(m.group(1) for m in _ASCII_HOST.finditer(rest))
    return list(dict.fromkeys(h.rstrip(".").lower() for h in hosts if h and h.rstrip(".")))


def domain_matches(host: str, domain: str) -> bool:
    """A host is the rule's domain or one of its subdomains ("m.bit.ly" is bit.ly, "notbit.ly" is not)."""
    return host == domain or host.endswith("." + domain)
