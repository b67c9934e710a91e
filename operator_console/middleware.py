"""The console's middleware.

PlatformTimeZoneMiddleware: every request of the console runs in the platform's time zone
(settings.PLATFORM_TIME_ZONE). So the admin shows and reads times as the platform's people
do, also where Django renders them itself (read-only fields, date widgets, list columns) and
also when settings.TIME_ZONE differs (the database and the logs may run in UTC).

RefuseNulMiddleware: a NUL character in a request is a 400 with a page saying why.

AttemptTimeMiddleware: the moment django-axes' admin actions measure from (they expect it on
every request, but axes sets it only on logins: its "clean up expired attempts" action
failed with a 500).
"""

from django.conf import settings
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from .platform_time import platform_zone


class AttemptTimeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not hasattr(request, "axes_attempt_time"):
            request.axes_attempt_time = timezone.now()
        return self.get_response(request)


class PlatformTimeZoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with timezone.override(platform_zone()):
            return self.get_response(request)


def _has_nul(params) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in params.lists())


class RefuseNulMiddleware:
    """A NUL character anywhere in a request's address or form answers 400 with a page saying so.

    No text column can hold one (PostgreSQL refuses it, and a filter or search holding one
    used to fail with a 500), and no person types one; refusing it here covers every list,
    filter, search, autocomplete and form at once. Form fields keep Django's own per-field
    check as a second line. A cookie holding one is ignored, as if it were not sent.
    """

    FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(settings.NUL_CHECK_EXEMPT_PATHS):
            return self.get_response(request)  # interfaces with their own error format (the API's errcodes)
        for name in [name for name, value in request.COOKIES.items() if "\x00" in name or "\x00" in value]:
            del request.COOKIES[name]
        if "\x00" in request.path or _has_nul(request.GET) or (
            request.method == "POST" and request.content_type in self.FORM_TYPES and _has_nul(request.POST)
        ):
            return render(
                request,
                "bad_request.html",
                {"title": _("Bad request"), "message": _(
                    "This request contains a NUL character (%00), which the console never accepts. "
                    "Go back, remove it and try again."
                )},
                status=400,
            )
        return self.get_response(request)
