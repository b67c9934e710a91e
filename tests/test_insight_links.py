"""The over-marketing charts (R8) are linked from where ops look: the account's page shows its 72 h
rate and open flag in a line with a link to its chart; the broadcast's change and review pages show its
measured figures ("provisional until" while the 72 h run) with a link to its unfollow curve. A user
without the charts' permission sees neither link and gets 403 from the charts."""

import json
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Follower
from broadcasts import services
from broadcasts.models import UnfollowFlag
from operator_console.platform_time import format_moment, platform_zone
from tests.factories import make_account, make_followers, make_sent, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(settings):
    """An account whose one broadcast, sent 30 h ago to 4 followers, lost 2 of them: 50 %, flagged."""
    settings.BROADCAST_UNFOLLOW_FLAG_MIN_SENT = 1
    now = timezone.now()
    account = make_account(name="Loud Shop")
    make_followers(account, 4)
    Follower.objects.filter(account=account).update(subscribed_at=now - timedelta(days=30))
    fans = list(Follower.objects.filter(account=account).order_by("id"))
    broadcast = make_sent(account, at=now - timedelta(hours=30), followers=fans, title="Flash sale")
    account_services.unfollow(fans[0], at=now - timedelta(hours=29))  # 1 h after: within 24 h
    account_services.unfollow(fans[1], at=now - timedelta(hours=2))  # 28 h after: within 72 h
    services.measure_unfollows(now=now)
    return account, broadcast


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.content.decode())


def href(html: str, element_id: str) -> str:
    found = re.search(rf'<a href="([^"]+)"[^>]*id="{element_id}"', html)
    assert found, f"no link #{element_id}"
    return found.group(1)


def test_a_reviewer_sees_the_account_line_and_its_chart(client, sent):
    account, broadcast = sent
    client.force_login(make_user("rita", role="reviewer"))
    html = page(client, reverse("admin:accounts_officialaccount_change", args=[account.pk]))
    flag = UnfollowFlag.objects.get(account=account, cleared_at__isnull=True)
    assert "72 h unfollow rate 50.00% (2 of 4 sent) over the last measured broadcast." in html
    assert f"Flagged for over-marketing since {format_moment(flag.raised_at)}." in html
    chart = href(html, "bc-account-chart")
    assert chart == reverse("admin:broadcasts_account_chart", args=[account.pk])
    assert "Flash sale" in page(client, chart)


def test_a_reviewer_sees_the_broadcast_figures_on_its_change_and_review_pages(client, sent):
    _account, broadcast = sent
    client.force_login(make_user("rita", role="reviewer"))
    until = format_moment(broadcast.finished_at + timedelta(hours=72))
    for url in (
        reverse("admin:broadcasts_broadcast_change", args=[broadcast.pk]),
        reverse("admin:broadcasts_broadcast_review", args=[broadcast.pk]),
    ):
        html = page(client, url)
        assert "Sent 4; unfollowed within 24 h: 1; within 72 h: 2 (rate 50.00%)." in html
        assert f"Provisional until {until}" in html
        curve = href(html, "bc-unfollow-curve")
        assert curve == reverse("admin:broadcasts_unfollow_curve", args=[broadcast.pk])
        assert "Sent 4; unfollowed within 24 h: 1; within 72 h: 2" in page(client, curve)


def test_a_final_measure_is_not_provisional(client, sent):
    _account, broadcast = sent
    services.measure_unfollows(now=timezone.now() + timedelta(days=3))
    client.force_login(make_user("rita", role="reviewer"))
    html = page(client, reverse("admin:broadcasts_broadcast_change", args=[broadcast.pk]))
    assert "within 72 h: 2 (rate 50.00%)." in html and "Provisional" not in html
    assert services.unfollow_figures(broadcast).rate_72h == Decimal("0.5")


def test_without_the_charts_permission_no_link_and_403(client, sent):
    account, broadcast = sent
    user = make_user("vic")
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_officialaccount", "view_broadcast"]))
    client.force_login(user)
    html = page(client, reverse("admin:accounts_officialaccount_change", args=[account.pk]))
    assert "bc-account-chart" not in html and "bc-chart-tool" not in html and "unfollow rate" not in html
    html = page(client, reverse("admin:broadcasts_broadcast_change", args=[broadcast.pk]))
    assert "bc-unfollow-curve" not in html and "unfollowed within" not in html
    assert client.get(reverse("admin:broadcasts_account_chart", args=[account.pk])).status_code == 403
    assert client.get(reverse("admin:broadcasts_unfollow_curve", args=[broadcast.pk])).status_code == 403


