"""Account quotas (R2, R3): calendar windows in Asia/Shanghai, versioned policies, certification (R4)."""

from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from accounts.models import Certification, OfficialAccount
from broadcasts import selectors, services, windows
from broadcasts.exceptions import BroadcastError, CertificationRequired, QuotaExceeded
from broadcasts.models import Broadcast, QuotaPolicy, QuotaReservation
from tests.factories import certify, local, make_account, make_approved, make_draft, make_pending, make_user

pytestmark = pytest.mark.django_db

# The server's zone must not matter: windows are counted in PLATFORM_TIME_ZONE.
SERVER_ZONES = ["Asia/Shanghai", "UTC"]


@pytest.fixture
def people():
    return make_user("author"), make_user("reviewer")


def utc_day(moment):
    return moment.astimezone(UTC).date()


@pytest.mark.parametrize("server_zone", SERVER_ZONES)
def test_subscription_account_second_broadcast_refused_at_2359_approved_at_0001(settings, people, server_zone):
    settings.TIME_ZONE = server_zone
    author, reviewer = people
    acc = make_account(name="Daily Digest", kind=OfficialAccount.Kind.SUBSCRIPTION)
    late, early_next = local(2031, 3, 10, 23, 59), local(2031, 3, 11, 0, 1)
    assert utc_day(late) == utc_day(early_next)  # the same UTC day: only the local calendar separates them

    make_approved(acc, by=author, reviewer=reviewer, send_at=local(2031, 3, 10, 9, 0))
    second = make_pending(acc, by=author)
    with pytest.raises(QuotaExceeded) as exc:
        services.approve_broadcast(second, by=reviewer, send_at=late)
    assert exc.value.code == "quota_exceeded"
    assert str(exc.value) == (
        "Subscription account Daily Digest has used 1 of 1 broadcast for 2031-03-10 (Asia/Shanghai) "
        "under the rule of 1 per calendar day; next window opens 2031-03-11."
    )
    second.refresh_from_db()
    assert second.status == Broadcast.Status.PENDING_REVIEW

    second = services.approve_broadcast(second, by=reviewer, send_at=early_next)
    assert second.status == Broadcast.Status.APPROVED
    assert second.reservation.window_start == local(2031, 3, 11, 0, 0)


@pytest.mark.parametrize("server_zone", SERVER_ZONES)
def test_service_account_month_window_is_the_local_calendar_month(settings, people, server_zone):
    settings.TIME_ZONE = server_zone
    author, reviewer = people
    acc = make_account(name="Acme")
    first_minute = local(2031, 3, 1, 0, 1)  # still February in UTC
    assert first_minute.astimezone(UTC).month == 2
    for send_at in (first_minute, local(2031, 3, 9), local(2031, 3, 17), local(2031, 3, 25)):
        make_approved(acc, by=author, reviewer=reviewer, send_at=send_at)

    fifth = make_pending(acc, by=author)
    with pytest.raises(QuotaExceeded) as exc:
        services.approve_broadcast(fifth, by=reviewer, send_at=local(2031, 3, 31, 23, 59))
    assert str(exc.value) == (
        "Service account Acme has used 4 of 4 broadcasts for 2031-03 (Asia/Shanghai) "
        "under the rule of 4 per calendar month; next window opens 2031-04-01."
    )
    assert utc_day(local(2031, 3, 31, 23, 59)) == utc_day(local(2031, 4, 1, 0, 1))
    fifth = services.approve_broadcast(fifth, by=reviewer, send_at=local(2031, 4, 1, 0, 1))
    assert fifth.status == Broadcast.Status.APPROVED
    assert sorted(QuotaReservation.objects.filter(account=acc).values_list("slot", flat=True)) == [1, 1, 2, 3, 4]


def end_monthly_policy_and_start_weekly(at):
    """What ops do in the admin to change the rule: end the policy in force, add the next one."""
    QuotaPolicy.objects.filter(kind="service", scope="account", effective_until__isnull=True).update(effective_until=at)
    return QuotaPolicy.objects.create(kind="service", scope="account", limit=1, period="week", effective_from=at)


@pytest.mark.parametrize("server_zone", SERVER_ZONES)
def test_iso_week_window_changes_at_local_monday_midnight(settings, people, server_zone):
    settings.TIME_ZONE = server_zone
    author, reviewer = people
    acc = make_account(name="Acme")
    end_monthly_policy_and_start_weekly(local(2032, 1, 1, 0, 0))
    sunday_late, monday_early = local(2032, 1, 4, 23, 59), local(2032, 1, 5, 0, 1)
    assert utc_day(sunday_late) == utc_day(monday_early)

    make_approved(acc, by=author, reviewer=reviewer, send_at=local(2032, 1, 1, 10, 0))  # Thursday of 2032-W01
    second = make_pending(acc, by=author)
    with pytest.raises(QuotaExceeded) as exc:
        services.approve_broadcast(second, by=reviewer, send_at=sunday_late)
    assert str(exc.value) == (
        "Service account Acme has used 1 of 1 broadcast for 2032-W01 (Asia/Shanghai) "
        "under the rule of 1 per ISO week; next window opens 2032-01-05."
    )
    assert services.approve_broadcast(second, by=reviewer, send_at=monday_early).status == Broadcast.Status.APPROVED


