"""The broadcasts admin: drafts, the review queue, delivery control and the big delivery tables.

Every state change goes through `broadcasts.services` (looked up at call time,
so the admin loads while the services grow). Refusals are `DomainError`s and
reach the person as a message or a form error, never as a 500. Permissions are
checked on the server for every button and action, not only by hiding them.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.exceptions import DomainError
from accounts.models import AuditEvent, Follower, MenuItem
from operator_console.admin_tools import ConsoleDatesMixin, EstimatedCountPaginator, ReadOnlyAdmin
from operator_console.platform_time import platform_zone

from . import selectors, services
from .forms import ApproveForm, BroadcastForm, NoInputForm, RejectForm, RescheduleForm
from .models import (
    Broadcast,
    ContentRule,
    Delivery,
    DeliveryBatch,
    InboxMessage,
    PendingBroadcast,
    QuotaPolicy,
    QuotaReservation,
    Violation,
)

Status = Broadcast.Status

# States in which delivery counters mean something (a progress bar is shown).
DELIVERY_STATES = {Status.SENDING, Status.PAUSED, Status.SENT, Status.PARTIALLY_SENT, Status.FAILED}

APPROVE_PERM = "broadcasts.approve_broadcast"
SUBMIT_PERM = "broadcasts.submit_broadcast"
CONTROL_PERM = "broadcasts.control_delivery"

# How many refusals one bulk action lists one by one before summing up the rest.
MAX_REFUSAL_MESSAGES = 10


# --------------------------------------------------------------------------- display helpers


def platform_time(moment) -> str:
    """A moment as the platform's wall-clock time (the zone quota windows are counted in)."""
    if moment is None:
        return ""
    return timezone.localtime(moment, platform_zone()).strftime("%Y-%m-%d %H:%M")


def send_time_text(broadcast: Broadcast) -> str:
    if broadcast.scheduled_at is None:
        return "now (as soon as approved)"
    return f"{platform_time(broadcast.scheduled_at)} ({settings.PLATFORM_TIME_ZONE})"


def progress_bar(b: Broadcast, *, compact: bool = False):
    """Sent / filtered / failed of total as a stacked bar and counters (`compact`: narrow list column)."""
    stopped_mid_send = b.status == Status.CANCELLED and b.total_count
    if b.status not in DELIVERY_STATES and not stopped_mid_send:
        return "—"
    total = b.total_count or 0
    done = b.sent_count + b.filtered_count + b.error_count
    if not total:
        return format_html('<span class="bc-muted">{}</span>', "no recipients yet")

    def pct(n):
        return f"{min(100.0, 100.0 * n / total):.2f}"

    bar = format_html(
        '<div class="bc-progress" role="progressbar" aria-valuenow="{}" aria-valuemax="{}" title="{} of {} done">'
        '<span class="bc-sent" style="width:{}%"></span>'
        '<span class="bc-filtered" style="width:{}%"></span>'
        '<span class="bc-failed" style="width:{}%"></span></div>',
        done, total, done, total, pct(b.sent_count), pct(b.filtered_count), pct(b.error_count),
    )
    if compact:  # one counter a line: fits the list's narrow column
        return format_html(
            '{}<div class="bc-counts bc-compact">sent {}<br>filtered {}<br>failed {}<br>of {} · {}%</div>',
            bar, b.sent_count, b.filtered_count, b.error_count, total, int(100 * done / total),
        )
    return format_html(
        '{}<div class="bc-counts">sent {} · filtered {} · failed {} of {} ({}%)</div>',
        bar, b.sent_count, b.filtered_count, b.error_count, total, int(100 * done / total),
    )


def short_kind(account) -> str:
    return "Service" if account.is_service else "Subscription"


def short_channel(b: Broadcast) -> str:
    return "API" if b.channel == Broadcast.Channel.API else "Console"


def short_audience(b: Broadcast) -> str:
    if b.audience == Broadcast.Audience.TAG:
        return f"Tag “{b.tag}”" if b.tag_id else "Tag"
    if b.audience == Broadcast.Audience.FOLLOWERS:
        return "Follower list"
    return "All"


def status_badge(b: Broadcast):
    return format_html('<span class="bc-status bc-status-{}">{}</span>', b.status, b.get_status_display())


