"""The review queue: broadcasts pending review, oldest first (broadcasts.selectors.review_queue).

Each row opens the review page; approve, reject and cancel work on selected rows as bulk
actions. A proxy of Broadcast (PendingBroadcast) with the same rights as broadcasts.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from operator_console.admin_tools import ReadOnlyAdmin
from operator_console.platform_time import format_moment, platform_zone_name

from .. import selectors
from ..models import PendingBroadcast
from .display import send_time_column, short_audience, short_channel, short_kind
from .transitions import TransitionsMixin, approve_selected, cancel_selected, reject_selected


@admin.register(PendingBroadcast)
class PendingBroadcastAdmin(TransitionsMixin, ReadOnlyAdmin):
    """The review queue: pending broadcasts, oldest first; each row opens the review page."""

    list_display = ("review_link", "account", "kind", "channel_short", "audience_short", "send_time", "submitted",
                    "waiting", "flags")
    list_display_links = None
    list_filter = ("channel", "audience")
    list_select_related = ("account", "created_by", "tag")
    show_full_result_count = False
    sortable_by = ()
    actions = [approve_selected, reject_selected, cancel_selected]

    def get_queryset(self, request):
        # Broadcast rows of the queue's one query: the list only reads them, and the bulk
        # actions act on Broadcast rows anyway (the audit log names "broadcast", not the proxy).
        return selectors.review_queue()

    def get_ordering(self, request):
        # The changelist orders by this, not by the queryset's own order: keep the queue's.
        return selectors.review_queue().query.order_by

    # Same rights as on broadcasts: whoever may see broadcasts sees the queue; nobody edits a queue row directly.
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("broadcasts.view_broadcast") or request.user.has_perm("broadcasts.change_broadcast")

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:broadcasts_broadcast_review", args=[unquote(object_id)]))

    def changelist_view(self, request, extra_context=None):
        extra = {"platform_zone": platform_zone_name(), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    @admin.display(description=gettext_lazy("Broadcast"))
    def review_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:broadcasts_broadcast_review", args=[obj.pk]), obj.title)

    @admin.display(description=gettext_lazy("Kind"))
    def kind(self, obj):
        return short_kind(obj.account)

    @admin.display(description=gettext_lazy("Channel"))
    def channel_short(self, obj):
        return short_channel(obj)

    @admin.display(description=gettext_lazy("Audience"))
    def audience_short(self, obj):
        return short_audience(obj)

    @admin.display(description=gettext_lazy("Send time"))
    def send_time(self, obj):
        return send_time_column(obj)

    @admin.display(description=gettext_lazy("Submitted"))
    def submitted(self, obj):
        when = format_moment(obj.submitted_at, zone=False)
        if obj.created_by:
            return _("%(when)s by %(by)s") % {"when": when, "by": obj.created_by}
        return when

    @admin.display(description=gettext_lazy("Waiting"))
    def waiting(self, obj):
        if not obj.submitted_at:
            return ""
        minutes = int((timezone.now() - obj.submitted_at).total_seconds() // 60)
        if minutes < 60:
            return _("%(minutes)d min") % {"minutes": minutes}
        if minutes < 48 * 60:
            return _("%(hours)d h %(minutes)d min") % {"hours": minutes // 60, "minutes": minutes % 60}
        days = minutes // (24 * 60)
        return ngettext("%(days)d day", "%(days)d days", days) % {"days": days}

    @admin.display(description=gettext_lazy("Findings"))
    def flags(self, obj):
        n = len(obj.findings or [])
        return format_html('<span class="bc-flag">{}</span>', _("%(count)d flagged") % {"count": n}) if n else "—"
