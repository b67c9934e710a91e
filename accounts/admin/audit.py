"""The audit log: read-only, written by the services alone; a big table (estimated counts).

Filters: verb (audit_verb_idx), the person who acted (the `by` foreign key's index; "system" is
no person), the account (its foreign key's index) and a date range on `at` (indexed). The search
takes an exact username, an account's app id, or an object as the log names it ("broadcast #42",
audit_object_idx). Each row links to the object acted on, where the admin has a page for it.
"""

from __future__ import annotations

import re

from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from operator_console.admin_exports import CsvExportMixin
from operator_console.admin_filters import DateRangeFilter
from operator_console.admin_keyset import KeysetPaginationMixin
from operator_console.admin_tools import EstimatedCountPaginator, ReadOnlyAdmin, parse_id

from ..models import AuditEvent
from .common import AccountFilter

# "broadcast #42", "broadcast 42": an object as the log's Object column names it.
OBJECT_REF = re.compile(r"^\s*([a-z_]+)\s*#?\s*(\d{1,18})\s*$")
# The apps whose objects the log records; object_type is the model's name within them.
LOGGED_APPS = ("accounts", "broadcasts")


class VerbFilter(admin.SimpleListFilter):
    title = gettext_lazy("verb")
    parameter_name = "verb"

    def lookups(self, request, model_admin):
        return AuditEvent.Verb.choices

    def queryset(self, request, queryset):
        return queryset.filter(verb=self.value()) if self.value() else queryset


class ByFilter(admin.SimpleListFilter):
    """Who acted: a staff member (a small table), or "system" for the jobs."""

    title = gettext_lazy("by")
    parameter_name = "by"
    SYSTEM = "system"

    def lookups(self, request, model_admin):
        staff = get_user_model().objects.filter(is_staff=True).order_by("username").values_list("pk", "username")
        return [(self.SYSTEM, _("system")), *((str(pk), name) for pk, name in staff)]

    def queryset(self, request, queryset):
        if self.value() == self.SYSTEM:
            return queryset.filter(by__isnull=True)
        if not self.value():
            return queryset
        by_id = parse_id(self.value())
        return queryset.filter(by_id=by_id) if by_id is not None else queryset.none()


class AtFilter(DateRangeFilter):
    title = gettext_lazy("date")
    field = "at"


def object_url(event: AuditEvent) -> str:
    """The admin page of the object an event records, or "" (deleted models, no page)."""
    for label in LOGGED_APPS:
        try:
            model = apps.get_model(label, event.object_type)
        except LookupError:
            continue
        try:
            return reverse(f"admin:{label}_{model._meta.model_name}_change", args=[event.object_id])
        except NoReverseMatch:
            return ""
    return ""


@admin.register(AuditEvent)
class AuditEventAdmin(CsvExportMixin, KeysetPaginationMixin, ReadOnlyAdmin):
    """Read-only: the log is written by the services alone."""

    list_display = ["at", "who", "verb", "object_ref", "account", "note"]
    list_select_related = ["by", "account"]
    list_filter = [VerbFilter, ByFilter, AccountFilter, AtFilter]
    search_fields = ["=by__username", "=account__app_id"]
    search_help_text = gettext_lazy(
        "A username or an account's app id, exactly; or an object as the log names it (“broadcast #42”)."
    )
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    ordering = ("-id",)  # newest first, and keyset navigation past the counted pages
    export_columns = (
        (gettext_lazy("id"), "id"), (gettext_lazy("at"), "at"), (gettext_lazy("by"), "by__username"),
        (gettext_lazy("verb"), "verb"), (gettext_lazy("object type"), "object_type"),
        (gettext_lazy("object id"), "object_id"), (gettext_lazy("account"), "account__name"),
        (gettext_lazy("note"), "note"),
    )

    def get_search_results(self, request, queryset, search_term):
        ref = OBJECT_REF.match(search_term.lower())
        if ref:  # audit_object_idx
            return queryset.filter(object_type=ref[1], object_id=int(ref[2])), False
        if not search_term.strip():
            return queryset, False
        term = search_term.strip()
        return queryset.filter(Q(by__username=term) | Q(account__app_id=term)), False

    @admin.display(description=gettext_lazy("By"), ordering="by")
    def who(self, obj):
        return obj.by or _("system")

    @admin.display(description=gettext_lazy("Object"))
    def object_ref(self, obj):
        text = f"{obj.object_type} #{obj.object_id}"
        url = object_url(obj) if obj.object_id is not None else ""
        return format_html('<a href="{}">{}</a>', url, text) if url else text