def test_a_sent_broadcast_that_reached_nobody_says_so_rather_than_waiting_to_be_measured(client, sent):
    """Every recipient filtered (R5 cap, unfollowed meanwhile): sent with 0 sent. The beat job never measures
    it (no recipient), so "not measured yet" would be a promise never kept."""
    account, _broadcast = sent
    empty = make_sent(account, at=timezone.now() - timedelta(hours=5), followers=[], title="Nobody left")
    services.measure_unfollows()
    client.force_login(make_user("rita", role="reviewer"))
    html = page(client, reverse("admin:broadcasts_broadcast_change", args=[empty.pk]))
    assert "Nothing was sent: no unfollows to measure." in html and "not measured yet" not in html
    html = page(client, href(html, "bc-unfollow-curve"))
    assert "Nothing was sent: no unfollows to measure." in html and "Not measured yet" not in html


def test_the_usual_curve_counts_only_broadcasts_whose_72_hours_are_over(client, settings):
    """A broadcast an hour old has an hour of curve; averaging its flat rest into "usual" would pull the
    usual curve down. Old: 2 of 4 unfollowed 1 h after it (final, 50 %). Fresh: sent 1 h ago, nobody yet.
    Shown: sent 2 days ago. Its usual curve is Old's alone."""
    now = timezone.now()
    account = make_account(name="Usual Shop")
    fans = make_followers(account, 12)
    Follower.objects.filter(account=account).update(subscribed_at=now - timedelta(days=30))
    old = make_sent(account, at=now - timedelta(days=10), followers=fans[:4], title="Old")
    shown = make_sent(account, at=now - timedelta(days=2), followers=fans[4:8], title="Shown")
    make_sent(account, at=now - timedelta(hours=1), followers=fans[8:], title="Fresh")
    account_services.unfollow(fans[0], at=old.started_at + timedelta(minutes=30))
    account_services.unfollow(fans[1], at=old.started_at + timedelta(minutes=40))
    services.measure_unfollows(now=now)
    client.force_login(make_user("rita", role="reviewer"))
    html = page(client, reverse("admin:broadcasts_unfollow_curve", args=[shown.pk]))
    assert "The usual curve is the mean of the account's last 1 other broadcast." in html
    chart = json.loads(unescape(re.search(r'data-chart="([^"]+)"', html).group(1)))
    assert chart["usual"][0] == chart["usual"][-1] == 0.5


def test_broadcasts_per_week_has_every_week_of_the_window_zeros_included(client):
    """A week without broadcasts is a 0 on the line, not a gap bridged from its neighbours; a broadcast on the
    window's first day, whose Monday lies before the window, still counts (its point sits on that first day)."""
    now = timezone.now()
    today = timezone.localtime(now, platform_zone()).date()
    first_day = today - timedelta(days=89)
    account = make_account(name="Weekly Shop")
    fans = make_followers(account, 2)
    first_noon = timezone.make_aware(datetime.combine(first_day, time(12)), platform_zone())
    make_sent(account, at=first_noon, followers=fans, title="First day")
    make_sent(account, at=now - timedelta(days=20), followers=fans, title="Mid")
    make_sent(account, at=now - timedelta(minutes=5), followers=fans, title="Today")
    client.force_login(make_user("rita", role="reviewer"))
    html = page(client, reverse("admin:broadcasts_account_chart", args=[account.pk]))
    chart = json.loads(unescape(re.search(r'data-chart="([^"]+)"', html).group(1)))
    weeks = [date.fromisoformat(w["week"]) for w in chart["weeks"]]
    assert weeks[0] == first_day and weeks[-1] == today - timedelta(days=today.weekday())
    assert all(b - a <= timedelta(days=7) for a, b in zip(weeks[:-1], weeks[1:], strict=True))
    assert all(w.weekday() == 0 for w in weeks[1:]) and all(w.isoformat() in chart["days"] for w in weeks)
    assert sum(w["count"] for w in chart["weeks"]) == 3 and 0 in [w["count"] for w in chart["weeks"]]
