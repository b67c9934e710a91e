"""An account's standing: suspension and reinstatement (R7's penalties use them) and its kind (R1)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from operator_console.platform_time import format_moment

from ..exceptions import (
    InvalidInput,
    InvalidState,
)
from ..models import (
    AuditEvent,
    OfficialAccount,
)
from .audit import record_event
from .certifications import _require_reason


@transaction.atomic
def suspend_account(account: OfficialAccount, *, by, until: datetime | None, reason: str) -> OfficialAccount:
    """Stop an account from broadcasting until `until` (None = until reinstated).

    Raises reason_required, invalid_input.
    """
    reason = _require_reason(reason, _("Give a reason to suspend an account; the account owner is told why."))
    if until is not None and until <= timezone.now():
        raise InvalidInput(_("A suspension must end in the future; %(until)s has passed.") % {"until": format_moment(until)})
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
        raise InvalidState(_("“%(account)s” is not suspended.") % {"account": account.name})
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


