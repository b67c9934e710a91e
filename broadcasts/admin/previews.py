"""Previews sent through the advanced mass interface (`mass/preview`): one message to one follower,
no broadcast. Read-only: the API writes them (broadcasts.services.preview_through_api)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy

from operator_console.admin_tools import IdFilter, ReadOnlyAdmin

from ..models import PreviewMessage


class AccountIdFilter(IdFilter):
    title = gettext_lazy("account id")
    parameter_name = "account_id"
    field = "account_id"


@admin.register(PreviewMessage)
class PreviewMessageAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "account", "openid", "body_short", "findings_count")
    list_filter = (AccountIdFilter,)
    list_select_related = ("account", "follower")
    raw_id_fields = ("account", "follower")
    show_full_result_count = False
    ordering = ("-created_at", "-id")

    @admin.display(description=gettext_lazy("Follower"))
    def openid(self, obj):
        return obj.follower.openid

    @admin.display(description=gettext_lazy("Message"))
    def body_short(self, obj):
        return (obj.body[:80] + "…") if len(obj.body) > 80 else obj.body

    @admin.display(description=gettext_lazy("Moderation findings"))
    def findings_count(self, obj):
        return len(obj.findings)
