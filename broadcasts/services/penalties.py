"""Violations and the penalties they bring (R7): points within a window suspend an account."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import AuditEvent, OfficialAccount
from accounts.services import record_event, suspend_account
from operator_console.platform_time import format_moment

from .. import selectors
from ..exceptions import InvalidState, ReasonRequired
from ..models import Broadcast, ContentRule, Violation
from .locks import lock_account


def record_violation(
    account: OfficialAccount, *, by, points: int, rule: ContentRule | None = None, broadcast: Broadcast | None = None
) -> Violation:
    """Record violation points and suspend the account when its points in the penalty window reach the threshold.

    The caller holds (or this takes) the account's row lock. Raises nothing.
    """
    with transaction.atomic():
        account = lock_account(account)
        violation = Violation.objects.create(account=account, broadcast=broadcast, rule=rule, points=points)
        record_event(violation, by=by, verb=AuditEvent.Verb.VIOLATION, account=account,
                     note=ngettext("%(n)d point", "%(n)d points", points) % {"n": points} + (f" for {rule}" if rule else ""))
        apply_penalties(account)
    return violation


def apply_penalties(account: OfficialAccount, *, now: datetime | None = None) -> OfficialAccount | None:
    """Suspend the account for BROADCAST_PENALTY_DAYS if its violation points within the last
    BROADCAST_PENALTY_WINDOW_DAYS reach BROADCAST_PENALTY_POINTS (R7); None if not suspended now."""
    now = now or timezone.now()
    days = settings.BROADCAST_PENALTY_WINDOW_DAYS
    threshold = settings.BROADCAST_PENALTY_POINTS
    points = selectors.violation_points(account, now=now)
    account.refresh_from_db(fields=["status", "suspended_until"])
    if points < threshold or account.is_suspended(now):
        return None
    return suspend_account(
        account,
        by=None,
        until=now + timedelta(days=settings.BROADCAST_PENALTY_DAYS),
        reason=(
            f"{points} violation points in the last {days} days reached the threshold of {threshold}; "
            f"broadcasting suspended for {settings.BROADCAST_PENALTY_DAYS} days"
        ),
    )


@transaction.atomic
def void_violation(violation: Violation, *, by, reason: str) -> Violation:
    """Void a violation (a bad rule, a wrong call): it stays on record, audited, and its points stop
    counting towards penalties (R7). A suspension already applied stays until ops reinstate the
    account or it ends. Raises reason_required, invalid_state (already voided).
    """
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired(_("Give a reason to void a violation; it is kept in the audit log."))
    # Lock order: the account (as record_violation and the review services), then the violation.
    account = lock_account(violation.account)
    v = Violation.objects.select_for_update().get(pk=violation.pk)
    if v.voided_at is not None:
        raise InvalidState(
            _("Violation #%(id)s of %(account)s was already voided on %(when)s.")
            % {"id": v.pk, "account": account.name, "when": format_moment(v.voided_at)}
        )
    v.voided_at = timezone.now()
    v.voided_by = by
    v.void_reason = reason
    v.save(update_fields=["voided_at", "voided_by", "void_reason"])
    points = selectors.violation_points(account, now=v.voided_at)
    record_event(
        v, by=by, verb=AuditEvent.Verb.VIOLATION_VOIDED, account=account,
        note=ngettext("%(n)d point no longer counts", "%(n)d points no longer count", v.points) % {"n": v.points}
        + f" ({points} in the penalty window now): {reason}",
    )
    return v
