"""Issue 13, times: every time a person reads is in PLATFORM_TIME_ZONE in one format with seconds
("2026-11-30 14:49:05"), whether Django renders it (list columns, read-only fields, the date
hierarchy) or the console does (operator_console.platform_time.format_moment), in English and in
Chinese; every date input names the zone it is read in."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from accounts.models import Certification, Follower
from operator_console.platform_time import format_moment
from tests.factories import make_account, make_draft, make_followers, make_pending, make_user

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")
LANGUAGES = ["en-us", "zh-hans"]


@pytest.fixture
def moment(settings):
    """The server runs in UTC; 20:30:05 UTC is 04:30:05 the next day in Shanghai."""
    settings.TIME_ZONE = "UTC"
    settings.PLATFORM_TIME_ZONE = "Asia/Shanghai"
    day = (timezone.now() + timedelta(days=40)).astimezone(UTC).date()
    return datetime(day.year, day.month, day.day, 20, 30, 5, tzinfo=UTC)


@pytest.fixture(params=LANGUAGES)
def language(request, settings):
    settings.LANGUAGE_CODE = request.param
    with translation.override(request.param):
        yield request.param


def shown(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def get(client, url: str, language: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def test_django_and_the_console_write_one_format(moment, language):
    local = moment.astimezone(SHANGHAI)
    assert date_format(local, "DATETIME_FORMAT") == shown(moment)
    assert date_format(local, "SHORT_DATETIME_FORMAT") == shown(moment)
    assert date_format(local, "DATE_FORMAT") == date_format(local, "SHORT_DATE_FORMAT") == shown(moment)[:10]
    assert format_moment(moment) == f"{shown(moment)} (Asia/Shanghai)"
    assert format_moment(moment, zone=False) == shown(moment)


def test_list_change_and_review_pages_show_the_platform_time_with_seconds(client, moment, language):
    client.force_login(make_user("rita", role="reviewer"))
    account = make_account(name="Acme Service")
    make_followers(account, 1, prefix="o")
    Follower.objects.update(subscribed_at=moment)
    followers = get(client, reverse("admin:accounts_follower_changelist"), language)  # Django's own column
    assert shown(moment) in followers

    b = make_pending(account, by=make_user("olga", role="operator"), scheduled_at=moment)
    type(b).objects.filter(pk=b.pk).update(created_at=moment)
    listing = get(client, reverse("admin:broadcasts_broadcast_changelist"), language)  # the console's column
    assert shown(moment) in listing
    change = get(client, reverse("admin:broadcasts_broadcast_change", args=[b.pk]), language)
    created = re.search(r'field-created_at.*?<div class="readonly">(.*?)</div>', change, re.S)
    assert created and created.group(1) == shown(moment)  # Django's read-only field
    review = get(client, reverse("admin:broadcasts_broadcast_review", args=[b.pk]), language)
    assert f"{shown(moment)} (Asia/Shanghai)" in review
    for page in (followers, listing, change, review):
        assert "p.m." not in page and "a.m." not in page and "年" not in page.replace("年度", "")


def test_the_date_hierarchy_names_months_and_days_as_dates(client, moment, language):
    client.force_login(make_user("rita", role="reviewer"))
    make_draft(make_account(), by=make_user("olga", role="operator"), scheduled_at=moment)
    local = moment.astimezone(SHANGHAI)
    url = reverse("admin:broadcasts_broadcast_changelist")
    months = get(client, f"{url}?scheduled_at__year={local.year}", language)
    assert f">{local:%Y-%m}</a>" in months
    days = get(client, f"{url}?scheduled_at__year={local.year}&scheduled_at__month={local.month}", language)
    assert f">{local:%m-%d}</a>" in days


def test_every_date_input_names_the_platform_zone(client, settings):
    settings.PLATFORM_TIME_ZONE = "Asia/Shanghai"
    client.force_login(make_user("boss", superuser=True))
    account = make_account(name="Acme Service")
    pages = {
        "broadcast send time": reverse("admin:broadcasts_broadcast_add") + f"?account={account.pk}",
        "quota policy": reverse("admin:broadcasts_quotapolicy_add"),
        "periodic task start": reverse("admin:django_celery_beat_periodictask_add"),
    }
    for what, url in pages.items():
        page = client.get(url).content.decode()
        assert "Asia/Shanghai time." in page, what
    b = make_pending(account, by=make_user("olga", role="operator"))
    approve = client.get(reverse("admin:broadcasts_broadcast_transition", args=[b.pk, "approve"])).content.decode()
    assert "in Asia/Shanghai" in approve
    cert = Certification.objects.create(account=account)
    approve_cert = client.get(reverse("admin:accounts_certification_approve", args=[cert.pk])).content.decode()
    assert "Time in Asia/Shanghai" in approve_cert
    for date_range in ("admin:accounts_auditevent_changelist", "admin:broadcasts_violation_changelist"):
        assert "Whole days in Asia/Shanghai." in client.get(reverse(date_range)).content.decode(), date_range


def test_the_zone_named_follows_the_setting(client, settings):
    settings.PLATFORM_TIME_ZONE = "Europe/Berlin"
    client.force_login(make_user("boss", superuser=True))
    page = client.get(reverse("admin:broadcasts_quotapolicy_add")).content.decode()
    assert "Europe/Berlin time." in page and "Asia/Shanghai" not in page
