"""The delivery tables (tens of millions of rows): deliveries, batches and followers' inboxes;
and the job-finished pushes of API broadcasts (one row per attempt).

Read-only lists with bounded counts (no full COUNT(*)), filters only on indexed columns (a
broadcast id or a follower id typed in, operator_console.admin_tools.IdFilter), and an
ordering that matches the index the active filter uses.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import Follower
from operator_console.admin_exports import CsvExportMixin
from operator_console.admin_keyset import KeysetPaginationMixin
from operator_console.admin_tools import EstimatedCountPaginator, IdFilter, ReadOnlyAdmin, parse_id

from .. import selectors
from ..models import Delivery, DeliveryBatch, InboxMessage, PushAttempt


class DeliveryCountPaginator(EstimatedCountPaginator):
    # Filtered delivery lists count at most this many rows; beyond, the page says "more than".
    cap = 10_000


class BroadcastIdFilter(IdFilter):
    title = gettext_lazy("broadcast id")
    parameter_name = "broadcast_id"
    field = "broadcast_id"


class FollowerIdFilter(IdFilter):
    title = gettext_lazy("follower id")
    parameter_name = "follower_id"
    field = "follower_id"


class NarrowedStatusFilter(admin.SimpleListFilter):
    """Status, inside one broadcast or one follower (their indexes) or across all deliveries, newest
    first: failed and filtered by their partial indexes (delivery_failed_idx, delivery_filtered_idx),
    sent by the primary key (most rows are sent, so a page of them is found at once)."""

    title = gettext_lazy("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Delivery.Status.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(status=self.value())
        return queryset


def cap_text(follower: Follower) -> str:
    """R5 for the follower this month: "2 of 4 broadcasts from Acme in this window (R5)"."""
    position = selectors.follower_cap_position(follower)
    if position is None:
        return _("No per-follower cap applies to %(account)s now (R5).") % {"account": follower.account}
    used, cap = position
    return ngettext(
        "%(used)d of %(cap)d broadcast from %(account)s in this window (R5).",
        "%(used)d of %(cap)d broadcasts from %(account)s in this window (R5).", cap,
    ) % {"used": used, "cap": cap, "account": follower.account}


def _shortened(text: str, limit: int = 80) -> str:
    return (text[:limit] + "…") if len(text) > limit else text


class BigTableAdmin(KeysetPaginationMixin, ReadOnlyAdmin):
    """Read-only list of a table with tens of millions of rows: bounded counts, indexed filters, no sorting."""

    paginator = DeliveryCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    sortable_by = ()
    list_max_show_all = 100
    ordering_in_broadcast: tuple = ("-id",)
    ordering_in_follower: tuple = ("-id",)

    def get_ordering(self, request):
        # Each ordering matches the index the active filter uses (see the models' indexes).
        if BroadcastIdFilter.parameter_name in request.GET:
            return self.ordering_in_broadcast
        if FollowerIdFilter.parameter_name in request.GET:
            return self.ordering_in_follower
        return ("-id",)


@admin.register(Delivery)
class DeliveryAdmin(CsvExportMixin, BigTableAdmin):
    export_columns = (
        (gettext_lazy("id"), "id"), (gettext_lazy("broadcast id"), "broadcast_id"),
        (gettext_lazy("broadcast"), "broadcast__title"), (gettext_lazy("openid"), "follower__openid"),
        (gettext_lazy("status"), "status"), (gettext_lazy("delivered"), "delivered_at"), (gettext_lazy("error"), "error"),
    )
    list_display = ("id", "broadcast", "follower_link", "status", "delivered_at", "error_short")
    list_filter = (BroadcastIdFilter, FollowerIdFilter, NarrowedStatusFilter)
    list_select_related = ("broadcast", "follower")
    raw_id_fields = ("broadcast", "follower")
    ordering_in_broadcast = ("broadcast_id", "follower_id")  # delivery_once_per_follower index
    ordering_in_follower = ("follower_id", "-delivered_at")  # delivery_follower_idx

    @admin.display(description=gettext_lazy("Follower"))
    def follower_link(self, obj):
        url = reverse("admin:broadcasts_inboxmessage_changelist") + f"?follower_id={obj.follower_id}"
        return format_html('{} <a href="{}" class="bc-muted">{}</a>', obj.follower.openid, url, _("inbox"))

    @admin.display(description=gettext_lazy("Error"))
    def error_short(self, obj):
        return _shortened(obj.error)


@admin.register(DeliveryBatch)
class DeliveryBatchAdmin(BigTableAdmin):
    list_display = ("broadcast", "number", "follower_range", "size", "status", "attempts", "heartbeat",
                    "finished_at", "sent_count", "filtered_count", "error_count", "last_error_short")
    list_filter = (BroadcastIdFilter, "status")
    list_select_related = ("broadcast",)
    raw_id_fields = ("broadcast",)
    ordering_in_broadcast = ("broadcast_id", "number")  # batch_number_unique index

    @admin.display(description=gettext_lazy("Followers"))
    def follower_range(self, obj):
        return f"{obj.first_follower_id}–{obj.last_follower_id}"

    @admin.display(description=gettext_lazy("Last error"))
    def last_error_short(self, obj):
        return _shortened(obj.last_error)


@admin.register(InboxMessage)
class InboxMessageAdmin(BigTableAdmin):
    """A follower's inbox: open it with ?follower_id=<id> (linked from the deliveries list)."""

    list_display = ("created_at", "follower_display", "account", "broadcast", "kind")
    list_filter = (FollowerIdFilter, BroadcastIdFilter)
    list_select_related = ("follower", "broadcast__account")
    raw_id_fields = ("follower", "broadcast")
    ordering_in_broadcast = ("broadcast_id", "follower_id")  # inbox_once_per_follower index
    ordering_in_follower = ("follower_id", "-created_at")  # inbox_follower_idx

    @admin.display(description=gettext_lazy("Follower"))
    def follower_display(self, obj):
        f = obj.follower
        return f"{f.nickname} ({f.openid})" if f.nickname else f.openid

    @admin.display(description=gettext_lazy("Account"))
    def account(self, obj):
        return obj.broadcast.account

    @admin.display(description=gettext_lazy("Shown"))
    def kind(self, obj):
        # The row records where the message went when it was delivered (R6, folds_messages at
        # that time), which stays true if the account changes kind later.
        return _("in the Subscriptions folder") if obj.folded else _("in the chat list")

    def changelist_view(self, request, extra_context=None):
        extra = dict(extra_context or {})
        follower_id = parse_id(request.GET.get(FollowerIdFilter.parameter_name, ""))
        if follower_id is not None:
            follower = Follower.objects.select_related("account").filter(pk=follower_id).first()
            if follower is not None:
                extra["title"] = _("Inbox of %(follower)s (%(openid)s) at %(account)s") % {
                    "follower": follower, "openid": follower.openid, "account": follower.account,
                }
                extra["subtitle"] = cap_text(follower)
        return super().changelist_view(request, extra_context=extra)


@admin.register(PushAttempt)
class PushAttemptAdmin(ReadOnlyAdmin):
    """Each POST of a job-finished event (MASSSENDJOBFINISH) to an account's server, and its answer.
    Linked from an API broadcast's page (?broadcast_id=<id>)."""

    list_display = ("broadcast", "number", "at", "outcome", "status_code", "response_short", "error_short",
                    "encrypted", "duration_ms", "url")
    list_filter = (BroadcastIdFilter, "outcome")
    list_select_related = ("broadcast",)
    show_full_result_count = False
    fields = ("broadcast", "number", "at", "url", "encrypted", "outcome", "status_code", "response", "error",
              "duration_ms", "event_xml")
    ordering = ("-id",)

    def get_ordering(self, request):
        # Inside one broadcast: its attempts in order (the broadcast FK's index).
        return ("broadcast_id", "number") if BroadcastIdFilter.parameter_name in request.GET else ("-id",)

    @admin.display(description=gettext_lazy("Answer"))
    def response_short(self, obj):
        return _shortened(obj.response)

    @admin.display(description=gettext_lazy("Error"))
    def error_short(self, obj):
        return _shortened(obj.error)
