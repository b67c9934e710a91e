"""Quota policies and their calendar windows (R2, R3, R5).

Windows (day, ISO week, month) are counted in settings.PLATFORM_TIME_ZONE, not
UTC and not the server's zone. A broadcast is judged by the policy whose
[effective_from, effective_until) contains its send time, in that policy's window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from .exceptions import NoQuotaPolicy, QuotaExceeded
from .models import FollowerQuotaUsage, QuotaPolicy, QuotaReservation


def platform_zone() -> ZoneInfo:
    return ZoneInfo(settings.PLATFORM_TIME_ZONE)


@dataclass(frozen=True)
class Window:
    """One calendar window: [start, end) as aware datetimes, plus a label for people."""

    period: str
    start: datetime
    end: datetime
    label: str  # "2026-11-24", "2026-W48", "2026-11"

    @property
    def start_date(self) -> date:
        return self.start.date()

    def describe(self) -> str:
        return f"{self.label} ({settings.PLATFORM_TIME_ZONE})"

    @property
    def next_opens(self) -> str:
        return self.end.strftime("%Y-%m-%d")


def window_for(period: str, at: datetime) -> Window:
    """The calendar window of `period` containing `at`, in the platform's zone."""
    tz = platform_zone()
    local = at.astimezone(tz)
    day = local.date()
    if period == QuotaPolicy.Period.DAY:
        first, last = day, day + timedelta(days=1)
        label = day.isoformat()
    elif period == QuotaPolicy.Period.WEEK:
        first = day - timedelta(days=day.weekday())  # ISO weeks start on Monday
        last = first + timedelta(days=7)
        year, week, _ = day.isocalendar()
        label = f"{year}-W{week:02d}"
    elif period == QuotaPolicy.Period.MONTH:
        first = day.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1)
        label = f"{first:%Y-%m}"
    else:
        raise ValueError(f"unknown period {period!r}")
    start = datetime(first.year, first.month, first.day, tzinfo=tz)
    end = datetime(last.year, last.month, last.day, tzinfo=tz)
    return Window(period=period, start=start, end=end, label=label)


def policy_in_force(kind: str, scope: str, at: datetime) -> QuotaPolicy | None:
    """The policy for this account kind and scope whose effective range contains `at`."""
    return (
        QuotaPolicy.objects.filter(kind=kind, scope=scope, effective_from__lte=at)
        .filter(Q(effective_until__isnull=True) | Q(effective_until__gt=at))
        .order_by("-effective_from")
        .first()
    )


# --- people-facing descriptions -------------------------------------------------

_PERIOD_WORDS = {
    QuotaPolicy.Period.DAY: "calendar day",
    QuotaPolicy.Period.WEEK: "ISO week",
    QuotaPolicy.Period.MONTH: "calendar month",
}


def fmt_moment(moment: datetime) -> str:
    """A moment as people on the platform read it: "2026-11-24 09:30 (Asia/Shanghai)"."""
    return f"{moment.astimezone(platform_zone()):%Y-%m-%d %H:%M} ({settings.PLATFORM_TIME_ZONE})"


def describe_policy(policy: QuotaPolicy) -> str:
    """ "4 per calendar month" (account scope) or "4 per follower per calendar month"."""
    per = "per follower per " if policy.scope == QuotaPolicy.Scope.FOLLOWER else "per "
    return f"{policy.limit} {per}{_PERIOD_WORDS.get(policy.period, policy.period)}"


def _kind_and_name(account) -> str:
    return f"{account.get_kind_display()} {account.name}"


# --- account quota (R2/R3): reservations -----------------------------------------


def account_policy(account, at: datetime) -> QuotaPolicy:
    """The account-scope policy governing `account` at `at`. Raises no_quota_policy."""
    policy = policy_in_force(account.kind, QuotaPolicy.Scope.ACCOUNT, at)
    if policy is None:
        raise NoQuotaPolicy(
            f"No account quota policy for {account.get_kind_display().lower()}s is in force at {fmt_moment(at)}; "
            "add one under Quota policies before approving broadcasts of "
            f"{account.name}.",
            account=account.pk,
        )
    return policy


def used_slots(account, policy: QuotaPolicy, window: Window, *, exclude_broadcast=None) -> set[int]:
    qs = QuotaReservation.objects.filter(account=account, policy=policy, window_start=window.start)
    if exclude_broadcast is not None:
        qs = qs.exclude(broadcast=exclude_broadcast)
    return set(qs.values_list("slot", flat=True))


def next_window_opens(policy: QuotaPolicy, window: Window) -> str:
    """When the next window opens: the window's end, or earlier if the policy ends first (a rule change)."""
    end = window.end
    if policy.effective_until is not None and policy.effective_until < end:
        end = policy.effective_until.astimezone(platform_zone())
        if (end.hour, end.minute, end.second) != (0, 0, 0):
            return end.strftime("%Y-%m-%d %H:%M")
    return end.strftime("%Y-%m-%d")


def quota_exceeded_message(account, policy: QuotaPolicy, window: Window, used: int) -> str:
    return (
        f"{_kind_and_name(account)} has used {used} of {policy.limit} broadcasts for {window.describe()} "
        f"under the rule of {describe_policy(policy)}; next window opens {next_window_opens(policy, window)}."
    )


