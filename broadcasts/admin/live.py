"""Live progress on the broadcast list and change pages: the bar, the counters and the status of a
broadcast that is waiting for the dispatcher, sending or paused update by themselves.

The page marks each live cell (data-bc-live); static/console/live_progress.js polls the JSON
endpoint `progress/` of the admin every few seconds with the ids it shows, and replaces the cells
with what the endpoint renders (the same progress_bar and status_badge the page drew, from
selectors.progress). The endpoint is read-only and checks the view permission; Pause and Resume
beside the bar link to the transition pages, which check their own permission when posted.
"""

from __future__ import annotations

from urllib.parse import quote

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from operator_console.admin_live import live_cell
from operator_console.admin_tools import parse_id
from operator_console.platform_time import format_moment

from .. import selectors
from ..models import Broadcast
from .display import progress_bar, status_badge
from .transitions import TRANSITIONS, hidden_transition_notes, transition_buttons

Status = Broadcast.Status
# A list page shows at most this many broadcasts; more ids in one poll are ignored.
MAX_POLLED = 200
# Statuses whose cells can still change without anyone acting on the page.
LIVE_STATUSES = frozenset({Status.APPROVED, Status.SENDING, Status.PAUSED})
CONTROLS = ("pause", "resume")


def is_live(b: Broadcast) -> bool:
    return b.status in LIVE_STATUSES


def waiting_text(b: Broadcast) -> str:
    """An approved broadcast: due and waiting for the dispatcher, or waiting for its send time."""
    if b.scheduled_at is None or b.scheduled_at <= timezone.now():
        return _("Approved; waiting for the dispatcher")
    return _("Approved; goes out at %(moment)s") % {"moment": format_moment(b.scheduled_at, zone=False)}


def progress_html(b: Broadcast, *, compact: bool):
    if b.status == Status.APPROVED:
        return format_html('<span class="bc-muted bc-waiting">{}</span>', waiting_text(b))
    return progress_bar(b, compact=compact)


def controls_html(b: Broadcast, user, *, here: str = ""):
    """Pause / Resume links to their confirmation pages, for a user allowed to control delivery."""
    links = []
    for name in CONTROLS:
        t = TRANSITIONS[name]
        if t.applies_to(b) and t.allowed(user, b):
            url = reverse("admin:broadcasts_broadcast_transition", args=[b.pk, name])
            links.append((url + (f"?next={quote(here)}" if here else ""), name, t.label))
    if not links:
        return ""
    return format_html(
        '<div class="bc-live-controls">{}</div>',
        format_html_join(" ", '<a class="bc-button" href="{}" data-bc-control="{}">{}</a>', links),
    )


def live_broadcast_cell(b: Broadcast, part: str, inner, *, mode: str = "list"):
    """`inner` wrapped so that the script keeps it current while the broadcast can still change.
    `mode`: "list" (compact bar with Pause / Resume) or "page" (the change page's full bar)."""
    if not is_live(b):
        return inner
    return live_cell(b.pk, part, inner, url=reverse("admin:broadcasts_broadcast_progress"), mode=mode)


def action_bar(user, b: Broadcast, *, here: str) -> dict:
    """The context of a change page's action bar (_actions.html): its buttons without Pause / Resume,
    which sit in the live progress cell beside the bar."""
    return {
        "original": b, "opts": Broadcast._meta, "here": here,
        "transitions": [(t, form) for t, form in transition_buttons(user, b) if t.name not in CONTROLS],
        "transition_notes": hidden_transition_notes(user, b),
    }