def test_broadcast_is_judged_by_the_policy_in_force_at_its_send_time(people):
    """A policy change ahead: approvals before it use the old rule, after it the new one."""
    author, reviewer = people
    acc = make_account(name="Acme")
    end_monthly_policy_and_start_weekly(local(2032, 1, 1, 0, 0))
    for day in (1, 2, 3):  # three in December 2031 under 4 a month
        make_approved(acc, by=author, reviewer=reviewer, send_at=local(2031, 12, day))
    after = make_approved(acc, by=author, reviewer=reviewer, send_at=local(2032, 1, 2))
    assert after.reservation.policy.period == "week"


def reserve(acc, by, at):
    """Historical windows cannot be approved (a past send time means now): exercise the quota layer."""
    b = make_pending(acc, by=by)
    return services.reserve_slot(b, account=acc, at=at)


def test_seeded_history_one_per_week_until_2014_04_15_then_four_per_month(people):
    author, _ = people
    acc = make_account(name="Acme")
    assert reserve(acc, author, local(2014, 4, 8, 10)).policy.period == "week"
    with pytest.raises(QuotaExceeded) as exc:
        reserve(acc, author, local(2014, 4, 13, 23, 59))  # Sunday, same ISO week
    assert "1 of 1 broadcast for 2014-W15 (Asia/Shanghai) under the rule of 1 per ISO week" in str(exc.value)
    assert "next window opens 2014-04-14" in str(exc.value)

    # Monday 2014-04-14: a new week, still the weekly rule; 23:59 is that week's second.
    assert reserve(acc, author, local(2014, 4, 14, 9, 0)).policy.period == "week"
    with pytest.raises(QuotaExceeded) as exc:
        reserve(acc, author, local(2014, 4, 14, 23, 59))
    # That week would run to 04-21, but the weekly rule ends first: the monthly rule opens on 04-15.
    assert "next window opens 2014-04-15." in str(exc.value)

    # From 2014-04-15 00:00 local: four per calendar month.
    for day in (15, 16, 17, 18):
        r = reserve(acc, author, local(2014, 4, day, 0, 1))
        assert (r.policy.period, r.policy.limit) == ("month", 4)
    with pytest.raises(QuotaExceeded) as exc:
        reserve(acc, author, local(2014, 4, 30, 23, 59))
    assert "4 of 4 broadcasts for 2014-04 (Asia/Shanghai) under the rule of 4 per calendar month" in str(exc.value)
    assert "next window opens 2014-05-01" in str(exc.value)
    assert reserve(acc, author, local(2014, 5, 1, 0, 1)).slot == 1


def test_no_policy_in_force_refuses_with_its_own_code(people):
    author, reviewer = people
    acc = make_account(name="Acme")
    QuotaPolicy.objects.filter(kind="service", scope="account", effective_until__isnull=True).update(
        effective_until=local(2031, 1, 1)
    )
    b = make_pending(acc, by=author)
    with pytest.raises(BroadcastError) as exc:
        services.approve_broadcast(b, by=reviewer, send_at=local(2031, 2, 1))
    assert exc.value.code == "no_quota_policy"
    assert "Quota policies" in str(exc.value)


def test_quota_position_for_the_reviewer(people):
    author, reviewer = people
    acc = make_account(name="Acme")
    for day in (2, 3):
        make_approved(acc, by=author, reviewer=reviewer, send_at=local(2031, 11, day))
    b = make_pending(acc, by=author, scheduled_at=local(2031, 11, 20))
    position = selectors.quota_position(b)
    assert position["text"] == "would be 3 of 4 for 2031-11 (Asia/Shanghai)"
    assert (position["used"], position["limit"], position["next_window_opens"]) == (2, 4, "2031-12-01")

    b = services.approve_broadcast(b, by=reviewer)
    assert selectors.quota_position(b)["text"] == "holds slot 3 of 4 for 2031-11 (Asia/Shanghai)"


# --- R4: the advanced mass interface needs a service account certified at the send time ---


@pytest.fixture
def tagged(people):
    author, _ = people
    acc = make_account(name="Acme")
    tag = acc.tags.create(name="vip")
    return acc, tag


