"""Quota policies (editable data, R2/R3), the reservations approvals hold, content rules and
the violations moderation records. Reservations and violations are written by the services
alone, so their admins are read-only.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from operator_console.admin_actions import AuditedChangesMixin, service_action
from operator_console.admin_exports import CsvExportMixin
from operator_console.admin_tools import ConsoleDatesMixin, ReadOnlyAdmin
from operator_console.platform_time import format_moment, platform_zone_name

from .. import services
from ..forms import VoidViolationForm
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


@admin.register(Violation)
class ViolationAdmin(CsvExportMixin, ReadOnlyAdmin):
    """Violations are recorded by moderation; a reviewer may void one with a reason (its points
    stop counting, R7), e.g. after a bad rule."""

    list_display = ("created_at", "account", "broadcast", "rule", "points", "voided")
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

    @admin.display(description=gettext_lazy("Voided"))
    def voided(self, obj):
        if obj.voided_at is None:
            return "—"
        return format_lazy("{} ({})", format_moment(obj.voided_at, zone=False), obj.void_reason)

    def has_void_permission(self, request):
        return request.user.has_perm("broadcasts.approve_broadcast")

    @admin.action(description=gettext_lazy("Void selected violations…"), permissions=["void"])
    def void_selected(self, request, queryset):
        return service_action(
            self, request, queryset, services.void_violation,
            form_class=VoidViolationForm,
            action="void_selected",
            success=lambda done: ngettext(
                "Voided %(count)d violation.", "Voided %(count)d violations.", len(done)
            ) % {"count": len(done)},
            template="admin/accounts/action_form.html",
            title=ngettext("Void violation", "Void violations", queryset.count()),
            submit_label=_("Void"),
            intro=_("Its points stop counting towards the account's penalty threshold."),
            danger=True,
        )
