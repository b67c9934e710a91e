"""The buttons and bulk actions that move a broadcast through its lifecycle.

Which status allows which transition is broadcasts.lifecycle.TABLE; this module adds what the
admin needs on top: the label, the permission each role needs, the form, the service to call
(looked up in broadcasts.services at call time) and the words of the report. Pages, calls and
reports go through operator_console.admin_actions.service_action, as in the accounts admin.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, ngettext_lazy

from operator_console.admin_actions import NoInputForm, referer_url, service_action

from .. import lifecycle, selectors, services
from ..exceptions import InvalidState
from ..forms import ApproveForm, RejectForm, RescheduleForm
from ..models import Broadcast
from .display import when_sent_text

Status = Broadcast.Status
Action = lifecycle.Action

APPROVE_PERM = "broadcasts.approve_broadcast"
SUBMIT_PERM = "broadcasts.submit_broadcast"
CONTROL_PERM = "broadcasts.control_delivery"


@dataclass(frozen=True)
class Transition:
    """One button / admin action that moves a broadcast through its lifecycle by calling a service."""

    action: Action  # its row in lifecycle.TABLE; also the URL segment
    label: str  # button text
    # The reports, each a whole sentence (translators see no fragments): one broadcast ("%(title)s",
    # and "%(when)s" for approve and reschedule), a bulk action (ngettext_lazy on "count"), a refusal
    # in a bulk action ("%(title)s", "%(status)s").
    done_one: str
    done_many: str
    refused: str
    service: str  # function name in broadcasts.services
    form_class: type = NoInputForm
    danger: bool = False
    help: str = ""

    @property
    def name(self) -> str:
        return str(self.action)

    @property
    def states(self) -> frozenset:
        """The statuses it starts from (lifecycle.TABLE)."""
        return lifecycle.TABLE[self.action].allowed_from

    def perms_for(self, status: str | None) -> tuple[str, ...]:
        """Any one of these permissions allows the transition (for this status, or for any)."""
        if self.action in (Action.SUBMIT, Action.WITHDRAW, Action.DUPLICATE):
            return (SUBMIT_PERM,)
        if self.action in (Action.PAUSE, Action.RESUME):
            return (CONTROL_PERM,)
        if self.action == Action.CANCEL:
            # Stopping a send is delivery control; withdrawing a broadcast before it sends is a review decision.
            if status in lifecycle.WHILE_SENDING:
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
        return lifecycle.allows(self.action, broadcast.status)

    @property
    def has_input(self) -> bool:
        return bool(self.form_class.base_fields)

    @property
    def asks_first(self) -> bool:
        """Opens its own page before acting: it asks for something, or it cannot be undone (cancel)."""
        return self.has_input or self.danger

    def form_class_for(self, b: Broadcast) -> type:
        """The form of a page that shows `b` (approval's carries the version shown: ApproveForm.for_broadcast)."""
        for_broadcast = getattr(self.form_class, "for_broadcast", None)
        return for_broadcast(b) if for_broadcast else self.form_class

    def call(self, broadcast: Broadcast, *, by, **kwargs) -> Broadcast:
        return getattr(services, self.service)(broadcast, by=by, **kwargs)

    def success_message(self, b: Broadcast) -> str:
        if self.action == Action.DUPLICATE:
            url = reverse("admin:broadcasts_broadcast_change", args=[b.pk])
            return format_html(_("Copied into a new draft: <a href=\"{}\">“{}” (#{})</a>."), url, b.title, b.pk)
        if self.action in (Action.APPROVE, Action.RESCHEDULE):
            return self.done_one % {"title": b.title, "when": when_sent_text(b)}
        return self.done_one % {"title": b.title}

    def bulk_success_message(self, done: list) -> str:
        return self.done_many % {"count": len(done)}

    def refusal_now(self, user, b: Broadcast) -> str | None:
        """Why `user` cannot run this on `b` as it is now, or None: its status does not allow it (the
        lifecycle's sentence: what a second click, a form resubmitted after Back or the other tab's
        earlier decision reads), or `user`'s role does not for this status."""
        try:
            lifecycle.require(b, self.action)
        except InvalidState as exc:
            return exc.message
        return self.refusal_for(user, b)

    def refusal_for(self, user, b: Broadcast) -> str | None:
        """Why `user` may not run this on `b` (a bulk action checks each row), or None."""
        if self.allowed(user, b):
            return None
        return self.refused % {"title": b.title, "status": b.get_status_display().lower()}


TRANSITIONS = {
    t.name: t
    for t in [
        Transition(Action.SUBMIT, gettext_lazy("Submit for review"),
                   gettext_lazy("“%(title)s” submitted for review."),
                   ngettext_lazy("%(count)d broadcast submitted for review.", "%(count)d broadcasts submitted for review.",
                                 "count"),
                   gettext_lazy("“%(title)s”: you may not submit a broadcast that is %(status)s for review."),
                   "submit_broadcast",
                   help=gettext_lazy("Screens the content and puts the broadcast in the review queue.")),
        Transition(Action.APPROVE, gettext_lazy("Approve"),
                   gettext_lazy("“%(title)s” approved; it will be sent %(when)s."),
                   ngettext_lazy("%(count)d broadcast approved.", "%(count)d broadcasts approved.", "count"),
                   gettext_lazy("“%(title)s”: you may not approve a broadcast that is %(status)s."),
                   "approve_broadcast",
                   form_class=ApproveForm, help=gettext_lazy("Reserves a quota slot for the send time's window.")),
        Transition(Action.REJECT, gettext_lazy("Reject"), gettext_lazy("“%(title)s” rejected."),
                   ngettext_lazy("%(count)d broadcast rejected.", "%(count)d broadcasts rejected.", "count"),
                   gettext_lazy("“%(title)s”: you may not reject a broadcast that is %(status)s."),
                   "reject_broadcast",
                   form_class=RejectForm, danger=True,
                   help=gettext_lazy("The author is told why; a held quota slot is given back.")),
        Transition(Action.RESCHEDULE, gettext_lazy("Reschedule"),
                   gettext_lazy("“%(title)s” rescheduled; it will be sent %(when)s."),
                   ngettext_lazy("%(count)d broadcast rescheduled.", "%(count)d broadcasts rescheduled.", "count"),
                   gettext_lazy("“%(title)s”: you may not reschedule a broadcast that is %(status)s."),
                   "reschedule_broadcast",
                   form_class=RescheduleForm,
                   help=gettext_lazy("Moves the quota slot to the new send time's window.")),
        Transition(Action.PAUSE, gettext_lazy("Pause sending"), gettext_lazy("“%(title)s” paused."),
                   ngettext_lazy("%(count)d broadcast paused.", "%(count)d broadcasts paused.", "count"),
                   gettext_lazy("“%(title)s”: you may not pause a broadcast that is %(status)s."),
                   "pause_broadcast",
                   help=gettext_lazy("No further batch starts until resumed.")),
        Transition(Action.RESUME, gettext_lazy("Resume sending"), gettext_lazy("“%(title)s” resumed."),
                   ngettext_lazy("%(count)d broadcast resumed.", "%(count)d broadcasts resumed.", "count"),
                   gettext_lazy("“%(title)s”: you may not resume a broadcast that is %(status)s."),
                   "resume_broadcast"),
        Transition(Action.WITHDRAW, gettext_lazy("Withdraw to draft"), gettext_lazy("“%(title)s” withdrawn to draft."),
                   ngettext_lazy("%(count)d broadcast withdrawn to draft.", "%(count)d broadcasts withdrawn to draft.",
                                 "count"),
                   gettext_lazy("“%(title)s”: you may not withdraw a broadcast that is %(status)s to draft."),
                   "withdraw_broadcast",
                   help=gettext_lazy("Takes it out of the review queue so that you can change it and submit again.")),
        Transition(Action.DUPLICATE, gettext_lazy("Duplicate as new draft"), gettext_lazy("“%(title)s” duplicated."),
                   ngettext_lazy("%(count)d broadcast duplicated.", "%(count)d broadcasts duplicated.", "count"),
                   gettext_lazy("“%(title)s”: you may not duplicate a broadcast that is %(status)s."),
                   "duplicate_broadcast",
                   help=gettext_lazy("A new draft with the same content and audience; this broadcast stays as it is.")),
        Transition(Action.CANCEL, gettext_lazy("Cancel"), gettext_lazy("“%(title)s” cancelled."),
                   ngettext_lazy("%(count)d broadcast cancelled.", "%(count)d broadcasts cancelled.", "count"),
                   gettext_lazy("“%(title)s”: you may not cancel a broadcast that is %(status)s."),
                   "cancel_broadcast", danger=True,
                   help=gettext_lazy(
                       "Before sending, its quota slot is given back; once sending, no further batch goes out."
                   )),
    ]
}


def _not_for(user, b: Broadcast, t: Transition) -> str | None:
    """Why the button of `t` is hidden from `user` although its role allows it (one line), or None."""
    if t.action == Action.APPROVE and user.pk in selectors.content_changers(b):
        return _("Approve is not offered: you wrote or changed this broadcast, so another reviewer approves it "
                 "(four eyes).")
    if t.action == Action.WITHDRAW and b.created_by_id != user.pk:
        return ""  # only the author withdraws; a reviewer rejects instead (the Reject button)
    return None


def available_transitions(user, b: Broadcast) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if t.applies_to(b) and t.allowed(user, b) and _not_for(user, b, t) is None]


