"""Template context every page gets."""

from __future__ import annotations

from django.utils import timezone

from .platform_time import format_moment


def platform_clock(request) -> dict:
    """The platform's time now, for the page header: "2026-11-24 09:30 (Asia/Shanghai)"."""
    return {"platform_now": format_moment(timezone.now())}
