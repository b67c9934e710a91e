"""Quota policies (editable data, R2/R3), the reservations approvals hold, content rules and
the violations moderation records. Reservations and violations are written by the services
alone, so their admins are read-only.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, JsonResponse
from django.urls import path
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.admin.common import AccountFilter
from accounts.models import OfficialAccount
from operator_console.admin_actions import AuditedChangesMixin, service_action
from operator_console.admin_exports import CsvExportMixin
from operator_console.admin_filters import DateRangeFilter
from operator_console.admin_tools import ConsoleDatesMixin, ReadOnlyAdmin, parse_id
from operator_console.platform_time import format_moment, platform_zone_name

from .. import moderation, selectors, services
from ..forms import VoidViolationForm
from ..matching import PatternError
from ..models import ContentRule, QuotaPolicy, QuotaReservation, Violation


@admin.register(QuotaPolicy)
class QuotaPolicyAdmin(AuditedChangesMixin, ConsoleDatesMixin, admin.ModelAdmin):
    """Editable: the model's clean() refuses overlapping policies, shown as a form error."""

    list_display = ("kind", "scope", "limit", "period", "from_", "until", "note")
    list_filter = ("kind", "scope")
    fields = ("kind", "scope", "limit", "period", "effective_from", "effective_until", "note")

    @admin.display(description=format_lazy(gettext_lazy("Effective from ({zone})"), zone=platform_zone_name()),
                   ordering="effective_from")
    def from_(self, obj):
        return format_moment(obj.effective_from, zone=False)

    @admin.display(description=gettext_lazy("Until"), ordering="effective_until")
    def until(self, obj):
        return format_moment(obj.effective_until, zone=False) or _("open")


@admin.register(QuotaReservation)
class QuotaReservationAdmin(ReadOnlyAdmin):
    list_display = ("broadcast", "account", "policy", "window", "slot", "created_at")
    list_select_related = ("broadcast", "account", "policy")
    raw_id_fields = ("broadcast", "account")
    show_full_result_count = False
    search_fields = ("=account__app_id",)

    @admin.display(description=gettext_lazy("Window starts"), ordering="window_start")
    def window(self, obj):
        return format_moment(obj.window_start)