def progress_payload(b: Broadcast, request, *, mode: str, here: str = "") -> dict:
    """What one poll answers for one broadcast: the counters and the cells to draw. On a change page
    ("page") also its action bar: the status moves under it (dispatch, pause, the end of the send)."""
    user = request.user
    p = selectors.progress(b)
    # Pause / Resume with the bar in both modes: a page's own buttons are drawn once, at load.
    progress = format_html("{}{}", progress_html(b, compact=mode == "list"), controls_html(b, user, here=here))
    data = {
        "status": b.status, "total": p["total"], "sent": p["sent"], "filtered": p["filtered"], "failed": p["failed"],
        "processed": p["processed"], "finished": p["finished"], "live": is_live(b),
        "progress_html": str(progress), "status_html": str(status_badge(b)),
    }
    if mode == "page":
        data["actions_html"] = render_to_string(
            "admin/broadcasts/broadcast/_actions.html", action_bar(user, b, here=here or "/"), request=request
        )
    return data


# The broadcast list's CSV export (operator_console.admin_exports), beside the columns it draws live.
EXPORT_COLUMNS = (
    (gettext_lazy("id"), "id"), (gettext_lazy("account"), "account__name"), (gettext_lazy("app id"), "account__app_id"),
    (gettext_lazy("title"), "title"), (gettext_lazy("status"), "status"), (gettext_lazy("channel"), "channel"),
    (gettext_lazy("audience"), "audience"), (gettext_lazy("send time"), "scheduled_at"),
    (gettext_lazy("created by"), "created_by__username"), (gettext_lazy("total"), "total_count"),
    (gettext_lazy("sent"), "sent_count"), (gettext_lazy("filtered"), "filtered_count"),
    (gettext_lazy("failed"), "error_count"), (gettext_lazy("started"), "started_at"),
    (gettext_lazy("finished"), "finished_at"),
)


class LiveProgressMixin:
    """For BroadcastAdmin: the polled endpoint, the live list columns and the script."""

    def get_urls(self):
        view = self.admin_site.admin_view(self.progress_view)
        return [path("progress/", view, name="broadcasts_broadcast_progress"), *super().get_urls()]

    @property
    def media(self):
        return super().media + forms.Media(js=["console/live_progress.js"])

    def progress_view(self, request):
        """GET ?id=1&id=2&mode=list|page&next=<the page>: {"rows": {"1": {...}, ...}} (JSON)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        ids = {i for i in (parse_id(raw) for raw in request.GET.getlist("id")[:MAX_POLLED]) if i is not None}
        mode = "page" if request.GET.get("mode") == "page" else "list"
        here = request.GET.get("next", "")
        here = here if here.startswith("/") and not here.startswith("//") else ""
        rows = Broadcast.objects.filter(pk__in=ids).select_related("account")
        data = {str(b.pk): progress_payload(b, request, mode=mode, here=here) for b in rows}
        return JsonResponse({"rows": data})  # admin_view adds never_cache

    def get_list_display(self, request):
        """The list's status and progress columns drawn live, Pause / Resume beside the bar."""
        user, here = request.user, request.get_full_path()

        def status_live(obj):
            return live_broadcast_cell(obj, "status", status_badge(obj))

        def progress_live(obj):
            inner = format_html("{}{}", progress_html(obj, compact=True), controls_html(obj, user, here=here))
            return live_broadcast_cell(obj, "progress", inner)

        status_live.short_description = gettext_lazy("Status")
        status_live.admin_order_field = "status"
        progress_live.short_description = gettext_lazy("Progress")
        swap = {"status_display": status_live, "progress_column": progress_live}
        return [swap.get(c, c) if isinstance(c, str) else c for c in super().get_list_display(request)]

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj.console_viewer = request.user  # whose Pause / Resume live_progress draws
        return obj

    def live_progress(self, obj):
        """The change page's progress field, with the Pause / Resume its viewer may use (the poll
        redraws both as the status moves, so they are never the stale ones of the page's load)."""
        inner = progress_html(obj, compact=False)
        viewer = getattr(obj, "console_viewer", None)
        if viewer is not None:
            here = reverse("admin:broadcasts_broadcast_change", args=[obj.pk])
            inner = format_html("{}{}", inner, controls_html(obj, viewer, here=here))
        return live_broadcast_cell(obj, "progress", inner, mode="page")
