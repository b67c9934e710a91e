"""Content screening before review (R7): keyword, regex and link-domain rules.

Rules are read from the database on every screening, so a rule saved in the
admin applies to the very next submission. Matching is case-insensitive.
A domain rule matches a link's host or any subdomain of it ("bit.ly" matches
"bit.ly" and "m.bit.ly", not "notbit.ly"); links are found with or without a scheme.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from .models import ContentRule

logger = logging.getLogger(__name__)

# A link with a scheme; its host is taken with urlsplit so "http://good.com@evil.com/" is evil.com.
_URL_RE = re.compile(r"[a-z][a-z0-9+.-]*://[^\s<>\"'()\[\]]+", re.IGNORECASE)
# A bare host name such as "bit.ly/abc" or "www.example.com" (at least one dot, a letter TLD).
_HOST_RE = re.compile(
    r"(?<![\w@.-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9])(?![\w-])",
    re.IGNORECASE,
)
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
        note = f" ({self.rule.note})" if self.rule.note else ""
        return f"content rule #{self.rule.pk} {self.rule.get_match_display().lower()} “{self.rule.pattern}”{note}"


def _excerpt(text: str, start: int, end: int) -> str:
    left, right = max(0, start - EXCERPT_RADIUS), min(len(text), end + EXCERPT_RADIUS)
    return ("…" if left else "") + text[left:right].replace("\n", " ") + ("…" if right < len(text) else "")


def link_hosts(*texts: str) -> list[str]:
    """Every host named in the texts, lower-case, without a trailing dot, in order of appearance."""
    hosts: list[str] = []
    for text in texts:
        if not text:
            continue
        rest = text
        for m in _URL_RE.finditer(text):
            try:
                host = urlsplit(m.group(0)).hostname
            except ValueError:
                host = None
            if host:
                hosts.append(host.rstrip(".").lower())
            rest = rest.replace(m.group(0), " ")
        hosts.extend(m.group(1).rstrip(".").lower() for m in _HOST_RE.finditer(rest))
    return list(dict.fromkeys(hosts))


def _domain_matches(host: str, domain: str) -> bool:
    domain = domain.strip().lower().rstrip(".")
    if "://" in domain:
        domain = (urlsplit(domain).hostname or "").rstrip(".")
    return bool(domain) and (host == domain or host.endswith("." + domain))


def screen(*, title: str = "", body: str = "", url: str = "", cover_url: str = "") -> list[Finding]:
    """All active rules matching the content, blocking rules first."""
    text = "\n".join(part for part in (title, body, url, cover_url) if part)
    hosts = link_hosts(title, body, url, cover_url)
    findings: list[Finding] = []
    for rule in ContentRule.objects.filter(active=True).order_by("-points", "id"):
        if rule.match == ContentRule.Match.KEYWORD:
            needle = rule.pattern.strip()
            m = re.search(re.escape(needle), text, re.IGNORECASE) if needle else None
            if m:
                findings.append(Finding(rule, _excerpt(text, m.start(), m.end())))
        elif rule.match == ContentRule.Match.REGEX:
            try:
                m = re.search(rule.pattern, text, re.IGNORECASE)
            except re.error:
                # Admin validation refuses bad patterns; one saved some other way must not stop submissions.
                logger.warning("content rule %s has an invalid regular expression; skipped", rule.pk)
                continue
            if m:
                findings.append(Finding(rule, _excerpt(text, m.start(), m.end())))
        elif rule.match == ContentRule.Match.DOMAIN:
            host = next((h for h in hosts if _domain_matches(h, rule.pattern)), None)
            if host is not None:
                findings.append(Finding(rule, host))
    findings.sort(key=lambda f: not f.is_block)
    return findings


def screen_broadcast(broadcast) -> list[Finding]:
    return screen(title=broadcast.title, body=broadcast.body, url=broadcast.url, cover_url=broadcast.cover_url)