def audience_followers(b: Broadcast):
    """The subscribed followers this broadcast would reach now (before the per-follower cap)."""
    followers = Follower.objects.filter(account_id=b.account_id, subscribed=True)
    if b.audience == Broadcast.Audience.TAG:
        return followers.filter(tags=b.tag_id)
    if b.audience == Broadcast.Audience.FOLLOWERS:
        return followers.filter(targeted_broadcasts=b)
    return followers


def quota_position_text(b: Broadcast) -> str:
    """Where this broadcast stands in its account's quota window, for the reviewer (quota.quota_position)."""
    try:
        position = selectors.quota_position(b)
    except DomainError as exc:
        return exc.message
    text = position["text"]
    if not position["counts"]:
        text += " (R3a)"
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


# --------------------------------------------------------------------------- transitions


@dataclass(frozen=True)
class Transition:
    """One button / admin action that moves a broadcast through its lifecycle by calling a service."""

    name: str  # URL segment, action name
    label: str  # button text
    done: str  # "approved", for messages
    states: frozenset
    service: str  # function name in broadcasts.services
    form_class: type = NoInputForm
    danger: bool = False
    help: str = ""

    def perms_for(self, status: str | None) -> tuple[str, ...]:
        """Any one of these permissions allows the transition (for this status, or for any)."""
        if self.name == "submit":
            return (SUBMIT_PERM,)
        if self.name in ("pause", "resume"):
            return (CONTROL_PERM,)
        if self.name == "cancel":
            # Stopping a send is delivery control; withdrawing a broadcast before it sends is a review decision.
            if status in (Status.SENDING, Status.PAUSED):
                return (CONTROL_PERM,)
            if status == Status.DRAFT:
                return (SUBMIT_PERM, APPROVE_PERM)  # the operator may discard a draft
            if status is None:
                return (SUBMIT_PERM, APPROVE_PERM, CONTROL_PERM)
            return (APPROVE_PERM,)
        return (APPROVE_PERM,)

    def allowed(self, user, broadcast: Broadcast | None = None) -> bool:
        status = broadcast.status if broadcast is not None else None
        return any(user.has_perm(p) for p in self.perms_for(status))

    def applies_to(self, broadcast: Broadcast) -> bool:
        return broadcast.status in self.states

    @property
    def has_input(self) -> bool:
        return bool(self.form_class.base_fields)

    def run(self, broadcast: Broadcast, *, by, **kwargs) -> Broadcast:
        return getattr(services, self.service)(broadcast, by=by, **kwargs)

    def success_message(self, b: Broadcast) -> str:
        text = f"“{b.title}” {self.done}."
        if self.name in ("approve", "reschedule"):
            text = f"“{b.title}” {self.done}; it will be sent {_when(b)}."
        return text


def _when(b: Broadcast) -> str:
    if b.scheduled_at is None or b.scheduled_at <= timezone.now():
        return "within a minute"
    return f"at {platform_time(b.scheduled_at)} ({settings.PLATFORM_TIME_ZONE})"


TRANSITIONS = {
    t.name: t
    for t in [
        Transition("submit", "Submit for review", "submitted for review", frozenset({Status.DRAFT}),
                   "submit_broadcast", help="Screens the content and puts the broadcast in the review queue."),
        Transition("approve", "Approve", "approved", frozenset({Status.PENDING_REVIEW}), "approve_broadcast",
                   form_class=ApproveForm, help="Reserves a quota slot for the send time's window."),
        Transition("reject", "Reject", "rejected", frozenset({Status.PENDING_REVIEW, Status.APPROVED}),
                   "reject_broadcast", form_class=RejectForm, danger=True,
                   help="The author is told why; a held quota slot is given back."),
        Transition("reschedule", "Reschedule", "rescheduled", frozenset({Status.APPROVED}), "reschedule_broadcast",
                   form_class=RescheduleForm, help="Moves the quota slot to the new send time's window."),
        Transition("pause", "Pause sending", "paused", frozenset({Status.SENDING}), "pause_broadcast",
                   help="No further batch starts until resumed."),
        Transition("resume", "Resume sending", "resumed", frozenset({Status.PAUSED}), "resume_broadcast"),
        Transition("cancel", "Cancel", "cancelled",
                   frozenset({Status.DRAFT, Status.PENDING_REVIEW, Status.APPROVED, Status.SENDING, Status.PAUSED}),
                   "cancel_broadcast", danger=True,
                   help="Before sending, its quota slot is given back; once sending, no further batch goes out."),
    ]
}


