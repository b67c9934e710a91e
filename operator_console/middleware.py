"""Every request of the console runs in the platform's time zone (settings.PLATFORM_TIME_ZONE).

So the admin shows and reads times as the platform's people do, also where Django renders
them itself (read-only fields, date widgets, list columns) and also when settings.TIME_ZONE
differs (the database and the logs may run in UTC).
"""

from django.utils import timezone

from .platform_time import platform_zone


class PlatformTimeZoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with timezone.override(platform_zone()):
            return self.get_response(request)
