"""The review workflow: submit (with moderation, R7), approve (four eyes, R4, quota), reject,
cancel, reschedule. Each locks account then broadcast (see locks) and checks the status
against the one transition table (broadcasts.lifecycle) after the lock."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import AuditEvent
from accounts.services import record_event
from operator_console.platform_time import format_moment

from .. import lifecycle, moderation, selectors
from ..exceptions import ContentBlocked, FourEyes, InvalidState, NotAuthor, ReasonRequired
from ..lifecycle import Action
from ..models import Broadcast
from ..windows import window_for
from .drafts import CONTENT_FIELDS, refuse_stale_edit, validate_draft
from .eligibility import check_can_send, eligibility_report, refuse_past_send_time, send_time
from .locks import lock_broadcast
from .penalties import record_violation
from .quota import move_reservation, release_reservation, reserve_slot

Status = Broadcast.Status


def submit_broadcast(broadcast: Broadcast, *, by) -> Broadcast:
    """Screen a draft and queue it for review (draft -> pending_review, flag findings attached).

    Screening runs before the row locks are taken; a draft edited meanwhile is refused (invalid_state).
    What approval would certainly refuse (eligibility_report) is refused now, with the same sentence.
    A blocking rule rejects it at once and records a violation; both are committed
    before ContentBlocked is raised. Raises invalid_state, invalid_content, invalid_audience, content_blocked,
    certification_required (a subscription account's targeted send), send_time_past.
    """
    content, findings = _screen_unlocked(broadcast)
    blocked = None
    with transaction.atomic():
        account, b = lock_broadcast(broadcast)
        lifecycle.require(b, Action.SUBMIT)
        if moderation.screened_content(b) != content:
            raise InvalidState(
                _("“%(title)s” was edited while it was being screened; submit it again.") % {"title": b.title}
            )
        ids = list(b.recipients.values_list("id", flat=True)) if b.audience == Broadcast.Audience.FOLLOWERS else []
        validate_draft(account, recipients=ids, **{name: getattr(b, name) for name in CONTENT_FIELDS})
        eligibility_report(b, account=account).raise_refusal()  # what approval would certainly refuse
        blocks = [f for f in findings if f.is_block]
        now = timezone.now()
        b.submitted_at = now
        b.findings = [f.as_dict() for f in findings]
        if not blocks:
            b.status = Status.PENDING_REVIEW
            b.save(update_fields=["status", "submitted_at", "findings"])
            # Stored in the audit log as written (not translated on display), so English with its plural.
            note = f"{len(findings)} moderation finding{'s' if len(findings) != 1 else ''}" if findings else ""
            record_event(b, by=by, verb=AuditEvent.Verb.SUBMITTED, note=note)
            return b
        worst = blocks[0]  # the blocking rule with the most points
        b.status = Status.REJECTED
        b.reviewed_by = None
        b.reviewed_at = now
        b.review_note = "Rejected automatically by moderation: matches " + "; ".join(f.describe() for f in blocks) + "."
        b.save(update_fields=["status", "submitted_at", "findings", "reviewed_by", "reviewed_at", "review_note"])
        record_event(b, by=by, verb=AuditEvent.Verb.SUBMITTED)
        record_event(b, by=None, verb=AuditEvent.Verb.REJECTED, note=b.review_note)
        record_violation(account, by=None, points=worst.rule.points, rule=worst.rule, broadcast=b)
        blocked = ContentBlocked(
            _("“%(title)s” was rejected: it matches %(rule)s; ") % {"title": b.title, "rule": worst.describe()}
            + ngettext("%(name)s receives %(points)d violation point.", "%(name)s receives %(points)d violation points.",
                       worst.rule.points) % {"name": account.name, "points": worst.rule.points},
            broadcast=b.pk, rule=worst.rule.pk,
        )
    # Outside the atomic block: the rejection and the violation stay committed.
    raise blocked


def _screen_unlocked(broadcast: Broadcast) -> tuple[tuple[str, ...], list[moderation.Finding]]:
    """The content of a fresh, unlocked read of the draft and its findings. No row lock is held while
    the rules run, so no other submission or approval of the account waits on them; submit_broadcast
    then checks under its locks that the content is unchanged (an edit of a draft locks its row).
    """
    current = Broadcast.objects.get(pk=broadcast.pk)
    lifecycle.require(current, Action.SUBMIT)  # fail fast; checked again under the lock
    return moderation.screened_content(current), moderation.screen_broadcast(current)


def _require_four_eyes(b: Broadcast, by) -> None:
    """Nobody who wrote or changed the broadcast's content approves it (four eyes). Raises four_eyes."""
    if by is None or by.pk not in selectors.content_changers(b):
        return
    if b.created_by_id == by.pk:
        raise FourEyes(
            _("“%(title)s” was written by %(name)s; another reviewer must approve it (four eyes).")
            % {"title": b.title, "name": by.get_username()}
        )
    raise FourEyes(
        _("“%(title)s” was edited by %(name)s; someone who did not change its content must approve it (four eyes).")
        % {"title": b.title, "name": by.get_username()}
    )


@transaction.atomic
def approve_broadcast(
    broadcast: Broadcast, *, by, send_at: datetime | None = None, note: str = "", expected_version: str | None = None
) -> Broadcast:
    """Approve for sending at `send_at` (default its scheduled time; a past one of its own means now), taking a
    quota slot. A `send_at` more than SEND_TIME_GRACE in the past is refused (a typo, not "now").
    `note` is added to the audit trail (the system's approvals name the credential they act for).
    With `expected_version` (draft_version of what the reviewer saw) a broadcast changed since is refused.

    Raises invalid_state, edit_conflict, four_eyes, send_time_past, account_suspended, certification_required, quota_exceeded,
    no_quota_policy.
    """
    account, b = lock_broadcast(broadcast)
    lifecycle.require(b, Action.APPROVE)
    refuse_stale_edit(b, expected_version, approving=True)
    _require_four_eyes(b, by)
    refuse_past_send_time(send_at)
    at = send_time(send_at or b.scheduled_at)
    check_can_send(account, b, at)
    release_reservation(b)  # a pending broadcast holds none; never let a stale one block a slot
    reservation = reserve_slot(b, account=account, at=at)
    b.status = Status.APPROVED
    b.scheduled_at = at
    b.reviewed_by = by
    b.reviewed_at = timezone.now()
    b.save(update_fields=["status", "scheduled_at", "reviewed_by", "reviewed_at"])
    note = "; ".join(filter(None, [note, f"send at {format_moment(at)}"]))
    if reservation is not None:
        window = window_for(reservation.policy.period, at)
        note += f"; slot {reservation.slot} of {reservation.policy.limit} for {window.describe()}"
    record_event(b, by=by, verb=AuditEvent.Verb.APPROVED, note=note)
    return b


@transaction.atomic
def withdraw_broadcast(broadcast: Broadcast, *, by) -> Broadcast:
    """The author takes a broadcast pending review back to draft, to change it and submit again.

    Raises not_author, invalid_state.
    """
    account, b = lock_broadcast(broadcast)
    lifecycle.require(b, Action.WITHDRAW)
    if by is None or b.created_by_id != by.pk:
        raise NotAuthor(
            _("Only the author of “%(title)s” can withdraw it to draft; a reviewer rejects it instead, with a reason.")
            % {"title": b.title}
        )
    b.status = Status.DRAFT
    b.submitted_at = None
    b.save(update_fields=["status", "submitted_at"])
    record_event(b, by=by, verb=AuditEvent.Verb.WITHDRAWN)
    return b


@transaction.atomic
def reject_broadcast(broadcast: Broadcast, *, by, reason: str) -> Broadcast:
    """Reject a broadcast pending review, or withdraw an approval before sending; gives its slot back.

    Raises reason_required, invalid_state.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired(_("Give a reason to reject a broadcast; the author is told why."))
    account, b = lock_broadcast(broadcast)
    lifecycle.require(b, Action.REJECT)
    release_reservation(b)
    b.status = Status.REJECTED
    b.reviewed_by = by
    b.reviewed_at = timezone.now()
    b.review_note = reason
    b.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    record_event(b, by=by, verb=AuditEvent.Verb.REJECTED, note=reason)
    return b


@transaction.atomic
def cancel_broadcast(broadcast: Broadcast, *, by, note: str = "") -> Broadcast:
    """Cancel a broadcast. Before sending its slot is given back; while sending or paused no
    further batch goes out and the slot stays used (messages went out). `note` is added to the
    audit trail. Raises invalid_state.
    """
    account, b = lock_broadcast(broadcast)
    lifecycle.require(b, Action.CANCEL)
    if b.status in lifecycle.BEFORE_SENDING:
        released = release_reservation(b)
        what = "quota slot given back" if released else ""
        update_fields = ["status"]
    else:
        # The delivery engine checks the status between batches and stops.
        b.finished_at = timezone.now()
        what = f"stopped while {b.get_status_display().lower()}; {b.sent_count} sent so far"
        update_fields = ["status", "finished_at"]
    b.status = Status.CANCELLED
    b.save(update_fields=update_fields)
    record_event(b, by=by, verb=AuditEvent.Verb.CANCELLED, note="; ".join(filter(None, [note, what])))
    return b


@transaction.atomic
def reschedule_broadcast(broadcast: Broadcast, *, by, send_at: datetime) -> Broadcast:
    """Move an approved broadcast to `send_at` (up to SEND_TIME_GRACE in the past means now), moving its slot
    to that window.

    If the new window is full the old slot and time stay. Raises invalid_state, send_time_past,
    account_suspended, certification_required, quota_exceeded, no_quota_policy.
    """
    account, b = lock_broadcast(broadcast)
    lifecycle.require(b, Action.RESCHEDULE)
    refuse_past_send_time(send_at, empty_means_now=False)
    at = send_time(send_at)
    check_can_send(account, b, at)
    old = b.scheduled_at
    move_reservation(b, account=account, at=at)
    b.scheduled_at = at
    b.save(update_fields=["scheduled_at"])
    record_event(
        b, by=by, verb=AuditEvent.Verb.RESCHEDULED,
        note=f"from {format_moment(old) if old else 'now'} to {format_moment(at)}",
    )
    return b