def hidden_transition_notes(user, b: Broadcast) -> list[str]:
    """The one-line reasons for the buttons `user`'s role allows on `b` but the page does not offer."""
    notes = (_not_for(user, b, t) for t in TRANSITIONS.values() if t.applies_to(b) and t.allowed(user, b))
    return [note for note in notes if note]


def transition_buttons(user, b: Broadcast) -> list[tuple[Transition, object]]:
    """The transitions `user` may run on `b` now, each with its empty form (the page's buttons)."""
    return [(t, t.form_class_for(b)()) for t in available_transitions(user, b)]


class TransitionsMixin:
    """Bulk admin actions shared by the broadcast changelists (all broadcasts, the review queue)."""

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
        # Plain Broadcast rows (not proxies), so the services and the audit log see "broadcast".
        broadcasts = list(
            Broadcast.objects.filter(pk__in=queryset.values("pk")).select_related("account").order_by("pk")
        )
        n = len(broadcasts)
        return service_action(
            self, request, broadcasts, t.call,
            form_class=t.form_class,
            action=f"{name}_selected",
            refuse=lambda b: t.refusal_for(request.user, b),
            success=t.bulk_success_message,
            template="admin/broadcasts/broadcast/bulk_transition.html",
            title=ngettext("%(label)s: %(count)d broadcast", "%(label)s: %(count)d broadcasts", n) % {
                "label": t.label, "count": n,
            },
            submit_label=t.label,
            danger=t.danger,
            cancel_url=referer_url(request, request.get_full_path()),
            cancel_label=_("Back to the list"),
            transition=t,
        )


def _bulk_action(name: str, permission: str):
    t = TRANSITIONS[name]

    def action(modeladmin, request, queryset):
        return modeladmin.bulk_transition(request, queryset, name)

    action.__name__ = f"{name}_selected"
    description = format_lazy(gettext_lazy("{label} selected broadcasts"), label=t.label)
    return admin.action(description=description, permissions=[permission])(action)


submit_selected = _bulk_action("submit", "submit")
approve_selected = _bulk_action("approve", "approve")
reject_selected = _bulk_action("reject", "approve")
reschedule_selected = _bulk_action("reschedule", "approve")
cancel_selected = _bulk_action("cancel", "cancel")
pause_selected = _bulk_action("pause", "control")
resume_selected = _bulk_action("resume", "control")
duplicate_selected = _bulk_action("duplicate", "submit")
