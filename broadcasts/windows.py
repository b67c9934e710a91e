"""Calendar windows of the quota rules (R2, R3, R5): pure date arithmetic, no database.

Windows (calendar day, ISO week, calendar month) are counted in settings.PLATFORM_TIME_ZONE,
not UTC and not the server's zone (DESIGN.md). Periods are QuotaPolicy.Period values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from operator_console.platform_time import format_moment, in_platform_zone, platform_zone, platform_zone_name

DAY, WEEK, MONTH = "day", "week", "month"


@dataclass(frozen=True)
class Window:
    """One calendar window: [start, end) as aware datetimes in the platform zone, and a label."""

    period: str
    start: datetime
    end: datetime
    label: str  # "2026-11-24", "2026-W48", "2026-11"

    @property
    def start_date(self) -> date:
        return self.start.date()

    def describe(self) -> str:
        """ "2026-11 (Asia/Shanghai)"."""
        return f"{self.label} ({platform_zone_name()})"


def window_for(period: str, at: datetime) -> Window:
    """The calendar window of `period` ("day", "week" or "month") containing `at`, in the platform's zone."""
    day = in_platform_zone(at).date()
    if period == DAY:
        first, last = day, day + timedelta(days=1)
        label = day.isoformat()
    elif period == WEEK:
        first = day - timedelta(days=day.weekday())  # ISO weeks start on Monday
        last = first + timedelta(days=7)
        year, week, _ = day.isocalendar()
        label = f"{year}-W{week:02d}"
    elif period == MONTH:
        first = day.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1)
        label = f"{first:%Y-%m}"
    else:
        raise ValueError(f"unknown period {period!r}")
    tz = platform_zone()
    start = datetime(first.year, first.month, first.day, tzinfo=tz)
    end = datetime(last.year, last.month, last.day, tzinfo=tz)
    return Window(period=period, start=start, end=end, label=label)


def next_window_opens(window: Window, policy_ends: datetime | None = None) -> str:
    """When the next window opens, for people: the window's end ("2026-12-01"), or the moment the
    policy ends when that comes first (a rule change, e.g. 2014-04-15), with its time if not midnight."""
    end = window.end
    if policy_ends is not None and policy_ends < end:
        end = in_platform_zone(policy_ends)
        if (end.hour, end.minute, end.second) != (0, 0, 0):
            return format_moment(end, zone=False)  # the console's one format, with seconds
    return format_moment(end, zone=False, date_only=True)
