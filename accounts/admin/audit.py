"""The audit log: read-only, written by the services alone; a big table (estimated counts)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from operator_console.admin_exports import CsvExportMixin
from operator_console.admin_keyset import KeysetPaginationMixin
from operator_console.admin_tools import EstimatedCountPaginator, ReadOnlyAdmin

from ..models import AuditEvent
from .common import AccountFilter


@admin.register(AuditEvent)
class AuditEventAdmin(CsvExportMixin, KeysetPaginationMixin, ReadOnlyAdmin):
    """Read-only: the log is written by the services alone."""

    list_display = ["at", "who", "verb", "object_ref", "account", "note"]
    list_select_related = ["by", "account"]
    list_filter = [AccountFilter]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    ordering = ("-id",)
    export_columns = (
        (gettext_lazy("id"), "id"), (gettext_lazy("at"), "at"), (gettext_lazy("by"), "by__username"),
        (gettext_lazy("verb"), "verb"), (gettext_lazy("object type"), "object_type"),
        (gettext_lazy("object id"), "object_id"), (gettext_lazy("account"), "account__name"),
        (gettext_lazy("note"), "note"),
    )  # newest first, and keyset navigation past the counted pages

    @admin.display(description=gettext_lazy("By"), ordering="by")
    def who(self, obj):
        return obj.by or _("system")

    @admin.display(description=gettext_lazy("Object"))
    def object_ref(self, obj):
        return f"{obj.object_type} #{obj.object_id}"
