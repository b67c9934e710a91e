"""QA: a domain rule typed as a URL is stored as the host it matches, and an active rule that
repeats another (same match, same normalised pattern, same action) is refused naming it."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from broadcasts import moderation
from broadcasts.models import Broadcast, ContentRule
from tests.factories import make_account, make_pending, make_user

pytestmark = pytest.mark.django_db


def add_rule(client, pattern: str, *, match: str = "domain", action: str = "block", active: bool = True):
    data = {"pattern": pattern, "match": match, "action": action, "points": "10", "note": ""}
    if active:
        data["active"] = "on"
    return client.post(reverse("admin:broadcasts_contentrule_add"), data)


@pytest.fixture
def reviewer(client):
    client.force_login(make_user("rita", role="reviewer"))
    return client


@pytest.fixture
def no_rules():
    ContentRule.objects.all().delete()  # the rules migrations seed


def test_a_seeded_rule_typed_again_another_way_is_refused(reviewer):
    seeded = ContentRule.objects.get(pattern="bit.ly")
    response = add_rule(reviewer, "https://bit.ly/3xYz", action="flag")
    assert f"An active rule already does this: #{seeded.pk} Link domain “bit.ly” (flag)." in html.unescape(
        response.content.decode()
    )
    response = add_rule(reviewer, "Free-MONEY", match="keyword", action="block")
    assert "An active rule already does this: #" in html.unescape(response.content.decode())
    assert not ContentRule.objects.filter(pattern__in=["https://bit.ly/3xYz", "Free-MONEY"]).exists()


def test_a_domain_typed_as_a_url_is_stored_as_its_host_and_matches(reviewer, no_rules):
    response = add_rule(reviewer, "https://Evil.Example:8443/path?x=1", action="flag")
    assert response.status_code == 302
    rule = ContentRule.objects.get()
    assert rule.pattern == "evil.example"
    listing = reviewer.get(reverse("admin:broadcasts_contentrule_changelist")).content.decode()
    assert "evil.example" in listing and "https://Evil.Example" not in listing
    b = make_pending(make_account(), by=make_user("olga", role="operator"), body="Win at https://m.evil.example/x")
    assert b.status == Broadcast.Status.PENDING_REVIEW
    assert [(f.rule.pk, f.excerpt) for f in moderation.screen(body=b.body)] == [(rule.pk, "m.evil.example")]


@pytest.mark.parametrize(
    ("first", "second", "match"),
    [
        ("evil.example", "https://evil.example/path", "domain"),
        ("EVIL.example", "evil.example.", "domain"),
        ("free money", "FREE-Money", "keyword"),
        (r"casino\d+", r"casino\d+", "regex"),
    ],
)
def test_an_active_rule_repeating_another_is_refused_naming_it(reviewer, no_rules, first, second, match):
    assert add_rule(reviewer, first, match=match).status_code == 302
    existing = ContentRule.objects.get()
    response = add_rule(reviewer, second, match=match)
    page = html.unescape(response.content.decode())
    assert response.status_code == 200 and "errorlist" in page
    assert (
        f"An active rule already does this: #{existing.pk} {existing}. Edit that rule, or make this one inactive."
        in page
    )
    assert ContentRule.objects.count() == 1


def test_a_different_action_or_an_inactive_rule_is_no_duplicate(reviewer, no_rules):
    assert add_rule(reviewer, "evil.example").status_code == 302
    assert add_rule(reviewer, "evil.example", action="flag").status_code == 302
    assert add_rule(reviewer, "https://evil.example/", active=False).status_code == 302
    inactive = ContentRule.objects.get(active=False)
    # Turning the inactive copy on makes it a duplicate of the active block rule.
    response = reviewer.post(
        reverse("admin:broadcasts_contentrule_change", args=[inactive.pk]),
        {"pattern": "evil.example", "match": "domain", "action": "block", "points": "10", "active": "on", "note": ""},
    )
    assert response.status_code == 200 and "An active rule already does this" in html.unescape(
        response.content.decode()
    )
    inactive.refresh_from_db()
    assert not inactive.active
