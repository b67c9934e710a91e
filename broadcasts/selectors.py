"""Reads of broadcasts, quotas and violations that the admin, the API and commands share."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet, Sum
from django.utils import timezone

from .models import Broadcast, Violation
from .quota import account_quota_usage, quota_position

__all__ = ["account_quota_usage", "quota_position", "review_queue", "violation_points"]


def review_queue() -> QuerySet[Broadcast]:
    """Broadcasts waiting for a reviewer, oldest submission first."""
    return (
        Broadcast.objects.filter(status=Broadcast.Status.PENDING_REVIEW)
        .select_related("account", "created_by", "tag")
        .order_by("submitted_at", "id")
    )


def violation_points(account, *, now: datetime | None = None) -> int:
    """The account's violation points within the penalty window (R7) ending at `now`."""
    now = now or timezone.now()
    since = now - timedelta(days=settings.BROADCAST_PENALTY_WINDOW_DAYS)
    total = Violation.objects.filter(account=account, created_at__gt=since).aggregate(total=Sum("points"))["total"]
    return total or 0