def available_transitions(user, b: Broadcast) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if t.applies_to(b) and t.allowed(user, b)]


def _safe_next(request, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


class TransitionsMixin:
    """Buttons (one URL per transition) and bulk admin actions shared by the broadcast changelists."""

    # Permission hooks for @admin.action(permissions=[...]).
    def has_submit_permission(self, request):
        return request.user.has_perm(SUBMIT_PERM)

    def has_approve_permission(self, request):
        return request.user.has_perm(APPROVE_PERM)

    def has_control_permission(self, request):
        return request.user.has_perm(CONTROL_PERM)

    def has_cancel_permission(self, request):
        return TRANSITIONS["cancel"].allowed(request.user)

    def bulk_transition(self, request, queryset, name: str):
        """Run one transition on each selected broadcast; report successes and each refusal."""
        t = TRANSITIONS[name]
        form = None
        if t.has_input:
            form = t.form_class(request.POST if "apply" in request.POST else None)
            if not form.is_bound or not form.is_valid():
                return TemplateResponse(
                    request,
                    "admin/broadcasts/broadcast/bulk_transition.html",
                    {
                        **self.admin_site.each_context(request),
                        "opts": self.opts,
                        "title": f"{t.label}: {queryset.count()} broadcast(s)",
                        "transition": t,
                        "form": form,
                        "media": self.media + form.media,
                        "broadcasts": queryset.select_related("account"),
                        "action_name": f"{name}_selected",
                        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                    },
                )
        kwargs = form.service_kwargs() if form is not None else {}
        done, refused = 0, []
        # Plain Broadcast rows (not proxies), so the services and the audit log see "broadcast".
        for b in Broadcast.objects.filter(pk__in=queryset.values("pk")).select_related("account").order_by("pk"):
            if not t.allowed(request.user, b):
                refused.append(f"“{b.title}”: you may not {t.label.lower()} a broadcast that is {b.get_status_display().lower()}.")
                continue
            try:
                t.run(b, by=request.user, **kwargs)
            except DomainError as exc:
                refused.append(exc.message)
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} broadcast(s) {t.done}.", messages.SUCCESS)
        for text in refused[:MAX_REFUSAL_MESSAGES]:
            self.message_user(request, text, messages.ERROR)
        if len(refused) > MAX_REFUSAL_MESSAGES:
            self.message_user(request, f"…and {len(refused) - MAX_REFUSAL_MESSAGES} more refused.", messages.ERROR)
        return None


def _bulk_action(name: str, permission: str):
    t = TRANSITIONS[name]

    def action(modeladmin, request, queryset):
        return modeladmin.bulk_transition(request, queryset, name)

    action.__name__ = f"{name}_selected"
    return admin.action(description=f"{t.label} selected broadcasts", permissions=[permission])(action)


submit_selected = _bulk_action("submit", "submit")
approve_selected = _bulk_action("approve", "approve")
reject_selected = _bulk_action("reject", "approve")
reschedule_selected = _bulk_action("reschedule", "approve")
cancel_selected = _bulk_action("cancel", "cancel")
pause_selected = _bulk_action("pause", "control")
resume_selected = _bulk_action("resume", "control")


# --------------------------------------------------------------------------- broadcasts


