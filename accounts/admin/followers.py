"""Followers (a table of millions) and tags: indexed filters and exact searches only, raw ids
for foreign keys, estimated counts instead of COUNT(*)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy

from operator_console.admin_actions import AuditedChangesMixin
from operator_console.admin_exports import CsvExportMixin
from operator_console.admin_keyset import KeysetPaginationMixin
from operator_console.admin_tools import EstimatedCountPaginator

from ..forms import FollowerForm, TagForm
from ..models import Follower, Tag
from .common import AccountFilter


@admin.register(Follower)
class FollowerAdmin(CsvExportMixin, AuditedChangesMixin, KeysetPaginationMixin, admin.ModelAdmin):
    form = FollowerForm
    list_display = ["openid", "nickname", "account", "subscribed", "subscribed_at"]
    list_select_related = ["account"]
    # Only indexed, low-cardinality filters: the account (follower_audience_idx / the unique
    # (account, openid) index) and subscribed within it (follower_account_sub_idx).
    list_filter = [AccountFilter, "subscribed"]
    search_fields = ["openid__exact"]
    search_help_text = gettext_lazy("The exact openid.")
    raw_id_fields = ["account", "tags"]
    readonly_fields = ["subscribed", "subscribed_at", "unsubscribed_at"]
    ordering = ["-id"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts would COUNT(*) millions of rows per choice
    paginator = EstimatedCountPaginator
    export_columns = (
        (gettext_lazy("id"), "id"), (gettext_lazy("app id"), "account__app_id"), (gettext_lazy("openid"), "openid"),
        (gettext_lazy("nickname"), "nickname"), (gettext_lazy("subscribed"), "subscribed"),
        (gettext_lazy("subscribed at"), "subscribed_at"), (gettext_lazy("unsubscribed at"), "unsubscribed_at"),
    )


@admin.register(Tag)
class TagAdmin(AuditedChangesMixin, admin.ModelAdmin):
    form = TagForm
    list_display = ["name", "account"]
    list_select_related = ["account"]
    list_filter = [AccountFilter]
    search_fields = ["name"]
    autocomplete_fields = ["account"]
    show_full_result_count = False
