"""Whether an account may send a broadcast at a given moment: account status (R7) and the
certification gate of the advanced mass interface (R4). Approval, rescheduling and dispatch
all ask here, so the same sentence refuses at every step; `eligibility_report` asks the same
questions ahead, on save and on submit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Certification, OfficialAccount
from operator_console.errors import DomainError
from operator_console.platform_time import as_platform_time, format_moment

from ..exceptions import AccountSuspended, CertificationRequired, SendTimePast
from ..models import Broadcast
from .quota import check_slot_free

# A send time typed at approval or reschedule may lie this far in the past (the minutes spent on
# the page) and means now; further back it is a typo (2025 for 2026) and is refused.
SEND_TIME_GRACE = timedelta(minutes=5)


def refuse_past_send_time(send_at: datetime | None, *, empty_means_now: bool = True) -> None:
    """Raise send_time_past when `send_at` (naive = platform wall clock) is more than the grace in the past.

    `empty_means_now`: the sentence tells to leave the time empty to send now (approval; a
    reschedule needs a time, and says a time within the grace sends now).
    """
    if send_at is None or as_platform_time(send_at) >= timezone.now() - SEND_TIME_GRACE:
        return
    minutes = int(SEND_TIME_GRACE.total_seconds() // 60)
    if empty_means_now:
        message = ngettext(
            "The send time %(when)s is more than %(minutes)d minute in the past; check the date, or leave "
            "the send time empty to send now.",
            "The send time %(when)s is more than %(minutes)d minutes in the past; check the date, or leave "
            "the send time empty to send now.",
            minutes,
        )
    else:
        message = ngettext(
            "The send time %(when)s is more than %(minutes)d minute in the past; check the date (a time "
            "less than %(minutes)d minute ago sends now).",
            "The send time %(when)s is more than %(minutes)d minutes in the past; check the date (a time "
            "less than %(minutes)d minutes ago sends now).",
            minutes,
        )
    raise SendTimePast(message % {"when": format_moment(as_platform_time(send_at)), "minutes": minutes}, field="send_at")


def send_time(send_at: datetime | None) -> datetime:
    """The moment a broadcast goes out: `send_at` (naive = platform wall clock), or now when empty or past."""
    now = timezone.now()
    return now if send_at is None else max(as_platform_time(send_at), now)


def kind_and_name(account: OfficialAccount) -> str:
    """ "Service account Acme"."""
    return _("%(kind)s %(name)s") % {"kind": account.get_kind_display(), "name": account.name}


def _certification_status(account: OfficialAccount, at: datetime) -> str:
    """Why the account is not certified at `at`, in a few words."""
    certs = list(account.certifications.order_by("-submitted_at", "-id")[:20])
    approved = next((c for c in certs if c.status == Certification.Status.APPROVED), None)
    if approved is not None:
        if approved.valid_from > at:
            return _("certification #%(id)s only starts on %(start)s") % {"id": approved.pk, "start": format_moment(approved.valid_from)}
        return _("certification #%(id)s runs out on %(end)s, before the send time") % {
            "id": approved.pk,
            "end": format_moment(approved.valid_until),
        }
    if not certs:
        return _("it has never been certified")
    last = certs[0]
    if last.status == Certification.Status.EXPIRED:
        return _("certification #%(id)s expired on %(end)s") % {"id": last.pk, "end": format_moment(last.valid_until)}
    if last.status == Certification.Status.REVOKED:
        if last.decision_note:
            return _("certification #%(id)s was revoked: %(note)s") % {"id": last.pk, "note": last.decision_note}
        return _("certification #%(id)s was revoked") % {"id": last.pk}
    if last.status == Certification.Status.PENDING:
        return _("certification application #%(id)s is still pending") % {"id": last.pk}
    return _("certification application #%(id)s was rejected") % {"id": last.pk}


def _advanced_what(b: Broadcast) -> str:
    if b.audience == Broadcast.Audience.TAG:
        return _("a broadcast to a tag")
    if b.audience == Broadcast.Audience.FOLLOWERS:
        return _("a broadcast to a list of followers")
    return _("a broadcast through the advanced mass interface (API)")


def _suspended_sentence(account: OfficialAccount, at: datetime) -> str:
    """R7: why a suspended account cannot broadcast at `at`; one whole sentence per case."""
    values = {
        "account": kind_and_name(account),
        "at": format_moment(at),
        "reason": account.suspension_reason,
        "end": format_moment(account.suspended_until) if account.suspended_until else "",
    }
    if account.suspended_until and account.suspension_reason:
        return _("%(account)s is suspended until %(end)s, reason: %(reason)s; it cannot broadcast at %(at)s.") % values
    if account.suspended_until:
        return _("%(account)s is suspended until %(end)s; it cannot broadcast at %(at)s.") % values
    if account.suspension_reason:
        return _("%(account)s is suspended until reinstated, reason: %(reason)s; it cannot broadcast at %(at)s.") % values
    return _("%(account)s is suspended until reinstated; it cannot broadcast at %(at)s.") % values


def _send_problems(account: OfficialAccount, b: Broadcast, at: datetime) -> list[tuple[bool, DomainError]]:
    """Account status (R7) and the certification gate (R4) at `at`: (certain, refusal) pairs, in the
    order approval raises them. `certain`: nothing done before the send time lifts it."""
    problems = []
    if account.is_suspended(at):
        problems.append((False, AccountSuspended(_suspended_sentence(account, at), account=account.pk)))
    if b.needs_advanced_interface:
        what = _advanced_what(b)
        if not account.is_service:
            problems.append((True, CertificationRequired(
                _(
                    "%(account)s cannot send %(what)s: the advanced mass interface is open only to "
                    "certified service accounts."
                )
                % {"account": kind_and_name(account), "what": what},
                account=account.pk, field="audience",
            )))
        elif not account.is_certified(at=at):
            problems.append((False, CertificationRequired(
                _("%(account)s has no certification valid at %(at)s (%(why)s); %(what)s needs a certified service account.")
                % {
                    "account": kind_and_name(account),
                    "at": format_moment(at),
                    "why": _certification_status(account, at),
                    "what": what,
                },
                account=account.pk,
            )))
    return problems


def check_can_send(account: OfficialAccount, b: Broadcast, at: datetime) -> None:
    """Account status (R7) and the certification gate (R4) at the send time `at`.

    Raises account_suspended, certification_required.
    """
    for _certain, refusal in _send_problems(account, b, at):
        raise refusal


@dataclass(frozen=True)
class EligibilityReport:
    """What approval would say about a broadcast, asked ahead (on save and on submit).

    `refusals`: certain now (nothing before the send time lifts them); `warnings`: approval would
    refuse today, but that may change by the send time (a certification granted, a slot freed).
    """

    refusals: tuple[DomainError, ...] = ()
    warnings: tuple[DomainError, ...] = ()

    def raise_refusal(self) -> None:
        if self.refusals:
            raise self.refusals[0]


def eligibility_report(b: Broadcast, *, account: OfficialAccount | None = None,
                       at: datetime | None = None) -> EligibilityReport:
    """The checks approve_broadcast makes (check_can_send, the quota slot), made now for the send time
    `at` (default the broadcast's own; past or empty means now), sorted into certain and maybe.
    `b` may be unsaved (the admin form's draft). Writes nothing. A send time in the past is certain
    (send_time_past) for a draft; for a broadcast pending review it is a warning (approval sends it now).
    """
    account = account or b.account
    refusals, warnings = [], []
    if at is None and b.scheduled_at is not None and b.scheduled_at < timezone.now():
        if b.status == Broadcast.Status.PENDING_REVIEW:
            # It passed while the broadcast waited for review: approval sends it at once unless the
            # reviewer gives a new time (approve_broadcast), so the reviewer is told, not refused.
            warnings.append(SendTimePast(
                _("The send time %(when)s passed while this broadcast waited for review; approving sends it "
                  "at once unless you give a new send time.") % {"when": format_moment(b.scheduled_at)},
                field="scheduled_at",
            ))
        else:
            refusals.append(SendTimePast(
                _("The send time %(when)s is in the past; choose a later one, or leave it empty to send on "
                  "approval.") % {"when": format_moment(b.scheduled_at)},
                field="scheduled_at",
            ))
    moment = send_time(at or b.scheduled_at)
    for certain, refusal in _send_problems(account, b, moment):
        (refusals if certain else warnings).append(refusal)
    if b.counts_against_account_quota:
        try:
            check_slot_free(b, account=account, at=moment)
        except DomainError as exc:  # quota_exceeded, no_quota_policy: a slot or a policy may come
            warnings.append(exc)
    return EligibilityReport(tuple(refusals), tuple(warnings))
