"""The login throttle's authentication backend (django-axes; settings AXES_*)."""

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_client_username
from django.conf import settings
from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses a login while its username and address are locked out; checks no password itself
    (ModelBackend, next in AUTHENTICATION_BACKENDS, does).

    Every login over HTTP passes its request (the admin's login form, the API's authentication).
    `authenticate()` without one (Django's test client, a shell) is not an attempt from anywhere,
    so there is nothing to throttle: it passes on instead of raising as axes' own backend does.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out login gets (AXES_LOCKOUT_CALLABLE): the admin's look, HTTP 429, and
    a sentence saying what happened, for how long, and who can lift it."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {
        **admin.site.each_context(request),
        "title": _("Login locked"),
        "username": get_client_username(request, credentials) or "",
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": minutes,
    }
    return TemplateResponse(request, "admin/login_locked_out.html", context, status=429).render()
