"""Every state change of accounts, followers and certifications.

Admin actions, tasks and commands call these; nothing else writes these fields.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from operator_console.platform_time import format_moment
from operator_console.text import Kind, clean_text

from .exceptions import AlreadyCertified, CertificationPending, InvalidInput, InvalidState, ReasonRequired
from .models import CERTIFICATION_VALIDITY, AuditEvent, Certification, OfficialAccount


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


def validate_follower(*, openid: str = "", nickname: str = "") -> dict:
    """A follower's openid and nickname as they would be stored (stripped), checked by the
    console's text hygiene rule (operator_console.text) without writing: the openid an
    identifier, the nickname one line. Raises unsafe_text (context `field`)."""
    return {
        "openid": clean_text((openid or "").strip(), kind=Kind.IDENTIFIER, label=_("The openid"), field="openid"),
        "nickname": clean_text((nickname or "").strip(), kind=Kind.LINE, label=_("The nickname"), field="nickname"),
    }


def validate_tag_name(name: str) -> str:
    """A tag name as it would be stored (stripped), checked by the text hygiene rule (one line,
    something visible) without writing. Raises unsafe_text (context `field` "name")."""
    return clean_text((name or "").strip(), kind=Kind.LINE, label=_("The tag name"), field="name")


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
