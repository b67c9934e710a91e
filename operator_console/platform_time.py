"""Time as the platform's people read it: one zone (settings.PLATFORM_TIME_ZONE), one format.

Calendar windows are counted in this zone (DESIGN.md), and every time the console shows
or writes into a message uses it, whatever settings.TIME_ZONE says.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import dateformat, timezone

from .formats import DATE_FORMAT, DATETIME_FORMAT


def platform_zone() -> ZoneInfo:
    """The zone of the platform's calendar (default Asia/Shanghai)."""
    return ZoneInfo(settings.PLATFORM_TIME_ZONE)


def platform_zone_name() -> str:
    return settings.PLATFORM_TIME_ZONE


def in_platform_zone(moment: datetime) -> datetime:
    """`moment` on the platform's wall clock (an aware datetime)."""
    return moment.astimezone(platform_zone())


def as_platform_time(moment: datetime) -> datetime:
    """A naive moment read as the platform's wall-clock time; an aware one is returned as it is."""
    return timezone.make_aware(moment, platform_zone()) if timezone.is_naive(moment) else moment


def format_moment(moment: datetime | None, *, zone: bool = True, date_only: bool = False) -> str:
    """ "2026-11-24 09:30:05 (Asia/Shanghai)"; `zone=False` drops the zone, `date_only` the time; "" for None.

    The format is the one Django's own rendering uses (operator_console/formats), so a sentence and
    a list column read alike.
    """
    if moment is None:
        return ""
    text = dateformat.format(in_platform_zone(moment), DATE_FORMAT if date_only else DATETIME_FORMAT)
    return f"{text} ({settings.PLATFORM_TIME_ZONE})" if zone else text
