"""Every state change of accounts, followers and certifications.

Admin actions, tasks and commands call these; nothing else writes these fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from operator_console.platform_time import format_moment

from . import sql
from .exceptions import (
    AccountNotFound,
    AlreadyCertified,
    BatchTooLarge,
    CertificationPending,
    DomainError,
    FollowerNotFound,
    InvalidInput,
    InvalidState,
    ReasonRequired,
    TimeInFuture,
)
from .models import CERTIFICATION_VALIDITY, AuditEvent, Certification, Follower, FollowerEvent, OfficialAccount


def record_event(obj, *, by, verb: AuditEvent.Verb, account: OfficialAccount | None = None, note: str = "") -> AuditEvent:
    """Append one row to the audit log; `by=None` records that a system job acted.

    `verb` is an AuditEvent.Verb (a value not in it raises ValueError: verbs are not free text).
    """
    return AuditEvent.objects.create(
        by=by,
        verb=AuditEvent.Verb(verb),
        account=account if account is not None else getattr(obj, "account", None),
        object_type=obj._meta.model_name,
        object_id=obj.pk,
        note=note,
    )


def _require_reason(reason: str, action: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired(f"Give a reason to {action}; the account owner is told why.")
    return reason


def _locked_certification(cert: Certification, *, status: str, only: str) -> Certification:
    """Lock the certification (callers lock its account first where the order matters) and refuse with invalid_state
    unless it is in `status`; `only` ends the sentence ("only pending applications can be rejected")."""
    cert = Certification.objects.select_for_update().select_related("account").get(pk=cert.pk)
    if cert.status != status:
        raise InvalidState(
            f"Certification #{cert.pk} of “{cert.account.name}” is {cert.get_status_display().lower()}; {only}."
        )
    return cert


@transaction.atomic
def submit_certification(account: OfficialAccount, *, legal_name: str, registration_number: str, by) -> Certification:
    """Open a pending certification application. Raises invalid_input, certification_pending."""
    legal_name, registration_number = (legal_name or "").strip(), (registration_number or "").strip()
    if not legal_name or not registration_number:
        raise InvalidInput("A certification application needs the organisation's legal name and registration number.")
    account = OfficialAccount.objects.select_for_update().get(pk=account.pk)
    if account.certifications.filter(status=Certification.Status.PENDING).exists():
        raise CertificationPending(f"“{account.name}” already has a certification application waiting for review.")
    cert = Certification.objects.create(
        account=account, legal_name=legal_name, registration_number=registration_number, submitted_at=timezone.now()
    )
    record_event(cert, by=by, verb=AuditEvent.Verb.SUBMITTED)
    return cert


@transaction.atomic
def approve_certification(cert: Certification, *, by, valid_from: datetime | None = None) -> Certification:
    """Approve a pending application for one year from `valid_from` (default now).

    Raises invalid_state, already_certified, invalid_input (a validity already over).
    """
    # Lock order everywhere: account, then certification.
    OfficialAccount.objects.select_for_update().get(pk=cert.account_id)
    cert = _locked_certification(cert, status=Certification.Status.PENDING, only="only pending applications can be approved")
    current = Certification.objects.filter(account_id=cert.account_id, status=Certification.Status.APPROVED).first()
    if current is not None:
        raise AlreadyCertified(
            f"“{cert.account.name}” already holds certification #{current.pk}, valid until {format_moment(current.valid_until)}; "
            "revoke it first or approve the renewal after it expires."
        )
    now = timezone.now()
    if valid_from is not None and valid_from + CERTIFICATION_VALIDITY <= now:
        # It would be approved and already over, yet still block the account's next approval.
        raise InvalidInput(
            f"A certification valid from {format_moment(valid_from)} would have expired on "
            f"{format_moment(valid_from + CERTIFICATION_VALIDITY)}; choose a later start."
        )
    cert.valid_from = valid_from or now
    cert.valid_until = cert.valid_from + CERTIFICATION_VALIDITY
    cert.status = Certification.Status.APPROVED
    cert.reviewed_by = by
    cert.reviewed_at = now
    cert.save(update_fields=["status", "valid_from", "valid_until", "reviewed_by", "reviewed_at"])
    record_event(cert, by=by, verb=AuditEvent.Verb.APPROVED,
                 note=f"valid {format_moment(cert.valid_from)} – {format_moment(cert.valid_until)}")
    return cert


@transaction.atomic
def reject_certification(cert: Certification, *, by, reason: str) -> Certification:
    """Reject a pending application with a reason. Raises invalid_state, reason_required."""
    reason = _require_reason(reason, "reject a certification")
    cert = _locked_certification(cert, status=Certification.Status.PENDING, only="only pending applications can be rejected")
    cert.status = Certification.Status.REJECTED
    cert.reviewed_by = by
    cert.reviewed_at = timezone.now()
    cert.decision_note = reason
    cert.save(update_fields=["status", "reviewed_by", "reviewed_at", "decision_note"])
    record_event(cert, by=by, verb=AuditEvent.Verb.REJECTED, note=reason)
    return cert


@transaction.atomic
def revoke_certification(cert: Certification, *, by, reason: str) -> Certification:
    """Withdraw an approved certification at once. Raises invalid_state, reason_required."""
    reason = _require_reason(reason, "revoke a certification")
    cert = _locked_certification(cert, status=Certification.Status.APPROVED, only="only approved certifications can be revoked")
    cert.status = Certification.Status.REVOKED
    cert.decision_note = reason
    cert.save(update_fields=["status", "decision_note"])
    record_event(cert, by=by, verb=AuditEvent.Verb.REVOKED, note=reason)
    return cert


def expire_certifications(now: datetime | None = None) -> int:
    """Mark approved certifications whose validity has ended as expired; returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            Certification.objects.select_for_update(skip_locked=True)
            .filter(status=Certification.Status.APPROVED, valid_until__lte=now)
            .values_list("id", flat=True)
        )
        if not ids:
            return 0
        Certification.objects.filter(id__in=ids).update(status=Certification.Status.EXPIRED)
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(by=None, verb=AuditEvent.Verb.EXPIRED, account_id=account_id, object_type="certification", object_id=pk)
                for pk, account_id in Certification.objects.filter(id__in=ids).values_list("id", "account_id")
            ]
        )
    return len(ids)


