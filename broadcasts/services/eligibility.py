"""Whether an account may send a broadcast at a given moment: account status (R7) and the
certification gate of the advanced mass interface (R4). Approval, rescheduling and dispatch
all ask here, so the same sentence refuses at every step."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from accounts.models import Certification, OfficialAccount
from operator_console.platform_time import as_platform_time, format_moment

from ..exceptions import AccountSuspended, CertificationRequired
from ..models import Broadcast


def send_time(send_at: datetime | None) -> datetime:
    """The moment a broadcast goes out: `send_at` (naive = platform wall clock), or now when empty or past."""
    now = timezone.now()
    return now if send_at is None else max(as_platform_time(send_at), now)


def kind_and_name(account: OfficialAccount) -> str:
    """ "Service account Acme"."""
    return f"{account.get_kind_display()} {account.name}"


def _certification_status(account: OfficialAccount, at: datetime) -> str:
    """Why the account is not certified at `at`, in a few words."""
    certs = list(account.certifications.order_by("-submitted_at", "-id")[:20])
    approved = next((c for c in certs if c.status == Certification.Status.APPROVED), None)
    if approved is not None:
        if approved.valid_from > at:
            return f"certification #{approved.pk} only starts on {format_moment(approved.valid_from)}"
        return f"certification #{approved.pk} runs out on {format_moment(approved.valid_until)}, before the send time"
    if not certs:
        return "it has never been certified"
    last = certs[0]
    if last.status == Certification.Status.EXPIRED:
        return f"certification #{last.pk} expired on {format_moment(last.valid_until)}"
    if last.status == Certification.Status.REVOKED:
        return f"certification #{last.pk} was revoked" + (f": {last.decision_note}" if last.decision_note else "")
    if last.status == Certification.Status.PENDING:
        return f"certification application #{last.pk} is still pending"
    return f"certification application #{last.pk} was rejected"


def _advanced_what(b: Broadcast) -> str:
    if b.audience == Broadcast.Audience.TAG:
        return "a broadcast to a tag"
    if b.audience == Broadcast.Audience.FOLLOWERS:
        return "a broadcast to a list of followers"
    return "a broadcast through the advanced mass interface (API)"


def check_can_send(account: OfficialAccount, b: Broadcast, at: datetime) -> None:
    """Account status (R7) and the certification gate (R4) at the send time `at`.

    Raises account_suspended, certification_required.
    """
    if account.is_suspended(at):
        until = f"until {format_moment(account.suspended_until)}" if account.suspended_until else "until reinstated"
        reason = f", reason: {account.suspension_reason}" if account.suspension_reason else ""
        raise AccountSuspended(
            f"{kind_and_name(account)} is suspended {until}{reason}; it cannot broadcast at {format_moment(at)}.",
            account=account.pk,
        )
    if b.needs_advanced_interface:
        what = _advanced_what(b)
        if not account.is_service:
            raise CertificationRequired(
                f"{kind_and_name(account)} cannot send {what}: the advanced mass interface is open only to "
                "certified service accounts.",
                account=account.pk,
            )
        if not account.is_certified(at=at):
            raise CertificationRequired(
                f"{kind_and_name(account)} has no certification valid at {format_moment(at)} "
                f"({_certification_status(account, at)}); {what} needs a certified service account.",
                account=account.pk,
            )
