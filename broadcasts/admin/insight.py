"""Over-marketing (R8) in the admin: the flags (read-only: the beat job raises and clears them), an
account's chart (broadcasts per week, follows and unfollows per day, each broadcast marked) and a
broadcast's 72 h unfollow curve beside the account's usual one. Charts are drawn by Apache ECharts
(static/vendor/echarts) from pre-aggregated figures passed in data attributes (no inline script)."""

from __future__ import annotations

import json

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import OfficialAccount
from operator_console.admin_tools import ReadOnlyAdmin
from operator_console.platform_time import format_moment

from .. import dashboard
from ..models import Broadcast, UnfollowFlag

CHART_DAYS = 90


class OpenFlagFilter(admin.SimpleListFilter):
    title = gettext_lazy("state")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", _("Open")), ("no", _("Cleared"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(cleared_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(cleared_at__isnull=False)
        return queryset


@admin.register(UnfollowFlag)
class UnfollowFlagAdmin(ReadOnlyAdmin):
    list_display = ("account_chart", "rate", "since", "cleared", "worst", "why")
    list_select_related = ("account", "worst_broadcast__unfollows")
    list_filter = (OpenFlagFilter,)
    search_fields = ("=account__app_id",)
    show_full_result_count = False

    @admin.display(description=gettext_lazy("Account"), ordering="account__name")
    def account_chart(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:broadcasts_account_chart", args=[obj.account_id]),
                           obj.account.name)

    @admin.display(description=gettext_lazy("72 h unfollow rate"), ordering="rate_72h")
    def rate(self, obj):
        return f"{obj.rate_72h:.2%} > {obj.threshold:.2%}"

    @admin.display(description=gettext_lazy("Flagged since"), ordering="raised_at")
    def since(self, obj):
        return format_moment(obj.raised_at)

    @admin.display(description=gettext_lazy("Cleared"), ordering="cleared_at")
    def cleared(self, obj):
        return format_moment(obj.cleared_at) if obj.cleared_at else _("open")

    @admin.display(description=gettext_lazy("Reason"))
    def why(self, obj):
        return dashboard.flag_reason(obj)

    @admin.display(description=gettext_lazy("Highest broadcast"))
    def worst(self, obj):
        if obj.worst_broadcast is None:
            return "-"
        return format_html('<a href="{}">{}</a>', reverse("admin:broadcasts_unfollow_curve", args=[obj.worst_broadcast_id]),
                           obj.worst_broadcast.title)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("account/<int:account_id>/chart/", view(self.account_chart_view), name="broadcasts_account_chart"),
            path("broadcast/<int:broadcast_id>/curve/", view(self.curve_view), name="broadcasts_unfollow_curve"),
            *super().get_urls(),
        ]

    def _check(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied

    def account_chart_view(self, request, account_id: int):
        self._check(request)
        account = get_object_or_404(OfficialAccount, pk=account_id)
        data = dashboard.account_chart(account, days=CHART_DAYS)
        flag = (UnfollowFlag.objects.filter(account=account, cleared_at__isnull=True)
                .select_related("worst_broadcast__unfollows").first())
        context = {
            **self.admin_site.each_context(request),
            "title": _("Followers and broadcasts of %(account)s") % {"account": account.name},
            "account": account, "flag": flag, "flag_reason": dashboard.flag_reason(flag) if flag else "",
            "days": CHART_DAYS, "chart_json": json.dumps(data),
            "labels_json": json.dumps({"gained": _("Followers gained"), "lost": _("Followers lost"),
                                       "followers": _("Followers gained (+) and lost (−) per day"),
                                       "weekly": _("Broadcasts per week"), "broadcast": _("Broadcast"),
                                       "rate": _("72 h unfollow rate")}),
            "broadcasts": data["broadcasts"][::-1],
        }
        return TemplateResponse(request, "admin/broadcasts/insight/account_chart.html", context)

    def curve_view(self, request, broadcast_id: int):
        self._check(request)
        broadcast = get_object_or_404(Broadcast.objects.select_related("account"), pk=broadcast_id)
        curve = dashboard.unfollow_curve(broadcast)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Unfollows after “%(title)s”") % {"title": broadcast.title},
            "broadcast": broadcast, "curve": curve,
            "nothing_sent": curve is None and broadcast.finished_at is not None and not broadcast.sent_count,
            "rate_percent": f"{curve['measure'].rate_72h:.2%}" if curve else "",
            "chart_json": json.dumps({k: curve[k] for k in ("hours", "own", "usual")}) if curve else "",
            "labels_json": json.dumps({"own": _("This broadcast"), "usual": _("The account's usual curve"),
                                       "hours": _("Hours after delivery")}),
        }
        return TemplateResponse(request, "admin/broadcasts/insight/curve.html", context)