@transaction.atomic
def suspend_account(account: OfficialAccount, *, by, until: datetime | None, reason: str) -> OfficialAccount:
    """Stop an account from broadcasting until `until` (None = until reinstated).

    Raises reason_required, invalid_input.
    """
    reason = _require_reason(reason, "suspend an account")
    if until is not None and until <= timezone.now():
        raise InvalidInput(f"A suspension must end in the future; {format_moment(until)} has passed.")
    account = OfficialAccount.objects.select_for_update().get(pk=account.pk)
    account.status = OfficialAccount.Status.SUSPENDED
    account.suspended_until = until
    account.suspension_reason = reason
    account.save(update_fields=["status", "suspended_until", "suspension_reason"])
    note = reason + (f" (until {format_moment(until)})" if until else " (until reinstated)")
    record_event(account, by=by, verb=AuditEvent.Verb.SUSPENDED, account=account, note=note)
    return account


@transaction.atomic
def reinstate_account(account: OfficialAccount, *, by) -> OfficialAccount:
    """Give a suspended account its sending rights back. Raises invalid_state."""
    account = OfficialAccount.objects.select_for_update().get(pk=account.pk)
    if account.status != OfficialAccount.Status.SUSPENDED:
        raise InvalidState(f"“{account.name}” is not suspended.")
    account.status = OfficialAccount.Status.ACTIVE
    account.suspended_until = None
    account.suspension_reason = ""
    account.save(update_fields=["status", "suspended_until", "suspension_reason"])
    record_event(account, by=by, verb=AuditEvent.Verb.REINSTATED, account=account)
    return account


def lift_expired_suspensions(now: datetime | None = None) -> int:
    """Reinstate accounts whose suspension has run out; returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            OfficialAccount.objects.select_for_update(skip_locked=True)
            .filter(status=OfficialAccount.Status.SUSPENDED, suspended_until__lte=now)
            .values_list("id", flat=True)
        )
        OfficialAccount.objects.filter(id__in=ids).update(
            status=OfficialAccount.Status.ACTIVE, suspended_until=None, suspension_reason=""
        )
        AuditEvent.objects.bulk_create(
            [AuditEvent(by=None, verb=AuditEvent.Verb.REINSTATED, account_id=i, object_type="officialaccount", object_id=i) for i in ids]
        )
    return len(ids)


# --- follows and unfollows (R8: every change is kept in FollowerEvent) ------------------------------

# The most events one call applies: one statement's worth, and the intake's batch limit.
FOLLOWER_EVENTS_MAX = 1000
# A batch is run again for the events whose new follower a concurrent batch made first (the
# second run finds it); once is enough, the bound only guards against a loop.
RACE_RERUNS = 3


class FollowerEventIn(NamedTuple):
    """One follow ("subscribe") or unfollow ("unsubscribe") of `openid` at the account `app_id`; `at` None: now."""

    app_id: str
    openid: str
    kind: str
    at: datetime | None = None


class EventResult(NamedTuple):
    """What apply_follower_events did with one event: "applied" (the follower changed), "unchanged"
    (a repeat, or older than what is known of the follower) or "refused" (`error` says why)."""

    status: str
    error: DomainError | None = None


APPLIED, UNCHANGED, REFUSED = "applied", "unchanged", "refused"


def follow(follower: Follower, *, at: datetime | None = None) -> Follower:
    """The follower follows from `at` (default now); following while following changes nothing, and so
    does a time older than the follower's last change. Raises time_in_future."""
    return _change_one(follower, FollowerEvent.Kind.SUBSCRIBE, at)


