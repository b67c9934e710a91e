"""Over-marketing insight (R8): unfollows after each broadcast, stored beside it, and the accounts
flagged when their 72 h unfollow rate stays high. The beat job and unfollow_report both call here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, Max, OuterRef, QuerySet
from django.utils import timezone

from accounts.models import AuditEvent, FollowerEvent, OfficialAccount
from accounts.services import record_event
from operator_console.platform_time import in_platform_zone, platform_zone_name

from .. import unfollow_sql
from ..models import CURVE_HOURS, Broadcast, FollowerDay, UnfollowFlag, UnfollowMeasure
from .locks import lock_account
from .penalties import record_violation

SHORT = timedelta(hours=24)
HORIZON = timedelta(hours=72)
# The follower days recounted by each run: the horizon and a day more, so that platform events
# that arrive a little late are counted on their day.
FOLLOWER_DAYS_REFRESHED = 4
MEASURED_STATUSES = (Broadcast.Status.SENT, Broadcast.Status.PARTIALLY_SENT)
# Unfollows recorded this long before the job's last run are looked at again: an import or a batch of
# platform events stamps its events when it starts writing and may commit after a run has begun.
LATE_OVERLAP = timedelta(hours=1)
RATE_PLACES = Decimal("0.000001")
# Before every event: where the first recount of follower days looks from.
NEVER = datetime(1970, 1, 1, tzinfo=UTC)


class Figures(NamedTuple):
    """A broadcast's unfollows after delivery: what unfollow_report prints and UnfollowMeasure keeps."""

    broadcast_id: int
    app_id: str
    sent: int
    unfollows_24h: int
    unfollows_72h: int
    rate_72h: Decimal
    curve: list[int]
    is_final: bool


def final_at(broadcast: Broadcast) -> datetime | None:
    """When the broadcast's measure becomes final: HORIZON after its last delivery (None: not finished)."""
    return broadcast.finished_at + HORIZON if broadcast.finished_at else None


