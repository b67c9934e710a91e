"""Followers (a table of millions) and tags: indexed filters and exact searches only, raw ids
for foreign keys, estimated counts instead of COUNT(*)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy, ngettext

from operator_console.admin_actions import AuditedChangesMixin
from operator_console.admin_exports import CsvExportMixin
from operator_console.admin_keyset import KeysetPaginationMixin
from operator_console.admin_tools import EstimatedCountPaginator, parse_id

from .. import services
from ..forms import FollowerForm, TagForm
from ..models import Follower, Tag
from .common import AccountFilter


class TagFilter(admin.SimpleListFilter):
    """A tag of the account the list is filtered to (`?account=<id>`): offered only within one account."""

    title = gettext_lazy("tag")
    parameter_name = "tag"
    MAX_OFFERED = 200  # an account's tags, in name order

    def lookups(self, request, model_admin):
        account_id = parse_id(request.GET.get(AccountFilter.parameter_name, ""))
        if account_id is None:
            return ()
        tags = Tag.objects.filter(account_id=account_id).order_by("name").values_list("pk", "name")
        return [(str(pk), name) for pk, name in tags[: self.MAX_OFFERED]]

    def has_output(self):
        # A tag in the query string filters even without an account (a link); junk matches nothing.
        return super().has_output() or bool(self.value())

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        tag_id = parse_id(self.value())
        return queryset.filter(tags=tag_id) if tag_id is not None else queryset.none()


@admin.register(Follower)
class FollowerAdmin(CsvExportMixin, AuditedChangesMixin, KeysetPaginationMixin, admin.ModelAdmin):
    form = FollowerForm
    list_display = ["openid", "nickname", "account", "subscribed", "subscribed_at"]
    list_select_related = ["account"]
    # Only indexed, low-cardinality filters: the account (follower_audience_idx / the unique
    # (account, openid) index) and subscribed within it (follower_account_sub_idx).
    list_filter = [AccountFilter, "subscribed", TagFilter]
    # openid: follower_openid_idx; nickname prefix: follower_nickname_prefix_idx (migration 0012).
    search_fields = ["openid__exact", "^nickname"]
    search_help_text = gettext_lazy("The exact openid, or the beginning of a nickname.")
    raw_id_fields = ["account", "tags"]
    readonly_fields = ["subscribed", "subscribed_at", "unsubscribed_at", "last_event_at"]
    ordering = ["-id"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts would COUNT(*) millions of rows per choice
    paginator = EstimatedCountPaginator
    export_columns = (
        (gettext_lazy("id"), "id"), (gettext_lazy("app id"), "account__app_id"), (gettext_lazy("openid"), "openid"),
        (gettext_lazy("nickname"), "nickname"), (gettext_lazy("subscribed"), "subscribed"),
        (gettext_lazy("subscribed at"), "subscribed_at"), (gettext_lazy("unsubscribed at"), "unsubscribed_at"),
    )
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