def reserve_slot(broadcast, *, account, at: datetime) -> QuotaReservation | None:
    """Take the lowest free slot of the account quota for the window of `at`.

    The caller holds the account's row lock (select_for_update), which serializes
    approvals of one account; the unique constraint on the slot is the safety net.
    Returns None when R3a does not count the broadcast. Raises quota_exceeded, no_quota_policy.
    """
    if not broadcast.counts_against_account_quota:
        return None
    policy = account_policy(account, at)
    window = window_for(policy.period, at)
    taken = used_slots(account, policy, window, exclude_broadcast=broadcast)
    if len(taken) >= policy.limit:
        raise QuotaExceeded(
            quota_exceeded_message(account, policy, window, len(taken)),
            account=account.pk, policy=policy.pk, window=window.label, used=len(taken), limit=policy.limit,
        )
    # Fewer than `limit` slots are taken, so one of 1..limit is free even after ops lowered a limit.
    slot = min(set(range(1, policy.limit + 1)) - taken)
    try:
        with transaction.atomic():
            return QuotaReservation.objects.create(
                broadcast=broadcast, account=account, policy=policy,
                window_start=window.start, window_end=window.end, slot=slot,
            )
    except IntegrityError as exc:
        # Only reachable if a writer skipped the account lock: refuse rather than double-book.
        raise QuotaExceeded(
            quota_exceeded_message(account, policy, window, len(taken) + 1),
            account=account.pk, policy=policy.pk, window=window.label,
        ) from exc


def release_reservation(broadcast) -> bool:
    """Give the broadcast's slot back; True when it held one."""
    deleted, _ = QuotaReservation.objects.filter(broadcast_id=broadcast.pk).delete()
    return bool(deleted)


def move_reservation(broadcast, *, account, at: datetime) -> QuotaReservation | None:
    """Move the broadcast's slot to the window of `at`, atomically.

    If the new window is full, QuotaExceeded is raised and the old slot stays
    (the savepoint rolls the release back). Caller holds the account lock.
    Raises quota_exceeded, no_quota_policy.
    """
    current = QuotaReservation.objects.filter(broadcast_id=broadcast.pk).first()
    if broadcast.counts_against_account_quota and current is not None:
        policy = account_policy(account, at)
        if current.policy_id == policy.pk and current.window_start == window_for(policy.period, at).start:
            return current  # same window: keep the slot it already holds
    with transaction.atomic():
        release_reservation(broadcast)
        return reserve_slot(broadcast, account=account, at=at)


# --- reads for the review page and the report --------------------------------------


def quota_position(broadcast, at: datetime | None = None) -> dict:
    """Where the broadcast stands in its account quota, for the reviewer.

    Keys: counts, policy, window, used, limit, slot (held), would_be, fits,
    next_window_opens, text ("would be 3 of 4 for 2026-11 (Asia/Shanghai)").
    """
    account = broadcast.account
    reservation = QuotaReservation.objects.filter(broadcast_id=broadcast.pk).select_related("policy").first()
    result = {
        "counts": broadcast.counts_against_account_quota, "policy": None, "window": None, "used": 0,
        "limit": None, "slot": None, "would_be": None, "fits": True, "next_window_opens": None, "text": "",
    }
    if reservation is not None:
        policy = reservation.policy
        window = window_for(policy.period, reservation.window_start)
        used = len(used_slots(account, policy, window))
        result.update(policy=policy, window=window, used=used, limit=policy.limit, slot=reservation.slot,
                      next_window_opens=next_window_opens(policy, window),
                      text=f"holds slot {reservation.slot} of {policy.limit} for {window.describe()}")
        return result
    if not broadcast.counts_against_account_quota:
        follower_policy = policy_in_force(account.kind, QuotaPolicy.Scope.FOLLOWER, at or broadcast.send_time)
        cap = f" ({describe_policy(follower_policy)})" if follower_policy else ""
        result["text"] = f"not counted in the account quota: a targeted API send is bounded by the follower cap{cap}"
        return result
    send_time = max(at or broadcast.send_time, timezone.now())
    policy = policy_in_force(account.kind, QuotaPolicy.Scope.ACCOUNT, send_time)
    if policy is None:
        result.update(fits=False, text=f"no account quota policy in force at {fmt_moment(send_time)}")
        return result
    window = window_for(policy.period, send_time)
    used = len(used_slots(account, policy, window))
    fits = used < policy.limit
    text = (
        f"would be {used + 1} of {policy.limit} for {window.describe()}"
        if fits
        else f"window full: {used} of {policy.limit} used for {window.describe()}; next window opens {next_window_opens(policy, window)}"
    )
    result.update(policy=policy, window=window, used=used, limit=policy.limit, would_be=used + 1 if fits else None,
                  fits=fits, next_window_opens=next_window_opens(policy, window), text=text)
    return result


def account_quota_usage(account, at: datetime) -> list[dict]:
    """Every policy in force for the account's kind at `at`, with its window and usage.

    Account scope: `used` slots of `limit`. Follower scope: `used` is the most any
    one follower has received in the window, `at_cap` how many followers reached the limit.
    """
    rows = []
    policies = (
        QuotaPolicy.objects.filter(kind=account.kind, effective_from__lte=at)
        .filter(Q(effective_until__isnull=True) | Q(effective_until__gt=at))
        .order_by("scope", "-effective_from")
    )
    seen = set()
    for policy in policies:
        if policy.scope in seen:
            continue  # overlapping policies are refused by validation; the newest wins as in policy_in_force
        seen.add(policy.scope)
        window = window_for(policy.period, at)
        row = {"policy": policy, "scope": policy.scope, "rule": describe_policy(policy), "window": window,
               "limit": policy.limit, "next_window_opens": next_window_opens(policy, window), "at_cap": None}
        if policy.scope == QuotaPolicy.Scope.ACCOUNT:
            row["used"] = len(used_slots(account, policy, window))
        else:
            usage = FollowerQuotaUsage.objects.filter(
                follower__account=account, window_start=window.start_date
            ).aggregate(most=Max("count"), at_cap=Count("id", filter=Q(count__gte=policy.limit)))
            row["used"] = usage["most"] or 0
            row["at_cap"] = usage["at_cap"]
        rows.append(row)
    return rows