def rate(unfollows: int, sent: int) -> Decimal:
    """unfollows / sent as a decimal fraction to 6 places; 0 when nothing was sent."""
    if not sent:
        return Decimal(0)
    return (Decimal(unfollows) / Decimal(sent)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def finished_broadcasts() -> QuerySet[Broadcast]:
    """Broadcasts that finished sent or partially sent, those that reached nobody (0 sent) included, oldest
    send first: the rows of unfollow_report."""
    return (Broadcast.objects.filter(status__in=MEASURED_STATUSES, started_at__isnull=False)
            .select_related("account").order_by("started_at", "id"))


def measured_broadcasts() -> QuerySet[Broadcast]:
    """Broadcasts that have recipients to measure: finished with some sent, oldest send first."""
    return finished_broadcasts().filter(sent_count__gt=0)


def unfollow_figures(broadcast: Broadcast, *, now: datetime | None = None) -> Figures:
    """Count, fresh, the broadcast's recipients who unfollowed within 24 h and 72 h of their delivery,
    each unfollow attributed to the latest broadcast the follower had received from the account
    (one set-based statement, unfollow_sql). Raises nothing."""
    now = now or timezone.now()
    last_delivery = broadcast.finished_at or now
    rows = unfollow_sql.unfollow_buckets(
        broadcast_id=broadcast.pk, account_id=broadcast.account_id,
        since=broadcast.started_at, until=last_delivery + HORIZON,
        horizon_s=int(HORIZON.total_seconds()), short_s=int(SHORT.total_seconds()), buckets=CURVE_HOURS,
    )
    curve = [0] * CURVE_HOURS
    for bucket, n, _short in rows:
        curve[bucket] = n
    within_72h = sum(n for _b, n, _s in rows)
    return Figures(
        broadcast_id=broadcast.pk, app_id=broadcast.account.app_id, sent=broadcast.sent_count,
        unfollows_24h=sum(s for _b, _n, s in rows), unfollows_72h=within_72h,
        rate_72h=rate(within_72h, broadcast.sent_count), curve=curve,
        is_final=broadcast.finished_at is not None and now >= final_at(broadcast),
    )


def measure_broadcast(broadcast: Broadcast, *, now: datetime | None = None) -> UnfollowMeasure:
    """Measure the broadcast's unfollows now and store them (UnfollowMeasure). Raises nothing."""
    now = now or timezone.now()
    f = unfollow_figures(broadcast, now=now)
    measure, _created = UnfollowMeasure.objects.update_or_create(
        broadcast=broadcast,
        defaults={"account_id": broadcast.account_id, "sent": f.sent, "unfollows_24h": f.unfollows_24h,
                  "unfollows_72h": f.unfollows_72h, "rate_72h": f.rate_72h, "curve": f.curve,
                  "measured_at": now, "is_final": f.is_final},
    )
    return measure


def measure_unfollows(*, now: datetime | None = None) -> int:
    """Beat: measure every finished broadcast whose 72 h are not yet all measured, recount the recent
    follower days and the older ones that late events fall on, and raise or clear the flags of the accounts
    measured. Returns broadcasts measured."""
    now = now or timezone.now()
    late = list(late_unfollow_measures().values_list("broadcast_id", flat=True))
    todo = measured_broadcasts().exclude(unfollows__is_final=True) | measured_broadcasts().filter(pk__in=late)
    accounts = set()
    count = 0
    for broadcast in todo.iterator(chunk_size=200):
        measure_broadcast(broadcast, now=now)
        accounts.add(broadcast.account_id)
        count += 1
    refresh_follower_days(now=now)
    open_flags = UnfollowFlag.objects.filter(cleared_at__isnull=True).values_list("account_id", flat=True)
    review_unfollow_flags(OfficialAccount.objects.filter(pk__in=accounts | set(open_flags)), now=now)
    return count


def late_unfollow_measures() -> QuerySet[UnfollowMeasure]:
    """Final measures that an unfollow recorded after them falls into (an event, admin action or import
    dated in the past): the job measures them again. Driven by the unfollows recorded since the last run
    (index follower_event_recorded_idx), so its cost follows the new unfollows, not the history."""
    last_run = UnfollowMeasure.objects.aggregate(last=Max("measured_at"))["last"]
    if last_run is None:
        return UnfollowMeasure.objects.none()
    since = last_run - LATE_OVERLAP
    late = FollowerEvent.objects.filter(
        kind=FollowerEvent.Kind.UNSUBSCRIBE, recorded_at__gt=since, account_id=OuterRef("account_id"),
        at__gt=OuterRef("broadcast__started_at"), at__lte=OuterRef("window_end"),
    ).filter(recorded_at__gt=OuterRef("measured_at"))
    return (UnfollowMeasure.objects.filter(is_final=True, broadcast__finished_at__isnull=False)
            .annotate(window_end=F("broadcast__finished_at") + HORIZON).filter(Exists(late)))


def refresh_follower_days(*, now: datetime | None = None) -> int:
    """Recount the last FOLLOWER_DAYS_REFRESHED platform days of follows and unfollows per account (the
    charts' pre-aggregated daily counts), and the older days that follows and unfollows recorded since the
    last run (LATE_OVERLAP before it) are dated on: an import dated back, late platform events, the admin's
    past time. The first run, with no last run, recounts every day of the history. Returns the rows written."""
    now = now or timezone.now()
    local = in_platform_zone(now)
    start = (local - timedelta(days=FOLLOWER_DAYS_REFRESHED - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    last_run = FollowerDay.objects.aggregate(last=Max("counted_at"))["last"]
    recorded_since = last_run - LATE_OVERLAP if last_run is not None else NEVER
    return unfollow_sql.refresh_follower_days(
        since=start, recorded_since=recorded_since, now=now, zone=platform_zone_name(),
        hours=int(local.utcoffset().total_seconds() // 3600),
    )


class AccountRate(NamedTuple):
    broadcasts: int
    sent: int
    unfollows_72h: int
    rate_72h: Decimal
    worst: UnfollowMeasure | None


def account_rate(account: OfficialAccount) -> AccountRate:
    """The account's 72 h unfollow rate over its last BROADCAST_UNFOLLOW_FLAG_BROADCASTS measured
    broadcasts: their unfollows over their sent (a weighted rate), and the worst of them."""
    n = settings.BROADCAST_UNFOLLOW_FLAG_BROADCASTS
    last = list(UnfollowMeasure.objects.filter(account=account)
                .order_by("-broadcast__started_at", "-broadcast_id").select_related("broadcast")[:n])
    sent = sum(m.sent for m in last)
    unfollows = sum(m.unfollows_72h for m in last)
    worst = max(last, key=lambda m: (m.rate_72h, m.broadcast_id), default=None)
    return AccountRate(len(last), sent, unfollows, rate(unfollows, sent), worst)


def review_unfollow_flags(accounts: Iterable[OfficialAccount], *, now: datetime | None = None) -> dict[int, bool]:
    """Flag each account whose 72 h unfollow rate over its last broadcasts is above
    BROADCAST_UNFOLLOW_FLAG_RATE (with at least BROADCAST_UNFOLLOW_FLAG_MIN_SENT sent), and clear the
    flag of one whose rate fell; both audited. A newly raised flag costs
    BROADCAST_UNFOLLOW_FLAG_POINTS violation points (R7) when that is set. Returns account id -> flagged."""
    now = now or timezone.now()
    return {account.pk: _review_one(account, now=now) for account in accounts}


@transaction.atomic
def _review_one(account: OfficialAccount, *, now: datetime) -> bool:
    account = lock_account(account)  # one review of an account at a time: at most one open flag
    threshold = Decimal(str(settings.BROADCAST_UNFOLLOW_FLAG_RATE)).quantize(RATE_PLACES)
    figures = account_rate(account)
    is_high = figures.sent >= settings.BROADCAST_UNFOLLOW_FLAG_MIN_SENT and figures.rate_72h > threshold
    flag = UnfollowFlag.objects.filter(account=account, cleared_at__isnull=True).first()
    if not is_high:
        if flag is not None:
            flag.cleared_at = flag.updated_at = now
            flag.save(update_fields=["cleared_at", "updated_at"])
            record_event(flag, by=None, verb=AuditEvent.Verb.UNFLAGGED, account=account,
                         note=f"72 h unfollow rate {figures.rate_72h:.2%} (broadcasts counted: {figures.broadcasts}), "
                              f"at or below the threshold of {threshold:.2%}")
        return False
    worst = figures.worst
    # The audit's record (stored, in English); people read dashboard.flag_reason, worded when shown.
    reason = (f"72 h unfollow rate {figures.rate_72h:.2%} ({figures.unfollows_72h:,} of {figures.sent:,} sent; "
              f"broadcasts counted: {figures.broadcasts}), above the threshold of {threshold:.2%}; "
              f"highest: #{worst.broadcast_id} “{worst.broadcast.title}” at {worst.rate_72h:.2%}")
    fields = {"rate_72h": figures.rate_72h, "threshold": threshold, "broadcasts_counted": figures.broadcasts,
              "sent": figures.sent, "unfollows_72h": figures.unfollows_72h, "worst_broadcast_id": worst.broadcast_id,
              "reason": reason, "updated_at": now}
    if flag is not None:
        UnfollowFlag.objects.filter(pk=flag.pk).update(**fields)
        return True
    flag = UnfollowFlag.objects.create(account=account, raised_at=now, **fields)
    record_event(flag, by=None, verb=AuditEvent.Verb.FLAGGED, account=account, note=reason)
    if settings.BROADCAST_UNFOLLOW_FLAG_POINTS:
        record_violation(account, by=None, points=settings.BROADCAST_UNFOLLOW_FLAG_POINTS, broadcast=worst.broadcast)
    return True
