"""quota_report: the policies in force per account, used / limit per window, and the next window."""

import re
from datetime import date, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import OfficialAccount
from accounts.services import change_account_kind
from broadcasts.models import FollowerQuotaUsage
from tests.factories import local, make_account, make_approved, make_followers, make_user

pytestmark = pytest.mark.django_db


def report(*args) -> list[str]:
    out = StringIO()
    call_command("quota_report", *args, stdout=out)
    return out.getvalue().splitlines()


def cells(line: str) -> list[str]:
    return [c for c in re.split(r"\s{2,}", line.strip()) if c]


def test_report_for_one_service_account():
    author, reviewer = make_user("olga"), make_user("rita")
    acc = make_account(name="Acme", app_id="wx00000000000acme")
    make_account(name="Other")
    for day in (2, 9):
        make_approved(acc, by=author, reviewer=reviewer, send_at=local(2031, 5, day))
    fans = make_followers(acc, 3)
    FollowerQuotaUsage.objects.bulk_create([
        FollowerQuotaUsage(follower=fans[0], window_start=date(2031, 5, 1), count=4),
        FollowerQuotaUsage(follower=fans[1], window_start=date(2031, 5, 1), count=2),
        FollowerQuotaUsage(follower=fans[2], window_start=date(2031, 4, 1), count=4),  # another month
    ])

    lines = report("--account", "wx00000000000acme", "--at", "2031-05-20")

    assert lines[0] == "Quota report at 2031-05-20 00:00:00 (Asia/Shanghai)"
    assert cells(lines[1])[0:3] == ["ACCOUNT", "APP ID", "KIND"]
    rows = [cells(line) for line in lines[2:-1]]
    assert rows == [
        ["Acme", "wx00000000000acme", "service", "active", "account", "4 per calendar month", "2031-05", "2 / 4",
         "2031-06-01"],
        ["Acme", "wx00000000000acme", "service", "active", "follower", "4 per follower per calendar month",
         "2031-05", "max 4 / 4, 1 at cap", "2031-06-01"],
    ]
    # Columns line up: every row starts its cells at the header's offsets.
    assert lines[2].index("account") == lines[1].index("SCOPE") == lines[3].index("follower")


def test_report_shows_the_policy_in_force_at_the_date():
    acc = make_account(name="Acme", app_id="wx00000000000acme")
    lines = report("--account", acc.app_id, "--at", "2014-04-10T09:30")
    assert lines[0] == "Quota report at 2014-04-10 09:30:00 (Asia/Shanghai)"
    assert cells(lines[2])[4:] == ["account", "1 per ISO week", "2014-W15", "0 / 1", "2014-04-14"]
    assert len(lines) == 4  # the per-follower cap starts on 2014-04-15; the last line says KIND is today's


def test_report_lists_every_account_with_its_kind_rule():
    make_account(name="Acme")
    daily = make_account(name="Daily Digest", kind=OfficialAccount.Kind.SUBSCRIPTION)
    lines = report("--at", "2031-05-20T23:30")
    rows = [cells(line) for line in lines[2:-1]]
    assert [r[0] for r in rows] == ["Acme", "Acme", "Daily Digest"]
    assert rows[2][1:] == [daily.app_id, "subscription", "active", "account", "1 per calendar day", "2031-05-20",
                           "0 / 1", "2031-05-21"]


def test_unknown_account_and_bad_date_are_clear_errors():
    with pytest.raises(CommandError, match="No official account has the app id “wxnope”"):
        report("--account", "wxnope")
    with pytest.raises(CommandError, match="“20-05-2031” is not an ISO date"):
        report("--at", "20-05-2031")


def test_a_past_date_says_the_kind_is_todays_and_marks_a_kind_changed_since(settings):
    """R1: kinds change. The kind at --at is not in the report; it says so, and marks who changed since."""
    reviewer = make_user("rita", role="reviewer")
    acc = make_account(name="Acme", app_id="wx00000000000acme", kind=OfficialAccount.Kind.SUBSCRIPTION)
    steady = make_account(name="Steady", app_id="wx000000000steady")
    change_account_kind(acc, kind=OfficialAccount.Kind.SERVICE, by=reviewer, reason="Upgraded")
    yesterday = (timezone.now() - timedelta(days=1)).astimezone(ZoneInfo(settings.PLATFORM_TIME_ZONE)).date()

    lines = report("--at", yesterday.isoformat())

    rows = {cells(line)[0]: cells(line) for line in lines[2:-2]}
    assert rows["Acme"][2] == "service*" and rows["Steady"][2] == "service"
    assert lines[-2] == "KIND is each account's kind today, and the policies are those of that kind (R1: kinds change)."
    assert lines[-1].startswith(f"* The kind changed after {yesterday.isoformat()} 00:00:00 (Asia/Shanghai): ")
    assert steady.kind == "service"
    now = report()
    assert all("*" not in line and "KIND is" not in line for line in now)
