"""Certification applications and decisions (R4: the advanced mass interface is open to certified
service accounts), and their expiry."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from operator_console.platform_time import format_moment

from ..exceptions import (
    AlreadyCertified,
    CertificationPending,
    InvalidInput,
    InvalidState,
    ReasonRequired,
)
from ..models import (
    CERTIFICATION_VALIDITY,
    AuditEvent,
    Certification,
    OfficialAccount,
)
from .audit import record_event


def _require_reason(reason: str, refusal: str) -> str:
    """The reason stripped; `refusal` is the whole sentence said when there is none."""
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired(refusal)
    return reason


def _locked_certification(cert: Certification, *, status: str, refusal: str) -> Certification:
    """Lock the certification (callers lock its account first where the order matters) and refuse with invalid_state
    unless it is in `status`. `refusal` is the whole translated sentence, with %(id)s, %(account)s and %(status)s."""
    cert = Certification.objects.select_for_update().select_related("account").get(pk=cert.pk)
    if cert.status != status:
        raise InvalidState(
            refusal % {"id": cert.pk, "account": cert.account.name, "status": cert.get_status_display().lower()}
        )
    return cert


@transaction.atomic
def submit_certification(account: OfficialAccount, *, legal_name: str, registration_number: str, by) -> Certification:
    """Open a pending certification application. Raises invalid_input, certification_pending."""
    legal_name, registration_number = (legal_name or "").strip(), (registration_number or "").strip()
    if not legal_name or not registration_number:
        raise InvalidInput(_("A certification application needs the organisation's legal name and registration number."))
    account = OfficialAccount.objects.select_for_update().get(pk=account.pk)
    if account.certifications.filter(status=Certification.Status.PENDING).exists():
        raise CertificationPending(
            _("“%(account)s” already has a certification application waiting for review.") % {"account": account.name}
        )
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
    cert = _locked_certification(cert, status=Certification.Status.PENDING, refusal=_(
        "Certification #%(id)s of “%(account)s” is %(status)s; only pending applications can be approved."
    ))
    current = Certification.objects.filter(account_id=cert.account_id, status=Certification.Status.APPROVED).first()
    if current is not None:
        raise AlreadyCertified(
            _(
                "“%(account)s” already holds certification #%(id)s, valid until %(until)s; "
                "revoke it first or approve the renewal after it expires."
            )
            % {"account": cert.account.name, "id": current.pk, "until": format_moment(current.valid_until)}
        )
    now = timezone.now()
    if valid_from is not None and valid_from + CERTIFICATION_VALIDITY <= now:
        # It would be approved and already over, yet still block the account's next approval.
        raise InvalidInput(
            _("A certification valid from %(start)s would have expired on %(end)s; choose a later start.")
            % {"start": format_moment(valid_from), "end": format_moment(valid_from + CERTIFICATION_VALIDITY)}
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
    reason = _require_reason(
        reason, _("Give a reason to reject a certification; the account owner is told why.")
    )
    cert = _locked_certification(cert, status=Certification.Status.PENDING, refusal=_(
        "Certification #%(id)s of “%(account)s” is %(status)s; only pending applications can be rejected."
    ))
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
    reason = _require_reason(
        reason, _("Give a reason to revoke a certification; the account owner is told why.")
    )
    cert = _locked_certification(cert, status=Certification.Status.APPROVED, refusal=_(
        "Certification #%(id)s of “%(account)s” is %(status)s; only approved certifications can be revoked."
    ))
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


