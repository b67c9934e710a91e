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
from django.db.models import Q

from .models import QuotaPolicy


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
