"""The admin index as the ops dashboard (issue 12): each role sees the panels it can act on, every
count links to the admin list filtered to exactly those rows, and the over-marketing pages are
forbidden to a user without the permission."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Certification, Follower
from broadcasts import services
from broadcasts.dashboard import start_of_platform_day
from broadcasts.models import Broadcast, Violation
from tests.factories import certify, make_account, make_followers, make_pending, make_sent, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_day(settings):
    """A flagged account with two measured broadcasts, a pending broadcast, a failed one today, an
    account near the penalty threshold, a pending certification and one expiring in 10 days."""
    settings.BROADCAST_UNFOLLOW_FLAG_MIN_SENT = 1
    settings.BROADCAST_UNFOLLOW_FLAG_RATE = 0.1
    now = timezone.now()
    loud = make_account(name="Loud Shop")
    fans = make_followers(loud, 4)
    Follower.objects.filter(account=loud).update(subscribed_at=now - timedelta(days=30))
    make_sent(loud, at=now - timedelta(days=5), followers=fans, title="Mega sale")
    account_services.unfollow(fans[0], at=now - timedelta(days=4))
    services.measure_unfollows(now=now)
    quiet = make_account(name="Quiet Cafe")
    operator = make_user("olga", role="operator")
    make_pending(quiet, by=operator, title="Autumn menu")
    Broadcast.objects.create(account=quiet, title="Broken send", status=Broadcast.Status.FAILED,
                             started_at=now, finished_at=now)
    Violation.objects.create(account=quiet, points=25)  # threshold 30: near
    Certification.objects.create(account=loud, legal_name="Loud Ltd", registration_number="1")
    certify(quiet, valid_until=now + timedelta(days=10))
    return loud, quiet


def test_a_reviewer_sees_every_panel_and_each_count_links_to_its_rows(client, ops_day):
    loud, quiet = ops_day
    client.force_login(make_user("rita", role="reviewer"))
    page = client.get("/admin/").content.decode()
    for panel in ("review", "sending", "failed", "flagged", "penalty", "quota", "certifications"):
        assert f'id="panel-{panel}"' in page
    assert "Loud Shop" in page and "Mega sale" in page and "Quiet Cafe" in page
    answers = {
        "/admin/broadcasts/pendingbroadcast/": "Autumn menu",
        "/admin/broadcasts/unfollowflag/?open=yes": "Loud Shop",
        f"/admin/accounts/officialaccount/?id__in={quiet.pk}": "Quiet Cafe",
    }
    for url, expected in answers.items():
        assert url.split("?")[0] in page
        answer = client.get(url)
        assert answer.status_code == 200 and expected in answer.content.decode()
    failed = client.get("/admin/broadcasts/broadcast/", {"status__in": "failed,partially_sent",
                                                          "finished_at__gte": start_of_platform_day(timezone.now()).isoformat()})
    assert failed.status_code == 200 and "Broken send" in failed.content.decode()


def test_an_operator_sees_no_review_queue_or_certification_decisions(client, ops_day):
    client.force_login(make_user("otto", role="operator"))
    page = client.get("/admin/").content.decode()
    assert 'id="panel-review"' not in page and "pending review" not in page
    assert 'id="panel-flagged"' in page and 'id="panel-failed"' in page


def test_charts_are_forbidden_without_the_permission_and_shown_with_it(client, ops_day):
    loud, _quiet = ops_day
    mega = Broadcast.objects.get(title="Mega sale")
    urls = [f"/admin/broadcasts/unfollowflag/account/{loud.pk}/chart/",
            f"/admin/broadcasts/unfollowflag/broadcast/{mega.pk}/curve/"]
    client.force_login(make_user("nobody"))  # staff, no group
    assert 'id="ops-dashboard"' in client.get("/admin/").content.decode()
    assert 'id="panel-' not in client.get("/admin/").content.decode()
    for url in urls:
        assert client.get(url).status_code == 403
    client.force_login(make_user("audrey", role="auditor"))
    chart, curve = (client.get(url).content.decode() for url in urls)
    assert "Flagged for over-marketing since" in chart and "&quot;lost&quot;: [" in chart
    # Delivered 5 days ago, unfollowed exactly 24 h later: within 24 h (the bounds are inclusive).
    assert "Sent 4; unfollowed within 24 h: 1; within 72 h: 1 (rate 25.00%)" in curve
    assert "No other broadcast of this account has finished its 72 hours yet" in curve


def test_the_flagged_panel_says_by_how_much_and_the_worst_broadcasts_own_rate(client, ops_day):
    """At a glance: the account, its rate against the threshold and on how many sent, and the worst
    broadcast with its own rate (the flag's numbers, nothing to open)."""
    client.force_login(make_user("audrey", role="auditor"))
    panel = re.search(r'<section id="panel-flagged">(.*?)</section>', client.get("/admin/").content.decode(), re.S)
    text = re.sub(r"<[^>]+>", "", re.sub(r"\s+", " ", panel.group(1)))
    assert "Loud Shop: 72 h unfollow rate 25.00% (1 of 4 sent, last 1 broadcast), above the threshold of 10.00%" in text
    assert "worst: “Mega sale” at 25.00%" in text
    loud, _quiet = ops_day
    chart = client.get(f"/admin/broadcasts/unfollowflag/account/{loud.pk}/chart/").content.decode()
    assert "72 h unfollow rate 25.00% (1 of 4 sent) over the last broadcast, above the threshold of 10.00%." in chart
    assert re.search(r"Flagged for over-marketing since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d:", chart)  # with seconds
    assert "Highest: #" in chart and "“Mega sale” at 25.00%." in chart
