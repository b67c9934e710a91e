"""Per-account rate limits of the advanced mass interface: calls per calendar minute (45011) and
per calendar day in PLATFORM_TIME_ZONE (45009), counted in Redis through the `api` cache.

DRF's throttle classes, with one change: DRF's SimpleRateThrottle keeps every request's
timestamp in one cache value, so at 100,000 calls a day each call would read and write a list
of 100,000 floats. These count instead, one integer per account per window (the platform's
own counters are per calendar minute and day): `add` makes the window's counter, `incr` (atomic
in Redis) counts, and the key expires with its window. Each account has its own keys, so one
account at its limit costs the others nothing. Rates are read from settings on every request.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.throttling import SimpleRateThrottle

from accounts.credentials import api_cache
from operator_console.platform_time import platform_zone

from .errors import RateLimitedDay, RateLimitedMinute


class AccountWindowThrottle(SimpleRateThrottle):
    """A fixed calendar window per account (per appid on /cgi-bin/token, which has no account yet)."""

    setting = ""  # the settings name of the window's limit
    period = ""  # "min" or "day", as DRF writes rates

    def get_rate(self) -> str:
        return f"{getattr(settings, self.setting)}/{self.period}"

    def get_cache_key(self, request, view) -> str:
        caller = request.user
        if caller is not None:
            ident = f"account:{caller.account.pk}"
        else:  # hashed: an appid as sent may hold anything
            appid = request.query_params.get("appid", "").encode("utf-8", "surrogatepass")
            ident = "appid:" + hashlib.sha256(appid).hexdigest()[:24]
        return f"throttle:{self.scope}:{ident}"

    def window(self) -> int:
        """The number of the current calendar window (minutes or days on the platform's clock)."""
        now = timezone.now()
        offset = now.astimezone(platform_zone()).utcoffset().total_seconds()
        return int((now.timestamp() + offset) // self.duration)

    def allow_request(self, request, view) -> bool:
        cache = api_cache()
        key = f"{self.get_cache_key(request, view)}:{self.window()}"
        cache.add(key, 0, timeout=self.duration + 60)
        try:
            count = cache.incr(key)
        except ValueError:  # the counter expired between add and incr
            cache.add(key, 1, timeout=self.duration + 60)
            count = 1
        return count <= self.num_requests

    def refusal(self):
        raise NotImplementedError


class PerMinuteThrottle(AccountWindowThrottle):
    scope = "api_minute"
    setting = "API_RATE_PER_MINUTE"
    period = "min"

    def refusal(self) -> RateLimitedMinute:
        return RateLimitedMinute(
            _("This account has made its %(n)d calls of this minute; call again next minute.") % {"n": self.num_requests}
        )


class PerDayThrottle(AccountWindowThrottle):
    scope = "api_day"
    setting = "API_RATE_PER_DAY"
    period = "day"

    def refusal(self) -> RateLimitedDay:
        return RateLimitedDay(
            _("This account has made its %(n)d calls of today (%(zone)s); the count starts again at midnight.")
            % {"n": self.num_requests, "zone": settings.PLATFORM_TIME_ZONE}
        )
