"""Every state change of accounts, followers and certifications.

Admin actions, tasks and commands call these; nothing else writes these fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from operator_console.platform_time import format_moment

from .exceptions import AlreadyCertified, CertificationPending, InvalidInput, InvalidMenu, InvalidState, ReasonRequired
from .models import CERTIFICATION_VALIDITY, AuditEvent, Certification, MenuItem, OfficialAccount

# A value longer than this is cut in an audit note (a content rule's pattern, a long note).
AUDIT_VALUE_MAX = 100


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


def _shown(field: models.Field | None, value: Any) -> str:
    """A field's value as a person reads it in the audit log: choice labels, related objects by name."""
    if value is None or value == "" or (isinstance(value, Iterable) and not isinstance(value, str) and not value):
        return "—"
    if field is not None and field.many_to_many:
        return ", ".join(sorted(str(v) for v in value))
    if field is not None and field.is_relation and not isinstance(value, models.Model):
        value = field.related_model._default_manager.filter(pk=value).first() or f"#{value}"
    elif field is not None and field.choices:
        value = dict(field.flatchoices).get(value, value)
    if isinstance(value, bool):
        value = _("yes") if value else _("no")
    elif isinstance(value, datetime):
        value = format_moment(value)
    text = str(value)
    return text if len(text) <= AUDIT_VALUE_MAX else text[: AUDIT_VALUE_MAX - 1] + "…"


def describe_changes(model: type[models.Model], changes: Iterable[tuple[str, Any, Any]], *, created: bool = False) -> str:
    """“name: old → new; kind: …” for (field name, old, new) triples; only the new values when `created`."""
    parts = []
    for name, old, new in changes:
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            field = None
        label = field.verbose_name if field is not None else name
        shown = _shown(field, new) if created else f"{_shown(field, old)} → {_shown(field, new)}"
        parts.append(f"{label}: {shown}")
    return "; ".join(parts)


def record_change(obj: models.Model, *, by, verb: AuditEvent.Verb, changes: Iterable[tuple[str, Any, Any]] = ()) -> AuditEvent:
    """Audit a change made by hand (the admin's forms): `changes` are (field name, old value, new value);
    a created object lists its values, a deleted one is named. The account is the object's own, or itself."""
    account = obj if isinstance(obj, OfficialAccount) else getattr(obj, "account", None)
    if verb == AuditEvent.Verb.DELETED:
        note = f"“{_shown(None, obj)}”"
    else:
        note = describe_changes(type(obj), changes, created=verb == AuditEvent.Verb.CREATED)
    return record_event(obj, by=by, verb=verb, account=account, note=note)


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


@transaction.atomic
def change_account_kind(account: OfficialAccount, *, by, kind: str, reason: str = "") -> OfficialAccount:
    """Switch an account between subscription and service (R1); its quota rule (R2/R3), folding and
    menu (R6) follow the kind. Audited with the old and new kind. Raises invalid_input, invalid_state.
    """
    if kind not in OfficialAccount.Kind.values:
        raise InvalidInput(_("Unknown account kind “%(kind)s”; use subscription or service.") % {"kind": kind},
                           field="kind")
    account = OfficialAccount.objects.select_for_update().get(pk=account.pk)
    if account.kind == kind:
        raise InvalidState(
            _("“%(name)s” is already a %(kind)s.") % {"name": account.name, "kind": account.get_kind_display().lower()},
            field="kind",
        )
    if kind == OfficialAccount.Kind.SUBSCRIPTION and account.menu_items.exists():
        raise InvalidState(
            _("Only service accounts have a custom menu; delete “%(name)s”'s menu before making it a subscription "
              "account.") % {"name": account.name},
            field="kind",
        )
    old = account.get_kind_display()
    account.kind = kind
    account.save(update_fields=["kind"])
    note = _("kind: %(old)s → %(new)s") % {"old": old, "new": account.get_kind_display()}
    reason = (reason or "").strip()
    if reason:
        note += "; " + _("reason: %(reason)s") % {"reason": reason}
    record_event(account, by=by, verb=AuditEvent.Verb.KIND_CHANGED, account=account, note=note)
    return account


@transaction.atomic
def save_menu_item(item: MenuItem, *, by) -> MenuItem:
    """Store a new or changed custom-menu item (R6). The menu is counted under its account's row lock, so
    people adding items at once never pass 3 top-level items or 5 sub-items; an item moved to another
    account takes its sub-items along (audited), so no item's account differs from its parent's.
    Raises invalid_menu (context `field`), invalid_state (changed or deleted meanwhile).
    """
    before = MenuItem.objects.filter(pk=item.pk).values_list("account_id", flat=True).first() if item.pk else None
    # Lock order: the accounts by id (a move touches two), then the item, as every account service does.
    list(OfficialAccount.objects.select_for_update().filter(pk__in={item.account_id, before} - {None}).order_by("pk"))
    if item.pk is not None:
        if MenuItem.objects.select_for_update().filter(pk=item.pk).values_list("account_id", flat=True).first() != before:
            raise InvalidState(
                _("The menu item “%(name)s” was moved or deleted meanwhile; reload the page.") % {"name": item.name}
            )
    # Read what the checks compare after the lock: the account's kind, the parent's account.
    item.account = OfficialAccount.objects.get(pk=item.account_id)
    if item.parent_id is not None:
        item.parent = MenuItem.objects.filter(pk=item.parent_id).first()
        if item.parent is None:
            raise InvalidMenu(_("The parent item was deleted meanwhile; choose another."), field="parent")
    if item.pk is not None and item.parent_id is not None and item.children.exists():
        raise InvalidMenu(
            _("“%(name)s” has sub-items, so it must stay a top-level item (a menu has two levels).") % {"name": item.name},
            field="parent",
        )
    try:
        item.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise InvalidMenu(messages[0], field=None if field == NON_FIELD_ERRORS else field) from None
    item.save()
    if before is not None and before != item.account_id:
        old_account = OfficialAccount.objects.get(pk=before)
        for child in item.children.select_for_update().order_by("pk"):
            child.account = item.account
            child.save(update_fields=["account"])
            record_change(child, by=by, verb=AuditEvent.Verb.EDITED, changes=[("account", old_account, item.account)])
    return item
