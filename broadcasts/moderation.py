"""Content screening before review (R7): keyword, regex and link-domain rules.

Rules are read from the database on every screening, so a rule saved in the admin applies to
the very next submission. How a rule matches is `broadcasts.matching`:

* keyword: the text and the keyword are normalised the same way (NFKC, invisible characters
  removed, look-alike letters mapped, case folded, spaces and dashes collapsed) and the keyword
  matches whole words ("free money" is not in "carefree money-back"); a keyword edge in
  Chinese, Japanese, Korean or Thai matches inside a run of text (such scripts have no spaces);
* regex: RE2 (linear time, case-insensitive) on the normalised text, then on the text as written;
* domain: a link's host, as a browser opens it, is the domain or one of its subdomains
  ("bit.ly" matches "bit.ly" and "m.bit.ly", not "notbit.ly"); links are found in the url,
  the cover url and the text, with or without a scheme.

Screening reads rules and text only, in time linear in the text; callers run it before taking
row locks. A rule that cannot run (saved around the admin's validation) is skipped with a warning.
Excerpts shown to the reviewer are cut from the text as written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils.translation import gettext as _

from . import matching
from .matching import PatternError, browser_host, link_hosts
from .models import ContentRule

__all__ = ["EXCERPT_RADIUS", "Finding", "browser_host", "link_hosts", "screen", "screen_broadcast", "screened_content"]

logger = logging.getLogger(__name__)

EXCERPT_RADIUS = 30  # characters of context either side of a match shown to the reviewer


@dataclass(frozen=True)
class Finding:
    rule: ContentRule
    excerpt: str

    @property
    def is_block(self) -> bool:
        return self.rule.action == ContentRule.Action.BLOCK

    def as_dict(self) -> dict:
        """The JSON stored in Broadcast.findings for the reviewer."""
        return {
            "rule": self.rule.pk,
            "pattern": self.rule.pattern,
            "match": self.rule.match,
            "action": self.rule.action,
            "note": self.rule.note,
            "excerpt": self.excerpt,
        }

    def describe(self) -> str:
        values = {"id": self.rule.pk, "match": self.rule.get_match_display().lower(), "pattern": self.rule.pattern}
        if self.rule.note:
            return _("content rule #%(id)s %(match)s “%(pattern)s” (%(note)s)") % {**values, "note": self.rule.note}
        return _("content rule #%(id)s %(match)s “%(pattern)s”") % values


def _excerpt(text: str, start: int, end: int) -> str:
    left, right = max(0, start - EXCERPT_RADIUS), min(len(text), end + EXCERPT_RADIUS)
    return ("…" if left else "") + text[left:right].replace("\n", " ") + ("…" if right < len(text) else "")


def _regex_span(rule: ContentRule, text: str, folded: matching.Folded) -> tuple[int, int] | None:
    regex = matching.compile_regex(rule.pattern)
    m = regex.search(folded.text)
    if m and m.end() > m.start():
        return folded.span(m.start(), m.end())
    m = regex.search(text)
    return (m.start(), m.end()) if m and m.end() > m.start() else None


def rule_excerpt(rule: ContentRule, text: str, folded: matching.Folded, hosts: list[str]) -> str | None:
    """What `rule` finds in the content: the excerpt around a keyword or regex match, or the link host
    of a domain rule; None when it does not match. Raises PatternError for a pattern that cannot run."""
    if rule.match == ContentRule.Match.KEYWORD:
        span = matching.find_keyword(matching.keyword_needle(rule.pattern), folded.text)
        return _excerpt(text, *folded.span(*span)) if span else None
    if rule.match == ContentRule.Match.REGEX:
        span = _regex_span(rule, text, folded)
        return _excerpt(text, *span) if span else None
    if rule.match == ContentRule.Match.DOMAIN:
        domain = matching.rule_domain(rule.pattern)
        return next((h for h in hosts if matching.domain_matches(h, domain)), None)
    return None


def try_rule(*, pattern: str, match: str, sample: str) -> str | None:
    """What a rule, saved or not, would find in `sample` (the content rule page's test box): as screen()
    reads a broadcast's text. Raises PatternError with the sentence the rule's form would show."""
    return rule_excerpt(ContentRule(pattern=pattern, match=match), sample, matching.fold(sample), link_hosts(sample))


def screen(*, title: str = "", body: str = "", url: str = "", cover_url: str = "") -> list[Finding]:
    """All active rules matching the content, blocking rules first (each group by points, then rule id)."""
    text = "\n".join(part for part in (title, body, url, cover_url) if part)
    folded = matching.fold(text)
    hosts = link_hosts(url, cover_url, title, body)
    findings: list[Finding] = []
    for rule in ContentRule.objects.filter(active=True).order_by("-points", "id"):
        try:
            found = rule_excerpt(rule, text, folded, hosts)
        except PatternError as exc:
            # ContentRule.clean() refuses these; one saved some other way must not stop submissions.
            logger.warning("content rule %s cannot run and is skipped: %s", rule.pk, exc.message)
            continue
        if found is not None:
            findings.append(Finding(rule, found))
    findings.sort(key=lambda f: not f.is_block)
    return findings


def screened_content(broadcast) -> tuple[str, str, str, str]:
    """The fields screening reads: a submission checks they did not change between screening and its lock."""
    return broadcast.title, broadcast.body, broadcast.url, broadcast.cover_url


def screen_broadcast(broadcast) -> list[Finding]:
    title, body, url, cover_url = screened_content(broadcast)
    return screen(title=title, body=body, url=url, cover_url=cover_url)
