"""Violations as ops handle them: an account's standing (points in the window, threshold) on its
violations list, linked from its page; filters by account, rule and date; the "test this rule" box
of the content rule page (endpoint and, in Chromium, the box itself); broadcasts by account."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from broadcasts.models import ContentRule, Violation
from tests.browser import chromium_page
from tests.factories import local, make_account, make_approved, make_user

TEST_RULE = "admin:broadcasts_contentrule_test"
VIOLATIONS = "admin:broadcasts_violation_changelist"
PASSWORD = "pw-Secret-123"


def try_rule(client, **data):
    response = client.post(reverse(TEST_RULE), data)
    assert response.status_code == 200
    return response.json()


@pytest.mark.django_db
def test_the_rule_box_shows_what_an_unsaved_pattern_matches(client):
    client.force_login(make_user("aldo", role="auditor"))  # trying a rule changes nothing
    assert try_rule(client, pattern="cheap watches", match="keyword", sample="Get CHEAP-watches now!") == {
        "matches": True, "found": "Get CHEAP-watches now!", "error": "", "text": "Matches: Get CHEAP-watches now!",
    }
    assert try_rule(client, pattern="cheap watches", match="keyword", sample="acheap watches")["matches"] is False
    assert try_rule(client, pattern="bit.ly", match="domain", sample="see https://x.bit.ly/abc")["found"] == "x.bit.ly"
    bad = try_rule(client, pattern="a*", match="regex", sample="aaa")
    assert bad["matches"] is False and bad["error"]
    assert try_rule(client, pattern="x", match="nonsense", sample="x")["error"] == "Choose how the rule matches."
    assert not ContentRule.objects.filter(pattern="cheap watches").exists()


@pytest.mark.django_db
def test_the_rule_box_needs_a_post_and_a_staff_member_who_sees_rules(client):
    client.force_login(make_user("nils"))
    assert client.post(reverse(TEST_RULE), {"pattern": "x", "match": "keyword"}).status_code == 403
    client.force_login(make_user("rita", role="reviewer"))
    assert client.get(reverse(TEST_RULE)).status_code == 405
    page = client.get(reverse("admin:broadcasts_contentrule_add")).content.decode()
    assert 'id="bc-rule-tester"' in page and "console/rule_tester.js" in page


@pytest.mark.django_db
def test_violations_list_filters_and_the_accounts_standing(admin_client, settings):
    settings.BROADCAST_PENALTY_POINTS, settings.BROADCAST_PENALTY_WINDOW_DAYS = 30, 90
    acme, other = make_account(name="Acme"), make_account(name="Other")
    rule = ContentRule.objects.create(pattern="spam", match="keyword", action="block", points=10)
    recent = Violation.objects.create(account=acme, rule=rule, points=10)
    old = Violation.objects.create(account=acme, points=5, created_at=local(2020, 1, 5))
    Violation.objects.create(account=other, rule=rule, points=20)

    def shown(**params):
        response = admin_client.get(reverse(VIOLATIONS), params)
        assert response.status_code == 200
        return response, {v.pk for v in response.context["cl"].result_list}

    page, ids = shown(account=acme.pk)
    assert ids == {recent.pk, old.pk}
    assert "Acme: 10 points in the last 90 days; 30 suspend it for 7 days." in page.content.decode()
    assert shown(account=acme.pk, rule=rule.pk)[1] == {recent.pk}
    assert shown(since="2020-01-05", until="2020-01-05")[1] == {old.pk}
    assert shown(rule="junk")[1] == set()
    assert "Waive selected violations" in page.content.decode()


@pytest.mark.django_db
def test_account_page_links_its_broadcasts_and_violations(admin_client):
    acme, other = make_account(name="Acme"), make_account(name="Other")
    mine, theirs = make_approved(acme, title="Mine"), make_approved(other, title="Theirs")
    page = admin_client.get(reverse("admin:accounts_officialaccount_change", args=[acme.pk])).content.decode()
    broadcasts = reverse("admin:broadcasts_broadcast_changelist") + f"?account={acme.pk}"
    assert f'href="{broadcasts}"' in page and f'href="{reverse(VIOLATIONS)}?account={acme.pk}"' in page
    listed = admin_client.get(broadcasts).context["cl"].result_list
    assert [b.pk for b in listed] == [mine.pk] and theirs.pk


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_rule_box_in_a_browser(live_server):
    make_user("rita", role="reviewer", password=PASSWORD)
    with chromium_page() as page:
        page.goto(f"{live_server.url}/admin/login/?next=/admin/broadcasts/contentrule/add/",
                  wait_until="domcontentloaded")
        page.fill("#id_username", "rita")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.fill("#id_pattern", "cheap watches")
        page.select_option("#id_match", "keyword")
        page.fill("#bc-rule-sample", "Win ｃｈｅａｐ watches today")
        page.click("#bc-rule-try")
        expect(page.locator("#bc-rule-result")).to_have_text("Matches: Win ｃｈｅａｐ watches today")
        page.select_option("#id_match", "regex")
        page.fill("#id_pattern", "(")
        page.click("#bc-rule-try")
        expect(page.locator("#bc-rule-result")).not_to_contain_text("Matches")
        expect(page.locator("#bc-rule-result")).not_to_be_empty()
    assert not ContentRule.objects.filter(pattern="cheap watches").exists()