def unfollow(follower: Follower, *, at: datetime | None = None) -> Follower:
    """The follower unfollows at `at` (default now); unfollowing an unfollowed follower changes nothing, and
    so does a time older than the follower's last change. Raises time_in_future."""
    return _change_one(follower, FollowerEvent.Kind.UNSUBSCRIBE, at)


def _change_one(follower: Follower, kind: str, at: datetime | None) -> Follower:
    # One follower goes through the batch statement: one rule for the admin, imports and the platform.
    app_id = OfficialAccount.objects.values_list("app_id", flat=True).get(pk=follower.account_id)
    (result,) = apply_follower_events([FollowerEventIn(app_id, follower.openid, kind, at)])
    if result.error is not None:
        raise result.error
    follower.refresh_from_db(fields=["subscribed", "subscribed_at", "unsubscribed_at"])
    return follower


def apply_follower_events(events: Sequence[FollowerEventIn], *, now: datetime | None = None) -> list[EventResult]:
    """Apply up to FOLLOWER_EVENTS_MAX follows and unfollows in one statement, idempotently: the same
    events again change nothing. Returns one EventResult per event, in order.

    Per follower the newest event wins: an event older than the follower's last change changes
    nothing; a follow of an unknown openid makes the follower. Refused per event (in the results,
    not raised): account_not_found, follower_not_found (an unfollow of an unknown openid),
    time_in_future. Raises batch_too_large, invalid_input (a kind that is neither, a naive time).
    """
    now = now or timezone.now()
    if len(events) > FOLLOWER_EVENTS_MAX:
        raise BatchTooLarge(
            _("A batch holds at most %(max)d events; this one has %(count)d.")
            % {"max": FOLLOWER_EVENTS_MAX, "count": len(events)}
        )
    results: list[EventResult | None] = [None] * len(events)
    pending = []
    for pos, event in enumerate(events):
        at = now if event.at is None else event.at
        if event.kind not in FollowerEvent.Kind.values:
            raise InvalidInput(_("Event %(pos)d: the kind is “subscribe” or “unsubscribe”.") % {"pos": pos})
        if timezone.is_naive(at):
            raise InvalidInput(_("Event %(pos)d: the time has no time zone.") % {"pos": pos})
        if at > now:
            results[pos] = EventResult(REFUSED, TimeInFuture(
                _("The %(kind)s of %(openid)s is dated %(at)s, which is later than now.")
                % {"kind": _kind_word(event.kind), "openid": event.openid, "at": format_moment(at)}
            ))
            continue
        pending.append((pos, event.app_id, event.openid, event.kind, at))
    for _attempt in range(RACE_RERUNS):
        if not pending:
            break
        outcomes = sql.apply_events(pending, now=now)
        raced = [row for row in pending if outcomes[row[0]] == sql.Outcome.RACED]
        for row in pending:
            if outcomes[row[0]] != sql.Outcome.RACED:
                results[row[0]] = _event_result(outcomes[row[0]], app_id=row[1], openid=row[2])
        pending = raced
    if pending:
        raise RuntimeError(f"Follower events still racing after {RACE_RERUNS} runs: {pending[:3]}")
    return results


def _kind_word(kind: str) -> str:
    return _("follow") if kind == FollowerEvent.Kind.SUBSCRIBE else _("unfollow")


def _event_result(outcome: str, *, app_id: str, openid: str) -> EventResult:
    if outcome == sql.Outcome.APPLIED:
        return EventResult(APPLIED)
    if outcome == sql.Outcome.UNCHANGED:
        return EventResult(UNCHANGED)
    if outcome == sql.Outcome.UNKNOWN_ACCOUNT:
        return EventResult(REFUSED, AccountNotFound(
            _("No official account with app_id %(app_id)s.") % {"app_id": app_id}, app_id=app_id
        ))
    return EventResult(REFUSED, FollowerNotFound(
        _("Account %(app_id)s has no follower %(openid)s to unfollow.") % {"app_id": app_id, "openid": openid},
        app_id=app_id, openid=openid,
    ))
