"""List filters of the broadcasts list beyond its columns."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class MineFilter(admin.SimpleListFilter):
    """`?mine=1`: the broadcasts the person looking wrote."""

    title = gettext_lazy("author")
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("1", _("Written by me"))]

    def queryset(self, request, queryset):
        return queryset.filter(created_by=request.user) if self.value() == "1" else queryset
