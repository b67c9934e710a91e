"""Over-marketing insight (R8): unfollows after each broadcast, attributed to the latest broadcast each
follower received from the account, on a small history whose figures are computed by hand; the flag
that follows the account's 72 h rate across the threshold; the beat job and unfollow_report."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts import services as account_services
from accounts.models import AuditEvent, Follower
from broadcasts import services, task_names
from broadcasts.models import FollowerDay, UnfollowFlag, UnfollowMeasure, Violation
from operator_console.platform_time import platform_zone
from tests.factories import make_account, make_followers, make_sent

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)


@pytest.fixture
def history():
    """Account A; followers f1..f7 following since long ago; T ten days ago.

    B1 at T      to f1 f2 f3 f4 f5        B2 at T+30h  to f2 f4 f6 f7        B3 at T+60h  to f5
    f1 unfollows T+10h                     -> B1 (10 h: within 24 h)
    f2 unfollows T+40h                     -> B2, its latest broadcast (10 h), not B1 (40 h)
    f3 unfollows T+5h, follows T+6h, unfollows T+50h -> B1 once (first unfollow, 5 h)
    f4 unfollows T+100h                    -> B2 (70 h: within 72 h, not 24 h)
    f5 unfollows T+80h                     -> B3 (20 h), not B1 (80 h, and not its latest)
    f6 unfollows T+31h, follows T+32h      -> B2 (1 h)
    f7 keeps following.
    """
    now = timezone.now()
    t = now - timedelta(days=10)
    account = make_account(name="Over Sender")
    make_followers(account, 7)
    Follower.objects.filter(account=account).update(subscribed_at=t - timedelta(days=30))
    f = [None, *Follower.objects.filter(account=account).order_by("id")]
    b1 = make_sent(account, at=t, followers=f[1:6], title="B1")
    b2 = make_sent(account, at=t + 30 * H, followers=[f[2], f[4], f[6], f[7]], title="B2")
    b3 = make_sent(account, at=t + 60 * H, followers=[f[5]], title="B3")
    unfollow, follow = account_services.unfollow, account_services.follow
    unfollow(f[1], at=t + 10 * H)
    unfollow(f[2], at=t + 40 * H)
    unfollow(f[3], at=t + 5 * H)
    follow(f[3], at=t + 6 * H)
    unfollow(f[3], at=t + 50 * H)
    unfollow(f[4], at=t + 100 * H)
    unfollow(f[5], at=t + 80 * H)
    unfollow(f[6], at=t + 31 * H)
    follow(f[6], at=t + 32 * H)
    # "Now" for the job is after these were recorded: an unfollow recorded after a final measure was
    # taken would make the job count it again (test_a_late_unfollow_reopens_a_final_measure_once).
    now = timezone.now()
    return account, (b1, b2, b3), now


def test_unfollows_are_attributed_to_the_latest_broadcast_within_24_and_72_hours(history):
    _account, (b1, b2, b3), now = history
    got = {b.title: services.unfollow_figures(b, now=now) for b in (b1, b2, b3)}
    assert [(g.sent, g.unfollows_24h, g.unfollows_72h, g.rate_72h) for g in got.values()] == [
        (5, 2, 2, Decimal("0.4")),   # B1: f1, f3 (once, though f3 unfollowed twice)
        (4, 2, 3, Decimal("0.75")),  # B2: f6, f2 within 24 h; f4 at 70 h
        (1, 1, 1, Decimal("1")),     # B3: f5
    ]
    # The curve: unfollows per hour after delivery.
    curve_b1 = got["B1"].curve
    assert len(curve_b1) == 72 and curve_b1[5] == curve_b1[10] == 1 and sum(curve_b1) == 2
    assert {h: n for h, n in enumerate(got["B2"].curve) if n} == {1: 1, 10: 1, 70: 1}
    assert all(g.is_final for g in got.values())


def test_the_beat_job_stores_the_figures_and_leaves_final_ones_alone(history):
    account, (b1, b2, _b3), now = history
    assert services.measure_unfollows(now=now) == 3
    stored = UnfollowMeasure.objects.get(broadcast=b2)
    assert (stored.sent, stored.unfollows_24h, stored.unfollows_72h, stored.rate_72h) == (4, 2, 3, Decimal("0.75"))
    assert stored.is_final
    assert services.measure_unfollows(now=now) == 0  # all three are past their 72 h
    # The history was written today with times of ten days ago, so it was recorded late: the first run
    # counts its days (f3 and f6 follow again, seven unfollows), none of them in the last four days.
    counted = FollowerDay.objects.filter(account=account)
    assert (sum(d.gained for d in counted), sum(d.lost for d in counted)) == (2, 7)
    assert not counted.filter(day__gte=timezone.localdate(now, platform_zone()) - timedelta(days=3)).exists()


def test_a_broadcast_within_its_72_hours_is_measured_again_until_final(history):
    account, _bs, now = history
    fresh = make_followers(account, 2, prefix="fresh-")
    Follower.objects.filter(pk__in=[f.pk for f in fresh]).update(subscribed_at=now - timedelta(days=1))
    b4 = make_sent(account, at=now - 2 * H, followers=fresh, title="B4")
    account_services.unfollow(fresh[0], at=now - H)
    services.measure_unfollows(now=now)
    m = UnfollowMeasure.objects.get(broadcast=b4)
    assert (m.unfollows_72h, m.is_final) == (1, False)
    account_services.unfollow(fresh[1])
    later = timezone.now() + timedelta(minutes=1)
    assert services.measure_unfollows(now=later) == 1
    m.refresh_from_db()
    assert (m.unfollows_24h, m.unfollows_72h, m.rate_72h, m.is_final) == (2, 2, Decimal("1"), False)
    # Follows and unfollows of today are in the pre-aggregated follower days.
    assert FollowerDay.objects.get(account=account, day=timezone.localdate(later, platform_zone())).lost == 2


def test_the_flag_turns_on_above_the_threshold_and_off_at_it(history, settings):
    account, _bs, now = history
    settings.BROADCAST_UNFOLLOW_FLAG_MIN_SENT = 10
    settings.BROADCAST_UNFOLLOW_FLAG_BROADCASTS = 5
    settings.BROADCAST_UNFOLLOW_FLAG_RATE = 0.6  # the account's rate is (2+3+1)/(5+4+1) = 0.6 exactly
    services.measure_unfollows(now=now)
    assert not UnfollowFlag.objects.filter(account=account).exists()

    settings.BROADCAST_UNFOLLOW_FLAG_RATE = 0.59
    assert services.review_unfollow_flags([account], now=now) == {account.pk: True}
    flag = UnfollowFlag.objects.get(account=account)
    assert flag.is_open and flag.raised_at == now and flag.rate_72h == Decimal("0.6")
    assert (flag.sent, flag.unfollows_72h, flag.broadcasts_counted) == (10, 6, 3)
    assert flag.worst_broadcast.title == "B3" and "“B3”" in flag.reason and "60.00%" in flag.reason
    assert AuditEvent.objects.filter(verb=AuditEvent.Verb.FLAGGED, account=account).count() == 1
    assert not Violation.objects.filter(account=account).exists()  # points are off by default
    services.review_unfollow_flags([account], now=now)  # still high: the same flag, no second one
    assert UnfollowFlag.objects.filter(account=account).count() == 1

    settings.BROADCAST_UNFOLLOW_FLAG_RATE = 0.6  # at the threshold is not above it: the flag clears itself
    later = now + H
    assert services.review_unfollow_flags([account], now=later) == {account.pk: False}
    flag.refresh_from_db()
    assert flag.cleared_at == later
    assert AuditEvent.objects.filter(verb=AuditEvent.Verb.UNFLAGGED, account=account).count() == 1


def test_the_flag_clears_when_a_quiet_broadcast_brings_the_rate_down(history, settings):
    account, _bs, now = history
    settings.BROADCAST_UNFOLLOW_FLAG_MIN_SENT = 10
    settings.BROADCAST_UNFOLLOW_FLAG_RATE = 0.5
    services.measure_unfollows(now=now)
    assert UnfollowFlag.objects.get(account=account).is_open
    quiet = make_followers(account, 10, prefix="quiet-")
    make_sent(account, at=now - 80 * H, followers=quiet, title="B4")  # 6 of 20 sent: 0.3
    services.measure_unfollows(now=now)
    assert not UnfollowFlag.objects.filter(account=account, cleared_at__isnull=True).exists()


def test_a_small_sample_is_never_flagged(history, settings):
    account, _bs, now = history
    settings.BROADCAST_UNFOLLOW_FLAG_RATE = 0.1
    settings.BROADCAST_UNFOLLOW_FLAG_MIN_SENT = 11  # 10 sent: one or two unfollows are noise
    services.measure_unfollows(now=now)
    assert not UnfollowFlag.objects.filter(account=account).exists()


def test_a_flag_can_cost_violation_points_when_ops_turn_that_on(history, settings):
    account, (_b1, _b2, b3), now = history
    settings.BROADCAST_UNFOLLOW_FLAG_MIN_SENT = 10
    settings.BROADCAST_UNFOLLOW_FLAG_RATE = 0.5
    settings.BROADCAST_UNFOLLOW_FLAG_POINTS = 10
    services.measure_unfollows(now=now)
    services.measure_unfollows(now=now)  # a flag still open costs nothing more
    violation = Violation.objects.get(account=account)
    assert (violation.points, violation.broadcast_id) == (10, b3.pk)


def test_unfollow_report_csv_has_exactly_the_columns_and_fresh_figures(history, capsys):
    account, (b1, b2, b3), _now = history
    call_command("unfollow_report", "--account", account.app_id, "--csv")
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "broadcast_id,app_id,sent,unfollows_24h,unfollows_72h,rate_72h",
        f"{b1.pk},{account.app_id},5,2,2,0.4",
        f"{b2.pk},{account.app_id},4,2,3,0.75",
        f"{b3.pk},{account.app_id},1,1,1,1",
    ]
    assert not UnfollowMeasure.objects.exists()  # a report: nothing stored


def test_unfollow_report_since_and_table(history, capsys):
    _account, (b1, b2, b3), _now = history
    since = timezone.localtime(b3.started_at, platform_zone()).date().isoformat()
    call_command("unfollow_report", "--since", since)
    out = capsys.readouterr().out
    ids = {word for line in out.splitlines() for word in line.split() if word.startswith("#")}
    assert ids == {f"#{b3.pk}"} and "100.00%" in out


def test_the_beat_row_runs_the_measurement_on_the_control_queue():
    task = PeriodicTask.objects.get(task=task_names.MEASURE_UNFOLLOWS)
    assert task.enabled and task.queue == "control" and task.interval.every == 600


def test_a_late_unfollow_reopens_a_final_measure_once():
    """B sent 5 days ago to f1 f2 f3; f1 unfollowed 2 h after, so the final measure says 1 of 3. Then the
    platform (or an import) reports that f2 unfollowed 10 h after B: the next run recounts B (2 of 3,
    both within 24 h); the run after that leaves it alone, and so does an unfollow outside B's 72 h."""
    sent_at = timezone.now() - timedelta(days=5)
    account = make_account(name="Late Reports")
    make_followers(account, 3)
    Follower.objects.filter(account=account).update(subscribed_at=sent_at - timedelta(days=30))
    f1, f2, f3 = Follower.objects.filter(account=account).order_by("id")
    b = make_sent(account, at=sent_at, followers=[f1, f2, f3], title="B")
    account_services.unfollow(f1, at=sent_at + 2 * H)
    services.measure_unfollows()
    first = UnfollowMeasure.objects.get(broadcast=b)
    assert (first.unfollows_24h, first.unfollows_72h, first.is_final) == (1, 1, True)

    account_services.unfollow(f2, at=sent_at + 10 * H)  # recorded now, dated inside B's 72 h
    services.measure_unfollows()
    again = UnfollowMeasure.objects.get(broadcast=b)
    assert (again.unfollows_24h, again.unfollows_72h, again.rate_72h, again.is_final) == (
        2, 2, Decimal("0.666667"), True)
    assert again.measured_at > first.measured_at

    account_services.unfollow(f3, at=sent_at + 100 * H)  # after B's 72 h: nothing of B's changes
    services.measure_unfollows()
    assert UnfollowMeasure.objects.get(broadcast=b).measured_at == again.measured_at


def test_unfollow_report_lists_a_sent_broadcast_that_reached_nobody_with_rate_0(history, capsys):
    account, (b1, b2, b3), _now = history
    empty = make_sent(account, at=timezone.now() - timedelta(hours=1), followers=[], title="Nobody left")
    call_command("unfollow_report", "--account", account.app_id, "--csv")
    assert capsys.readouterr().out.splitlines()[-1] == f"{empty.pk},{account.app_id},0,0,0,0"


@pytest.mark.parametrize("since", ["2999-01-01", " ", "2026-11-01T00:00+08:00"])
def test_unfollow_report_refuses_a_since_it_cannot_use(since, capsys):
    with pytest.raises(CommandError, match="--since"):
        call_command("unfollow_report", "--since", since)


def test_unfollow_report_since_tomorrow_is_refused_naming_today(capsys):
    tomorrow = (timezone.localtime(timezone.now(), platform_zone()) + timedelta(days=1)).date().isoformat()
    with pytest.raises(CommandError, match=rf"--since: “{tomorrow}” is in the future"):
        call_command("unfollow_report", "--since", tomorrow)
