"""Followers (a table of millions) and tags: indexed filters and exact searches only, raw ids
for foreign keys, estimated counts instead of COUNT(*)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy, ngettext

from operator_console.admin_actions import AuditedChangesMixin
from operator_console.admin_keyset import KeysetPaginationMixin
from operator_console.admin_tools import EstimatedCountPaginator

from .. import services
from ..forms import FollowerForm, TagForm
from ..models import Follower, Tag
from .common import AccountFilter


@admin.register(Follower)
class FollowerAdmin(AuditedChangesMixin, KeysetPaginationMixin, admin.ModelAdmin):
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
    actions = ["mark_unfollowed", "mark_following"]

    @admin.action(description=gettext_lazy("Mark selected followers as unfollowed now"), permissions=["change"])
    def mark_unfollowed(self, request, queryset):
        self._set_following(request, queryset, following=False)

    @admin.action(description=gettext_lazy("Mark selected followers as following again now"), permissions=["change"])
    def mark_following(self, request, queryset):
        self._set_following(request, queryset, following=True)

    def _set_following(self, request, queryset, *, following: bool):
        followers = list(queryset.only("id", "account_id", "openid"))
        changed = services.set_following(followers, by=request.user, following=following)
        self.message_user(request, ngettext(
            "%(changed)d of %(count)d follower changed (the others already were so).",
            "%(changed)d of %(count)d followers changed (the others already were so).", len(followers),
        ) % {"changed": changed, "count": len(followers)}, messages.SUCCESS)


@admin.register(Tag)
class TagAdmin(AuditedChangesMixin, admin.ModelAdmin):
    form = TagForm
    list_display = ["name", "account"]
    list_select_related = ["account"]
    list_filter = [AccountFilter]
    search_fields = ["name"]
    autocomplete_fields = ["account"]
    show_full_result_count = False
