"""{% ops_dashboard %}: the ops dashboard on the admin index (templates/admin/index.html).

Each panel shows only to a user with the permission to act on (or, for auditors, to read) what it
counts; every count links to the admin list filtered to exactly those rows.
"""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from broadcasts import dashboard

register = template.Library()


def _list(name: str, **query) -> str:
    url = reverse(f"admin:{name}_changelist")
    return f"{url}?{urlencode(query)}" if query else url


def _ids(ids) -> str:
    return ",".join(str(i) for i in ids) or "0"


@register.inclusion_tag("admin/broadcasts/dashboard.html", takes_context=True)
def ops_dashboard(context):
    user = context["request"].user
    now = timezone.now()
    panels = {}
    if user.has_perm("broadcasts.approve_broadcast"):
        panels["review"] = {**dashboard.review_waiting(now), "url": _list("broadcasts_pendingbroadcast")}
    if user.has_perm("broadcasts.view_broadcast"):
        panels["sending"] = {"rows": dashboard.sending_now(),
                             "url": _list("broadcasts_broadcast", status__exact="sending")}
        failed = dashboard.failed_today(now)
        panels["failed"] = {**failed, "url": _list("broadcasts_broadcast", status__in="failed,partially_sent",
                                                   finished_at__gte=failed["since"].isoformat())}
    if user.has_perm("broadcasts.view_unfollowflag"):
        panels["flagged"] = {**dashboard.flagged_accounts(), "url": _list("broadcasts_unfollowflag", open="yes")}
    if user.has_perm("broadcasts.view_violation") and user.has_perm("accounts.view_officialaccount"):
        penalty = dashboard.penalty_pressure(now)
        panels["penalty"] = {**penalty, "url": _list("accounts_officialaccount", id__in=_ids(penalty["ids"]))}
    if user.has_perm("broadcasts.view_quotareservation") and user.has_perm("accounts.view_officialaccount"):
        quota = dashboard.quota_pressure(now)
        panels["quota"] = {**quota, "url": _list("accounts_officialaccount", id__in=_ids(quota["ids"]))}
    if user.has_perm("accounts.view_certification"):
        certs = dashboard.certifications(now)
        panels["certifications"] = {
            **certs,
            "pending_url": _list("accounts_certification", status__exact="pending"),
            "expiring_url": _list("accounts_certification", status__exact="approved",
                                  valid_until__gte=now.isoformat(), valid_until__lt=certs["until"].isoformat()),
            "can_review": user.has_perm("accounts.review_certification"),
        }
    return {"panels": panels, "now": now, "request": context["request"]}
