"""BroadcastAdmin: drafts, the change page with its transition buttons, and the review page.

The draft form validates without writing (BroadcastForm); saving calls create_broadcast /
update_broadcast. Each transition button has its own URL and goes through service_action
(operator_console.admin_actions). The review page shows what a reviewer decides on: the
phone preview (R6), findings, audience size, quota position and the certification (R4).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.admin.common import AccountFilter
from accounts.models import MenuItem
from operator_console.admin_actions import ServiceErrorsAsMessagesMixin, next_url, run_service, service_action
from operator_console.admin_exports import CsvExportMixin
from operator_console.admin_tools import ConsoleDatesMixin, parse_id
from operator_console.platform_time import format_moment, platform_zone_name

from .. import lifecycle, moderation, selectors, services
from ..forms import ApproveForm, BroadcastForm, client_msg_id_for
from ..models import Broadcast
from .display import (
    clock_text,
    finding_text,
    progress_bar,
    push_summary,
    quota_position_text,
    send_time_column,
    send_time_text,
    short_audience,
    short_channel,
    short_kind,
    status_badge,
)
from .filters import MineFilter
from .live import EXPORT_COLUMNS, LiveProgressMixin, action_bar, is_live, live_broadcast_cell
from .picker import AudiencePickerMixin, readonly_audience_fieldset
from .transitions import (
    TRANSITIONS,
    TransitionsMixin,
    approve_selected,
    cancel_selected,
    duplicate_selected,
    pause_selected,
    reject_selected,
    reschedule_selected,
    resume_selected,
    submit_selected,
    transition_buttons,
)


@admin.register(Broadcast)
class BroadcastAdmin(
    AudiencePickerMixin, LiveProgressMixin, CsvExportMixin, ServiceErrorsAsMessagesMixin, ConsoleDatesMixin, TransitionsMixin,
    admin.ModelAdmin,
):
    form = BroadcastForm
    list_display = ("title", "account", "kind", "channel_short", "audience_short", "status_display", "send_time",
                    "progress_column")
    list_filter = ("status", "channel", "audience", AccountFilter, MineFilter)  # ?account=<id>: from its page
    date_hierarchy = "scheduled_at"  # broadcast_send_time_idx
    list_select_related = ("account", "tag")
    search_fields = ("title", "=account__app_id", "^account__name")
    show_full_result_count = False
    autocomplete_fields = ("account",)  # the tag select offers the account's tags (picker.py)
    export_columns = EXPORT_COLUMNS  # live.py
    actions = [
        submit_selected, approve_selected, reject_selected, reschedule_selected,
        cancel_selected, pause_selected, resume_selected, duplicate_selected,
    ]
    readonly_fields = (
        "status_display", "audience_size_display", "created_by", "created_at", "submitted_at", "reviewed_by",
        "reviewed_at", "review_note", "findings_display", "progress", "total_count", "sent_count", "filtered_count",
        "error_count", "batches", "started_at", "finished_at", "failure_reason", "job_finished_push",
        "audience_size_live", "recipient_openids",
    )
    content_fieldsets = (
        (gettext_lazy("Content"), {"fields": ("account", "title", "message_type", "body", "url", "cover_url")}),
        (gettext_lazy("Audience and send time"),
         {"fields": ("channel", "audience", "tag", "recipients", "recipients_file", "audience_size_live",
                     "scheduled_at")}),
    )
    # The add page also carries the form's one-time token (hidden), so a second Save of it makes no second draft.
    add_fieldsets = (
        (content_fieldsets[0][0], {"fields": (*content_fieldsets[0][1]["fields"], "form_token")}),
        *content_fieldsets[1:],
    )
    review_fieldset = (
        gettext_lazy("Review"),
        {"fields": ("status_display", "audience_size_display", "created_by", "created_at", "client_msg_id",
                    "submitted_at", "reviewed_by",
                    "reviewed_at", "review_note", "findings_display")},
    )
    delivery_fieldset = (
        gettext_lazy("Delivery"),
        {"fields": ("progress", "total_count", "sent_count", "filtered_count", "error_count", "batches",
                    "started_at", "finished_at", "failure_reason")},
    )
    push_fieldset = (gettext_lazy("Job-finished event"), {"fields": ("job_finished_push",)})

    class Media:
        # Tag and openids shown only for the audience that uses them; the account's tags; the audience size.
        js = ("console/audience_picker.js",)

    @admin.display(description=gettext_lazy("Audience size"))
    def audience_size_display(self, obj):
        n = selectors.audience_size(obj)
        return ngettext("%(count)s subscribed follower", "%(count)s subscribed followers", n) % {"count": f"{n:,}"}

    # ---- list columns

    @admin.display(description=gettext_lazy("Kind"), ordering="account__kind")
    def kind(self, obj):
        return short_kind(obj.account)

    @admin.display(description=gettext_lazy("Channel"), ordering="channel")
    def channel_short(self, obj):
        return short_channel(obj)

    @admin.display(description=gettext_lazy("Audience"), ordering="audience")
    def audience_short(self, obj):
        return short_audience(obj)

    @admin.display(description=gettext_lazy("Status"), ordering="status")
    def status_display(self, obj):
        return live_broadcast_cell(obj, "status", status_badge(obj), mode="page")  # the list swaps in its own

    @admin.display(description=gettext_lazy("Send time"), ordering="scheduled_at")
    def send_time(self, obj):
        return send_time_column(obj)

    def changelist_view(self, request, extra_context=None):
        extra = {"platform_zone": platform_zone_name(), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    @admin.display(description=gettext_lazy("Progress"))
    def progress(self, obj):
        return self.live_progress(obj)  # LiveProgressMixin: redrawn while it sends, Pause / Resume beside it

    @admin.display(description=gettext_lazy("Progress"))
    def progress_column(self, obj):
        return progress_bar(obj, compact=True)

    @admin.display(description=gettext_lazy("Batches"))
    def batches(self, obj):
        return _("%(done)s of %(count)s done") % {"done": obj.batches_done, "count": obj.batch_count}

    @admin.display(description=gettext_lazy("Pushes to the account's server"))
    def job_finished_push(self, obj):
        return push_summary(obj)

    @admin.display(description=gettext_lazy("Moderation findings"))
    def findings_display(self, obj):
        if not obj.findings:
            return _("None")
        return format_html(
            '<ul class="bc-findings">{}</ul>',
            format_html_join("", "<li>{}</li>", ((finding_text(f),) for f in obj.findings)),
        )

    # ---- permissions: edit drafts only, never delete (cancel instead)

    def has_change_permission(self, request, obj=None):
        if obj is not None and not lifecycle.allows(lifecycle.Action.EDIT, obj.status):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    # ---- the form validates; saving goes through the services

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        name, review = self.review_fieldset
        if obj.channel != Broadcast.Channel.API:  # a console broadcast's id is the add form's one-time token
            review = {**review, "fields": tuple(f for f in review["fields"] if f != "client_msg_id")}
        sets = [*self.content_fieldsets, (name, review)]
        if not self.has_change_permission(request, obj):
            sets[1] = readonly_audience_fieldset(sets[1], obj)  # the audience's own field, no upload
        else:  # the edit page carries the version of the draft it shows (a later save of another's edit is refused)
            sets[0] = (sets[0][0], {"fields": (*sets[0][1]["fields"], "draft_version")})
        if is_live(obj):
            # Approved, sending, paused: the live bar alone (it shows the send start, the counters as they
            # move); the stored counters and times, drawn once, would contradict it until a reload.
            sets.append((self.delivery_fieldset[0], {"fields": ("progress",)}))
        elif obj.status in lifecycle.DELIVERY_STATUSES or obj.total_count:
            sets.append(self.delivery_fieldset)
        if obj.channel == Broadcast.Channel.API:
            sets.append(self.push_fieldset)
        return sets

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            # update_broadcast edits content, audience and send time; the account and client id are fixed.
            return ("account", "client_msg_id", *self.readonly_fields)
        return self.readonly_fields

    def save_form(self, request, form, change):
        """Store the draft through the services and return what they stored. A refusal here (a
        race after validation) is shown as a message by ServiceErrorsAsMessagesMixin."""
        if not change:
            stored = services.create_broadcast(
                form.account, by=request.user, client_msg_id=form.client_msg_id, **form.draft_values()
            )
        elif changes := form.changes():
            stored = services.update_broadcast(
                form.instance, by=request.user, expected_version=form.expected_version, **changes
            )
        else:
            stored = form.instance
        if "_submit_for_review" not in request.POST:
            # Submitting shows them on the page it lands on; so does "Save and continue editing" (the box).
            self._warn_eligibility(request, stored, box_below="_continue" in request.POST)
        return stored

    def save_model(self, request, obj, form, change):
        pass  # save_form stored it through the services

    def response_change(self, request, obj):
        """The change page's Submit button posts the form: the edits were saved above, now submit them."""
        if "_submit_for_review" in request.POST:
            t = TRANSITIONS["submit"]
            run_service(self, request, [obj], t.call, success=lambda done: t.success_message(done[0]), name=None)
            return HttpResponseRedirect(self._change_url(obj))
        return super().response_change(request, obj)

    def _warn_eligibility(self, request, obj, *, box_below: bool) -> None:
        warnings = services.eligibility_report(obj).warnings
        if warnings and box_below:  # the change page lists them in its warnings box: said once, there
            n = len(warnings)
            message = ngettext(
                "Saved, with %(count)s warning: see below.", "Saved, with %(count)s warnings: see below.", n
            )
            self.message_user(request, message % {"count": n}, messages.WARNING)
            return
        for warning in warnings:
            self.message_user(request, warning.message, messages.WARNING)

    def add_view(self, request, form_url="", extra_context=None):
        # The same add form posted again (a double click on Save, a resubmit): show the draft the
        # first post made. Two posts at the same moment are caught by create_broadcast itself.
        account_id = parse_id(request.POST.get("account", "")) if request.method == "POST" else None
        token = client_msg_id_for(request.POST.get("form_token", "")) if account_id is not None else None
        if token:
            # The same rule create_broadcast applies to a repeated client_msg_id (24 hours, newest).
            earlier = selectors.recent_broadcast_with_client_msg_id(account_id, token)
            if earlier is not None:
                self.message_user(
                    request,
                    _("This form was already saved as “%(title)s”; saving it again made no second draft.")
                    % {"title": earlier.title},
                    messages.WARNING,
                )
                return HttpResponseRedirect(self._change_url(earlier))
        return super().add_view(request, form_url, extra_context)

    def save_related(self, request, form, formsets, change):
        # The recipients were stored by the services with the draft; only inline formsets remain.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    # ---- extra pages: the review page and one URL per transition

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("mine/", wrap(self.mine_view), name=f"{prefix}_mine"),
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

    def _change_url(self, obj) -> str:
        return reverse("admin:broadcasts_broadcast_change", args=[obj.pk], current_app=self.admin_site.name)

    def transition_view(self, request, object_id, transition):
        """GET: the small form (send time, reason) or a confirmation; POST: call the service."""
        t = TRANSITIONS.get(transition)
        if t is None:
            raise PermissionDenied
        obj, redirect = self._object_or_redirect(request, object_id)
        if redirect:
            return redirect
        if not t.allowed(request.user):  # no role of this transition, whatever the status
            raise PermissionDenied
        change_url = self._change_url(obj)
        back = next_url(request, change_url)
        # The status may have moved since the page was shown (a double click, Back, another tab):
        # a sentence, never a 403 for the status the person's own first click made.
        refusal = t.refusal_now(request.user, obj)
        response = service_action(
            self, request, [obj], t.call,
            form_class=t.form_class_for(obj),
            refuse=lambda b: t.refusal_now(request.user, b),
            success=lambda done: t.success_message(done[0]),
            template="admin/broadcasts/broadcast/transition.html",
            title=_("%(label)s: “%(title)s”") % {"label": t.label, "title": obj.title},
            submit_label=t.label,
            danger=t.danger,
            cancel_url=back,
            cancel_label=_("Back"),
            next=back,
            original=obj,
            broadcast=obj,
            transition=t,
            change_url=change_url,
            refusal=refusal,
        )
        return response or HttpResponseRedirect(back)

    def mine_view(self, request):
        """The person's own broadcasts with their status and the reviewer's reason."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        rows = [(b, self._change_url(b), status_badge(b), send_time_column(b)) for b in selectors.broadcasts_by(request.user)]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("My broadcasts"),
            "rows": rows,
            "platform_zone": platform_zone_name(),
        }
        return TemplateResponse(request, "admin/broadcasts/broadcast/mine.html", context)

    def review_view(self, request, object_id):
        obj, redirect = self._object_or_redirect(request, object_id)
        if redirect:
            return redirect
        context = {
            **self.admin_site.each_context(request),
            **review_context(request, obj),
            "opts": self.opts,
            "title": _("Review “%(title)s”") % {"title": obj.title},
            "original": obj,
            "media": self.media + ApproveForm().media,
        }
        return TemplateResponse(request, "admin/broadcasts/broadcast/review.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        extra = dict(extra_context or {})
        if obj is not None and self.has_view_permission(request, obj):
            extra.update(
                # The action bar, redrawn by the poll while the broadcast is live (live.py).
                **action_bar(request.user, obj, here=request.get_full_path()),
                actions_live=is_live(obj),
                progress_url=reverse("admin:broadcasts_broadcast_progress", current_app=self.admin_site.name),
                history=selectors.broadcast_history(obj),
                review_url=reverse("admin:broadcasts_broadcast_review", args=[obj.pk], current_app=self.admin_site.name),
                deliveries_url=reverse("admin:broadcasts_delivery_changelist", current_app=self.admin_site.name)
                + f"?broadcast_id={obj.pk}",
                platform_zone=platform_zone_name(),
                submit_with_form=self.has_change_permission(request, obj),
                eligibility_warnings=eligibility_warnings(obj),
            )
        return super().change_view(request, object_id, form_url, extra_context=extra)


def eligibility_warnings(b: Broadcast) -> list[str]:
    """What approval would refuse today but may accept by the send time (before approval only)."""
    if b.status not in (Broadcast.Status.DRAFT, Broadcast.Status.PENDING_REVIEW):
        return []
    return [w.message for w in services.eligibility_report(b).warnings]


def custom_menu(account) -> list[MenuItem]:
    """The account's custom menu, top-level items with their children, in menu order (R6)."""
    if not account.has_custom_menu:
        return []
    return list(
        MenuItem.objects.filter(account=account, parent=None)
        .prefetch_related(Prefetch("children", queryset=MenuItem.objects.order_by("position", "id")))
        .order_by("position", "id")
    )