@admin.register(ContentRule)
class ContentRuleAdmin(AuditedChangesMixin, admin.ModelAdmin):
    list_display = ("pattern", "match", "action", "points", "active", "note", "created_at")
    list_filter = ("action", "match", "active")
    search_fields = ("pattern", "note")
    fields = ("pattern", "match", "action", "points", "active", "note")

    # The "test this rule" box of the rule's page (templates/admin/broadcasts/contentrule/change_form.html).
    def get_urls(self):
        view = self.admin_site.admin_view(self.test_rule_view)
        return [path("test/", view, name="broadcasts_contentrule_test"), *super().get_urls()]

    @property
    def media(self):
        return super().media + forms.Media(js=["console/rule_tester.js"])

    def test_rule_view(self, request):
        """POST pattern, match, sample: {"matches": bool, "found": what it finds, "error": a refusal}.
        Reads and writes nothing: anyone who may see the rules may try one."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        match = request.POST.get("match", "")
        if match not in ContentRule.Match.values:
            return JsonResponse({"matches": False, "found": "", "error": _("Choose how the rule matches.")})
        try:
            found = moderation.try_rule(pattern=request.POST.get("pattern", "")[:MAX_PATTERN],
                                        match=match, sample=request.POST.get("sample", "")[:MAX_SAMPLE])
        except PatternError as exc:
            return JsonResponse({"matches": False, "found": "", "error": exc.message})
        if found is None:
            return JsonResponse({"matches": False, "found": "", "error": "",
                                 "text": _("No match: a broadcast with this text would pass this rule.")})
        return JsonResponse({"matches": True, "found": found, "error": "",
                             "text": _("Matches: %(found)s") % {"found": found}})


# The test box reads at most this much (a pattern's own limit is 500; a broadcast's text is longer).
MAX_PATTERN, MAX_SAMPLE = 500, 20_000


class RuleFilter(admin.SimpleListFilter):
    """The content rule a violation came from (a small table)."""

    title = gettext_lazy("rule")
    parameter_name = "rule"

    def lookups(self, request, model_admin):
        return [(str(r.pk), str(r)) for r in ContentRule.objects.order_by("pattern")]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        rule_id = parse_id(self.value())
        return queryset.filter(rule_id=rule_id) if rule_id is not None else queryset.none()


class ViolationDateFilter(DateRangeFilter):
    title = gettext_lazy("date")
    field = "created_at"  # violation_account_time_idx within an account


def standing_text(account: OfficialAccount) -> str:
    """ "Acme: 20 points in the last 90 days; 30 suspend it for 7 days." (R7)"""
    points = selectors.violation_points(account)
    return ngettext(
        "%(account)s: %(points)s point in the last %(window)s days; %(threshold)s suspend it for %(days)s days.",
        "%(account)s: %(points)s points in the last %(window)s days; %(threshold)s suspend it for %(days)s days.",
        points,
    ) % {
        "account": account.name, "points": points,
        "window": settings.BROADCAST_PENALTY_WINDOW_DAYS, "threshold": settings.BROADCAST_PENALTY_POINTS,
        "days": settings.BROADCAST_PENALTY_DAYS,
    }


@admin.register(Violation)
class ViolationAdmin(CsvExportMixin, ReadOnlyAdmin):
    """Violations are recorded by moderation; a reviewer may void one with a reason (its points
    stop counting, R7), e.g. after a bad rule."""

    list_display = ("created_at", "account", "broadcast", "rule", "points", "voided")
    list_filter = (AccountFilter, RuleFilter, ViolationDateFilter)
    list_select_related = ("account", "broadcast", "rule")
    raw_id_fields = ("account", "broadcast", "rule")
    show_full_result_count = False
    search_fields = ("=account__app_id",)
    actions = ["void_selected"]
    export_columns = (
        (gettext_lazy("id"), "id"), (gettext_lazy("at"), "created_at"), (gettext_lazy("account"), "account__name"),
        (gettext_lazy("app id"), "account__app_id"), (gettext_lazy("broadcast id"), "broadcast_id"),
        (gettext_lazy("rule"), "rule__pattern"), (gettext_lazy("points"), "points"),
        (gettext_lazy("waived"), "voided_at"), (gettext_lazy("reason"), "void_reason"),
    )

    def changelist_view(self, request, extra_context=None):
        """Filtered to one account (linked from its page): its points in the window and the threshold."""
        extra = dict(extra_context or {})
        account_id = parse_id(request.GET.get(AccountFilter.parameter_name, ""))
        account = OfficialAccount.objects.filter(pk=account_id).first() if account_id is not None else None
        if account is not None:
            extra["subtitle"] = standing_text(account)
        return super().changelist_view(request, extra_context=extra)

    @admin.display(description=gettext_lazy("Waived"))
    def voided(self, obj):
        if obj.voided_at is None:
            return "—"
        return format_lazy("{} ({})", format_moment(obj.voided_at, zone=False), obj.void_reason)

    def has_void_permission(self, request):
        return request.user.has_perm("broadcasts.approve_broadcast")

    # "Waive" in the console (issue 13); the service, the audit verb and the action's name say void.
    @admin.action(description=gettext_lazy("Waive selected violations…"), permissions=["void"])
    def void_selected(self, request, queryset):
        return service_action(
            self, request, queryset, services.void_violation,
            form_class=VoidViolationForm,
            action="void_selected",
            success=lambda done: ngettext(
                "Waived %(count)d violation.", "Waived %(count)d violations.", len(done)
            ) % {"count": len(done)},
            template="admin/accounts/action_form.html",
            title=ngettext("Waive violation", "Waive violations", queryset.count()),
            submit_label=_("Waive"),
            intro=_("Its points stop counting towards the account's penalty threshold."),
            danger=True,
        )