def test_certification_valid_at_send_time_approves_a_tag_broadcast(people, tagged):
    author, reviewer = people
    acc, tag = tagged
    now = timezone.now()
    certify(acc, valid_from=now - timedelta(days=1), valid_until=now + timedelta(days=30))
    b = make_pending(acc, by=author, channel="api", audience="tag", tag=tag)
    b = services.approve_broadcast(b, by=reviewer, send_at=now + timedelta(days=10))
    assert b.status == Broadcast.Status.APPROVED
    # R3a: a targeted API send uses no account slot.
    assert not QuotaReservation.objects.filter(broadcast=b).exists()


def test_certification_running_out_before_send_time_refuses(people, tagged):
    author, reviewer = people
    acc, tag = tagged
    now = timezone.now()
    certify(acc, valid_from=now - timedelta(days=1), valid_until=now + timedelta(days=30))
    b = make_pending(acc, by=author, channel="api", audience="tag", tag=tag)
    with pytest.raises(CertificationRequired) as exc:
        services.approve_broadcast(b, by=reviewer, send_at=now + timedelta(days=40))
    assert exc.value.code == "certification_required"
    assert str(exc.value).startswith("Service account Acme has no certification valid at ")
    assert "runs out on" in str(exc.value) and "a broadcast to a tag needs a certified service account" in str(exc.value)


@pytest.mark.parametrize(
    ("status", "words"),
    [(Certification.Status.EXPIRED, "expired on"), (Certification.Status.REVOKED, "was revoked")],
)
def test_expired_or_revoked_certification_refuses(people, tagged, status, words):
    author, reviewer = people
    acc, tag = tagged
    now = timezone.now()
    certify(acc, valid_from=now - timedelta(days=400), valid_until=now - timedelta(days=35), status=status)
    b = make_pending(acc, by=author, channel="api", audience="all")
    with pytest.raises(CertificationRequired) as exc:
        services.approve_broadcast(b, by=reviewer)
    assert words in str(exc.value)
    assert "through the advanced mass interface (API)" in str(exc.value)


def test_revoked_certification_refuses_even_within_its_dates(people, tagged):
    author, reviewer = people
    acc, tag = tagged
    now = timezone.now()
    certify(acc, valid_from=now - timedelta(days=10), valid_until=now + timedelta(days=300),
            status=Certification.Status.REVOKED)
    b = make_pending(acc, by=author, channel="api", audience="tag", tag=tag)
    with pytest.raises(CertificationRequired, match="was revoked"):
        services.approve_broadcast(b, by=reviewer)


def test_uncertified_service_account_may_send_from_the_console_to_all(people, tagged):
    author, reviewer = people
    acc, _ = tagged
    b = services.approve_broadcast(make_pending(acc, by=author), by=reviewer)
    assert b.status == Broadcast.Status.APPROVED


def test_console_tag_broadcast_needs_certification_too(people, tagged):
    author, reviewer = people
    acc, tag = tagged
    b = make_pending(acc, by=author, audience="tag", tag=tag)
    with pytest.raises(CertificationRequired, match="it has never been certified"):
        services.approve_broadcast(b, by=reviewer)


def test_subscription_account_cannot_use_the_advanced_interface(people):
    author, reviewer = people
    acc = make_account(name="Daily Digest", kind=OfficialAccount.Kind.SUBSCRIPTION)
    b = make_draft(acc, by=author, channel="api")
    sentence = (
        "Subscription account Daily Digest cannot send a broadcast through the advanced mass interface (API): "
        "the advanced mass interface is open only to certified service accounts."
    )
    # Certain already: submit refuses it with approval's sentence (issue 13), and approval still does.
    with pytest.raises(CertificationRequired) as exc:
        services.submit_broadcast(b, by=author)
    assert str(exc.value) == sentence
    Broadcast.objects.filter(pk=b.pk).update(status=Broadcast.Status.PENDING_REVIEW)
    with pytest.raises(CertificationRequired) as exc:
        services.approve_broadcast(b, by=reviewer)
    assert str(exc.value) == sentence


def test_api_broadcast_to_all_counts_against_the_account_quota(people):
    author, reviewer = people
    acc = make_account(name="Acme")
    now = timezone.now()
    certify(acc, valid_from=now - timedelta(days=1), valid_until=now + timedelta(days=90))
    next_month = windows.window_for("month", now).end
    for day in (1, 2, 3, 4):
        make_approved(acc, by=author, reviewer=reviewer, send_at=next_month + timedelta(days=day))
    b = make_pending(acc, by=author, channel="api", audience="all")
    with pytest.raises(QuotaExceeded):
        services.approve_broadcast(b, by=reviewer, send_at=next_month + timedelta(days=5))