REVIEW_OPENIDS = 20  # the openids of a follower list the review page names


def review_context(request, b: Broadcast) -> dict:
    """What a reviewer sees: the preview, findings, audience size, quota position and the decisions."""
    account = b.account
    certification = account.current_certification(b.send_time) if account.is_service else None
    suspended = account.is_suspended(b.send_time)
    openids = selectors.recipient_openids(b) if b.audience == Broadcast.Audience.FOLLOWERS else []
    return {
        "broadcast": b,
        "account": account,
        # A follower list: how many openids, the first REVIEW_OPENIDS of them and how many more.
        "recipient_count": len(openids),
        "recipient_openids": openids[:REVIEW_OPENIDS],
        "recipients_more": max(len(openids) - REVIEW_OPENIDS, 0),
        "folded": account.folds_messages,
        "has_custom_menu": account.has_custom_menu,
        "menu": custom_menu(account),
        "findings": [finding_text(f) for f in (b.findings or [])],
        "audience_size": selectors.audience_size(b),
        "quota_text": quota_position_text(b),
        "send_time_text": send_time_text(b),
        "submitted_text": format_moment(b.submitted_at, zone=False),
        "preview_time": clock_text(b.scheduled_at or timezone.now()),
        "certification": certification,
        "certified_until_text": format_moment(certification.valid_until, zone=False, date_only=True)
        if certification else "",
        "needs_certification": b.needs_advanced_interface,
        "suspended": suspended,
        "suspended_until_text": format_moment(account.suspended_until, zone=False) if suspended else "",
        "is_author": b.created_by_id is not None and b.created_by_id == request.user.pk,
        "changed_content": request.user.pk in selectors.content_changers(b),
        "transitions": transition_buttons(request.user, b),
        "eligibility_warnings": eligibility_warnings(b),
        "history": selectors.broadcast_history(b),
        "change_url": reverse("admin:broadcasts_broadcast_change", args=[b.pk]),
        "queue_url": reverse("admin:broadcasts_pendingbroadcast_changelist"),
        "here": request.get_full_path(),
        "progress": progress_bar(b),
        "status_badge": status_badge(b),
        "platform_zone": platform_zone_name(),
        "article_host": moderation.browser_host(b.url) if b.url else "",  # the host a browser opens
    }