@admin.register(Broadcast)
class BroadcastAdmin(ConsoleDatesMixin, TransitionsMixin, admin.ModelAdmin):
    form = BroadcastForm
    list_display = ("title", "account", "kind", "channel_short", "audience_short", "status_display", "send_time",
                    "progress_column")
    list_filter = ("status", "channel", "audience")
    list_select_related = ("account", "tag")
    search_fields = ("title", "=account__app_id")
    show_full_result_count = False
    autocomplete_fields = ("account", "tag")  # the accounts admin searches both
    raw_id_fields = ("recipients",)  # up to 10,000 followers: ids, not a select
    actions = [
        submit_selected, approve_selected, reject_selected, reschedule_selected,
        cancel_selected, pause_selected, resume_selected,
    ]
    readonly_fields = (
        "status_display", "created_by", "created_at", "submitted_at", "reviewed_by", "reviewed_at",
        "review_note", "findings_display", "progress", "total_count", "sent_count", "filtered_count",
        "error_count", "batches", "started_at", "finished_at", "failure_reason",
    )
    content_fieldsets = (
        ("Content", {"fields": ("account", "title", "message_type", "body", "url", "cover_url")}),
        ("Audience and send time", {"fields": ("channel", "audience", "tag", "recipients", "scheduled_at")}),
    )
    review_fieldset = (
        "Review",
        {"fields": ("status_display", "created_by", "created_at", "client_msg_id", "submitted_at", "reviewed_by",
                    "reviewed_at", "review_note", "findings_display")},
    )
    delivery_fieldset = (
        "Delivery",
        {"fields": ("progress", "total_count", "sent_count", "filtered_count", "error_count", "batches",
                    "started_at", "finished_at", "failure_reason")},
    )

    # ---- list columns

    @admin.display(description="Kind", ordering="account__kind")
    def kind(self, obj):
        return short_kind(obj.account)

    @admin.display(description="Channel", ordering="channel")
    def channel_short(self, obj):
        return short_channel(obj)

    @admin.display(description="Audience", ordering="audience")
    def audience_short(self, obj):
        return short_audience(obj)

    @admin.display(description="Status", ordering="status")
    def status_display(self, obj):
        return status_badge(obj)

    @admin.display(description="Send time", ordering="scheduled_at")
    def send_time(self, obj):
        return platform_time(obj.scheduled_at) or "on approval"

    def changelist_view(self, request, extra_context=None):
        extra = {"platform_zone": settings.PLATFORM_TIME_ZONE, **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    @admin.display(description="Progress")
    def progress(self, obj):
        return progress_bar(obj)

    @admin.display(description="Progress")
    def progress_column(self, obj):
        return progress_bar(obj, compact=True)

    @admin.display(description="Batches")
    def batches(self, obj):
        return f"{obj.batches_done} of {obj.batch_count} done"

    @admin.display(description="Moderation findings")
    def findings_display(self, obj):
        if not obj.findings:
            return "None"
        return format_html(
            '<ul class="bc-findings">{}</ul>',
            format_html_join("", "<li>{}</li>", ((finding_text(f),) for f in obj.findings)),
        )

    # ---- permissions: edit drafts only, never delete (cancel instead)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status != Status.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    # ---- the form saves through the services (BroadcastForm._post_clean)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.by = request.user
        return form

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.content_fieldsets
        sets = [*self.content_fieldsets, self.review_fieldset]
        if obj.status in DELIVERY_STATES or obj.total_count:
            sets.append(self.delivery_fieldset)
        return sets

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            # update_broadcast edits content, audience and send time; the account and client id are fixed.
            return ("account", "client_msg_id", *self.readonly_fields)
        return self.readonly_fields

    def save_form(self, request, form, change):
        return form.instance  # create_broadcast / update_broadcast already saved it while validating

    def save_model(self, request, obj, form, change):
        pass  # the services wrote it; see BroadcastForm

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    # ---- extra pages: the review page and one URL per transition

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/review/", wrap(self.review_view), name=f"{prefix}_review"),
            path("<path:object_id>/do/<slug:transition>/", wrap(self.transition_view), name=f"{prefix}_transition"),
            *super().get_urls(),
        ]

    def _object_or_redirect(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return None, self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        return obj, None

    def transition_view(self, request, object_id, transition):
        """GET: the small form (send time, reason) or a confirmation; POST: call the service."""
        t = TRANSITIONS.get(transition)
        if t is None:
            raise PermissionDenied
        obj, redirect = self._object_or_redirect(request, object_id)
        if redirect:
            return redirect
        if not t.allowed(request.user, obj):
            raise PermissionDenied
        change_url = reverse("admin:broadcasts_broadcast_change", args=[obj.pk], current_app=self.admin_site.name)
        next_url = _safe_next(request, change_url)
        if request.method == "POST":
            form = t.form_class(request.POST)
            if form.is_valid():
                try:
                    b = t.run(obj, by=request.user, **form.service_kwargs())
                except DomainError as exc:
                    self.message_user(request, exc.message, messages.ERROR)
                else:
                    self.message_user(request, t.success_message(b), messages.SUCCESS)
                return HttpResponseRedirect(next_url)
        else:
            form = t.form_class()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{t.label}: “{obj.title}”",
            "original": obj,
            "broadcast": obj,
            "transition": t,
            "form": form,
            "media": self.media + form.media,
            "next": next_url,
            "change_url": change_url,
            "applies": t.applies_to(obj),
        }
        return TemplateResponse(request, "admin/broadcasts/broadcast/transition.html", context)

    def review_view(self, request, object_id):
        obj, redirect = self._object_or_redirect(request, object_id)
        if redirect:
            return redirect
        context = {
            **self.admin_site.each_context(request),
            **review_context(request, obj),
            "opts": self.opts,
            "title": f"Review “{obj.title}”",
            "original": obj,
            "media": self.media + ApproveForm().media,
        }
        return TemplateResponse(request, "admin/broadcasts/broadcast/review.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        extra = dict(extra_context or {})
        if obj is not None and self.has_view_permission(request, obj):
            extra.update(
                transitions=[(t, t.form_class()) for t in available_transitions(request.user, obj)],
                history=broadcast_history(obj),
                review_url=reverse("admin:broadcasts_broadcast_review", args=[obj.pk], current_app=self.admin_site.name),
                deliveries_url=reverse("admin:broadcasts_delivery_changelist", current_app=self.admin_site.name)
                + f"?broadcast_id={obj.pk}",
                here=request.get_full_path(),
                platform_zone=settings.PLATFORM_TIME_ZONE,
            )
        return super().change_view(request, object_id, form_url, extra_context=extra)


def finding_text(f) -> str:
    if not isinstance(f, dict):
        return str(f)
    rule = f.get("note") or f.get("pattern") or f"rule {f.get('rule')}"
    match = f.get("match", "")
    excerpt = f.get("excerpt", "")
    text = f"{rule}"
    if match:
        text += f" ({match})"
    if excerpt:
        text += f": “{excerpt}”"
    return text


def broadcast_history(b: Broadcast):
    return AuditEvent.objects.filter(object_type="broadcast", object_id=b.pk).select_related("by").order_by("at", "id")


def review_context(request, b: Broadcast) -> dict:
    """What a reviewer sees: the preview, findings, audience size, quota position and the decisions."""
    account = b.account
    menu = []
    if account.is_service:
        menu = list(
            MenuItem.objects.filter(account=account, parent=None)
            .prefetch_related(Prefetch("children", queryset=MenuItem.objects.order_by("position", "id")))
            .order_by("position", "id")
        )
    certification = None
    if account.is_service:
        certification = account.current_certification(b.send_time)
    needs_certification = b.channel == Broadcast.Channel.API or b.is_targeted
    here = request.get_full_path()
    return {
        "broadcast": b,
        "account": account,
        "folded": not account.is_service,
        "menu": menu,
        "findings": [finding_text(f) for f in (b.findings or [])],
        "audience_size": audience_followers(b).count(),
        "quota_text": quota_position_text(b),
        "send_time_text": send_time_text(b),
        "preview_time": platform_time(b.scheduled_at or timezone.now())[-5:],
        "certification": certification,
        "needs_certification": needs_certification,
        "suspended": account.is_suspended(b.send_time),
        "is_author": b.created_by_id is not None and b.created_by_id == request.user.pk,
        "transitions": [(t, t.form_class()) for t in available_transitions(request.user, b)],
        "history": broadcast_history(b),
        "change_url": reverse("admin:broadcasts_broadcast_change", args=[b.pk]),
        "queue_url": reverse("admin:broadcasts_pendingbroadcast_changelist"),
        "here": here,
        "progress": progress_bar(b),
        "status_badge": status_badge(b),
        "platform_zone": settings.PLATFORM_TIME_ZONE,
        "article_host": urlsplit(b.url).hostname or "" if b.url else "",
    }


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
        return (
            super().get_queryset(request)
            .filter(status=Status.PENDING_REVIEW)
            .order_by("submitted_at", "id")
        )

    def get_ordering(self, request):
        return ("submitted_at", "id")

    # Same rights as on broadcasts: whoever may see broadcasts sees the queue; nobody edits a queue row directly.
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("broadcasts.view_broadcast") or request.user.has_perm("broadcasts.change_broadcast")

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:broadcasts_broadcast_review", args=[unquote(object_id)]))

    @admin.display(description="Broadcast")
    def review_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:broadcasts_broadcast_review", args=[obj.pk]), obj.title)

    @admin.display(description="Kind")
    def kind(self, obj):
        return short_kind(obj.account)

    @admin.display(description="Channel")
    def channel_short(self, obj):
        return short_channel(obj)

    @admin.display(description="Audience")
    def audience_short(self, obj):
        return short_audience(obj)

    @admin.display(description="Send time")
    def send_time(self, obj):
        return platform_time(obj.scheduled_at) or "on approval"

    def changelist_view(self, request, extra_context=None):
        extra = {"platform_zone": settings.PLATFORM_TIME_ZONE, **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    @admin.display(description="Submitted")
    def submitted(self, obj):
        by = f" by {obj.created_by}" if obj.created_by else ""
        return f"{platform_time(obj.submitted_at)}{by}"

    @admin.display(description="Waiting")
    def waiting(self, obj):
        if not obj.submitted_at:
            return ""
        minutes = int((timezone.now() - obj.submitted_at).total_seconds() // 60)
        if minutes < 60:
            return f"{minutes} min"
        if minutes < 48 * 60:
            return f"{minutes // 60} h {minutes % 60} min"
        return f"{minutes // (24 * 60)} days"

    @admin.display(description="Findings")
    def flags(self, obj):
        n = len(obj.findings or [])
        return format_html('<span class="bc-flag">{} flagged</span>', n) if n else "—"


# --------------------------------------------------------------------------- quota and moderation


@admin.register(QuotaPolicy)
class QuotaPolicyAdmin(ConsoleDatesMixin, admin.ModelAdmin):
    """Editable: the model's clean() refuses overlapping policies, shown as a form error."""

    list_display = ("kind", "scope", "limit", "period", "from_", "until", "note")
    list_filter = ("kind", "scope")
    fields = ("kind", "scope", "limit", "period", "effective_from", "effective_until", "note")

    @admin.display(description=f"Effective from ({settings.PLATFORM_TIME_ZONE})", ordering="effective_from")
    def from_(self, obj):
        return platform_time(obj.effective_from)

    @admin.display(description="Until", ordering="effective_until")
    def until(self, obj):
        return platform_time(obj.effective_until) or "open"


@admin.register(QuotaReservation)
class QuotaReservationAdmin(ReadOnlyAdmin):
    list_display = ("broadcast", "account", "policy", "window", "slot", "created_at")
    list_select_related = ("broadcast", "account", "policy")
    raw_id_fields = ("broadcast", "account")
    show_full_result_count = False
    search_fields = ("=account__app_id",)

    @admin.display(description="Window starts", ordering="window_start")
    def window(self, obj):
        return f"{platform_time(obj.window_start)} ({settings.PLATFORM_TIME_ZONE})"


@admin.register(ContentRule)
class ContentRuleAdmin(admin.ModelAdmin):
    list_display = ("pattern", "match", "action", "points", "active", "note", "created_at")
    list_filter = ("action", "match", "active")
    search_fields = ("pattern", "note")
    fields = ("pattern", "match", "action", "points", "active", "note")


@admin.register(Violation)
class ViolationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "account", "broadcast", "rule", "points")
    list_select_related = ("account", "broadcast", "rule")
    raw_id_fields = ("account", "broadcast", "rule")
    show_full_result_count = False
    search_fields = ("=account__app_id",)


# --------------------------------------------------------------------------- delivery tables (tens of millions of rows)


class DeliveryCountPaginator(EstimatedCountPaginator):
    # Filtered delivery lists count at most this many rows; beyond, the page says "more than".
    cap = 10_000


class IdInputFilter(admin.ListFilter):
    """A text box for one id (`?<parameter_name>=<id>`), filtering on an indexed foreign key."""

    parameter_name = ""
    field = ""
    template = "admin/broadcasts/id_input_filter.html"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.value = None
        if self.parameter_name in params:
            raw = params.pop(self.parameter_name)
            raw = raw[-1] if isinstance(raw, list) else raw
            self.used_parameters[self.parameter_name] = raw
            self.value = raw.strip() if raw.strip().isdigit() else None
            if raw.strip() and self.value is None:
                self.value = "-1"  # not an id: matches nothing rather than everything

    def has_output(self):
        return True

    def expected_parameters(self):
        return [self.parameter_name]

    def queryset(self, request, queryset):
        if self.value is not None:
            return queryset.filter(**{self.field: int(self.value)})
        return queryset

    def choices(self, changelist):
        others = [
            (k, v)
            for k, values in changelist.filter_params.items()
            if k != self.parameter_name
            for v in values
        ]
        yield {
            "parameter_name": self.parameter_name,
            "value": self.used_parameters.get(self.parameter_name, ""),
            "others": others,
            "clear_url": changelist.get_query_string(remove=[self.parameter_name]),
        }


class BroadcastIdFilter(IdInputFilter):
    title = "broadcast id"
    parameter_name = "broadcast_id"
    field = "broadcast_id"


class FollowerIdFilter(IdInputFilter):
    title = "follower id"
    parameter_name = "follower_id"
    field = "follower_id"


class NarrowedStatusFilter(admin.SimpleListFilter):
    """Status, offered only inside one broadcast or one follower (status has no index of its own)."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        if not ({"broadcast_id", "follower_id"} & set(request.GET)):
            return ()
        return Delivery.Status.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(status=self.value())
        return queryset


class BigTableAdmin(ReadOnlyAdmin):
    """Read-only list of a table with tens of millions of rows: bounded counts, indexed filters, no sorting."""

    paginator = DeliveryCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    sortable_by = ()
    list_max_show_all = 100

    def get_ordering(self, request):
        # Each ordering matches the index the active filter uses (see the models' indexes).
        if "broadcast_id" in request.GET:
            return self.ordering_in_broadcast
        if "follower_id" in request.GET:
            return self.ordering_in_follower
        return ("-id",)


@admin.register(Delivery)
class DeliveryAdmin(BigTableAdmin):
    list_display = ("id", "broadcast", "follower_link", "status", "delivered_at", "error_short")
    list_filter = (BroadcastIdFilter, FollowerIdFilter, NarrowedStatusFilter)
    list_select_related = ("broadcast", "follower")
    raw_id_fields = ("broadcast", "follower")
    ordering_in_broadcast = ("broadcast_id", "follower_id")  # delivery_once_per_follower index
    ordering_in_follower = ("follower_id", "-delivered_at")  # delivery_follower_idx

    @admin.display(description="Follower")
    def follower_link(self, obj):
        url = reverse("admin:broadcasts_inboxmessage_changelist") + f"?follower_id={obj.follower_id}"
        return format_html('{} <a href="{}" class="bc-muted">inbox</a>', obj.follower.openid, url)

    @admin.display(description="Error")
    def error_short(self, obj):
        return (obj.error[:80] + "…") if len(obj.error) > 80 else obj.error


@admin.register(DeliveryBatch)
class DeliveryBatchAdmin(BigTableAdmin):
    list_display = ("broadcast", "number", "follower_range", "size", "status", "attempts", "heartbeat",
                    "finished_at", "sent_count", "filtered_count", "error_count", "last_error_short")
    list_filter = (BroadcastIdFilter, "status")
    list_select_related = ("broadcast",)
    raw_id_fields = ("broadcast",)
    ordering_in_broadcast = ("broadcast_id", "number")  # batch_number_unique index
    ordering_in_follower = ("-id",)

    @admin.display(description="Followers")
    def follower_range(self, obj):
        return f"{obj.first_follower_id}–{obj.last_follower_id}"

    @admin.display(description="Last error")
    def last_error_short(self, obj):
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error


@admin.register(InboxMessage)
class InboxMessageAdmin(BigTableAdmin):
    """A follower's inbox: open it with ?follower_id=<id> (linked from the deliveries list)."""

    list_display = ("created_at", "follower_display", "account", "broadcast", "kind")
    list_filter = (FollowerIdFilter, BroadcastIdFilter)
    list_select_related = ("follower", "broadcast__account")
    raw_id_fields = ("follower", "broadcast")
    ordering_in_broadcast = ("broadcast_id", "follower_id")  # inbox_once_per_follower index
    ordering_in_follower = ("follower_id", "-created_at")  # inbox_follower_idx

    @admin.display(description="Follower")
    def follower_display(self, obj):
        f = obj.follower
        return f"{f.nickname} ({f.openid})" if f.nickname else f.openid

    @admin.display(description="Account")
    def account(self, obj):
        return obj.broadcast.account

    @admin.display(description="Shown")
    def kind(self, obj):
        return "in the Subscriptions folder" if obj.folded else "in the chat list"

    def changelist_view(self, request, extra_context=None):
        extra = dict(extra_context or {})
        follower_id = request.GET.get("follower_id", "").strip()
        if follower_id.isdigit():
            follower = Follower.objects.select_related("account").filter(pk=int(follower_id)).first()
            if follower is not None:
                extra["title"] = f"Inbox of {follower} ({follower.openid}) at {follower.account}"
        return super().changelist_view(request, extra_context=extra)
