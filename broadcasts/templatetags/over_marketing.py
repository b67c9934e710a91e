"""{% account_unfollow_line account %} and {% broadcast_unfollow_line broadcast %}: the over-marketing
figures (R8) in one line, with a link to the chart, on the pages ops already look at — the account's
change page (an accounts template: it loads this library by name, so accounts never imports broadcasts)
and the broadcast's change and review pages. Shown only to a user who may open the charts (*view
over-marketing flag*, the permission the chart views check)."""

from __future__ import annotations

from django import template
from django.urls import reverse

from operator_console.platform_time import format_moment

from ..models import Broadcast, UnfollowFlag, UnfollowMeasure
from ..services import account_rate, final_at

register = template.Library()

CHART_PERMISSION = "broadcasts.view_unfollowflag"


def _may_see(context) -> bool:
    request = context.get("request")
    return request is not None and request.user.has_perm(CHART_PERMISSION)


@register.inclusion_tag("admin/broadcasts/insight/_account_line.html", takes_context=True)
def account_unfollow_line(context, account):
    if account is None or account.pk is None or not _may_see(context):
        return {"show": False}
    figures = account_rate(account)
    flag = UnfollowFlag.objects.filter(account=account, cleared_at__isnull=True).first()
    return {
        "show": True,
        "url": reverse("admin:broadcasts_account_chart", args=[account.pk]),
        "figures": figures,
        "rate_percent": f"{figures.rate_72h:.2%}",
        "flag": flag,
        "flag_since": format_moment(flag.raised_at) if flag else "",
        "flag_url": reverse("admin:broadcasts_unfollowflag_change", args=[flag.pk]) if flag else "",
    }


@register.inclusion_tag("admin/broadcasts/insight/_broadcast_line.html", takes_context=True)
def broadcast_unfollow_line(context, broadcast):
    if broadcast is None or broadcast.pk is None or not _may_see(context):
        return {"show": False}
    if broadcast.status not in (Broadcast.Status.SENT, Broadcast.Status.PARTIALLY_SENT):
        return {"show": False}
    measure = UnfollowMeasure.objects.filter(broadcast=broadcast).first()
    until = final_at(broadcast)  # when the measure stops being provisional
    return {
        "show": True,
        "url": reverse("admin:broadcasts_unfollow_curve", args=[broadcast.pk]),
        "measure": measure,
        # The beat job measures only broadcasts with recipients: one that reached nobody never gets figures.
        "nothing_sent": measure is None and not broadcast.sent_count,
        "rate_percent": f"{measure.rate_72h:.2%}" if measure else "",
        "provisional_until": format_moment(until) if measure and not measure.is_final and until else "",
        "measured_at": format_moment(measure.measured_at) if measure else "",
    }
