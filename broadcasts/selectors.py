"""Reads of broadcasts, quotas and violations that the admin, the commands and the API share.

Selectors return QuerySets or plain data and write nothing. Quota rules are data with
effective dates (R3): `policy_in_force` is the one answer to "which rule governs this
account kind at t"; calendar windows come from broadcasts.windows.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import AuditEvent
from operator_console.platform_time import format_moment

from . import sql
from .exceptions import BroadcastNotFound, NoQuotaPolicy
from .lifecycle import FINISHED_STATUSES
from .models import (
    CLIENT_MSG_ID_WINDOW,
    RECIPIENTS_MAX,
    Broadcast,
    FollowerQuotaUsage,
    PushAttempt,
    QuotaPolicy,
    QuotaReservation,
    Violation,
)
from .windows import Window, next_window_opens, window_for

_PERIOD_WORDS = {
    QuotaPolicy.Period.DAY: gettext_lazy("calendar day"),
    QuotaPolicy.Period.WEEK: gettext_lazy("ISO week"),
    QuotaPolicy.Period.MONTH: gettext_lazy("calendar month"),
}


# --- drafts --------------------------------------------------------------------------------


# --- review and history -----------------------------------------------------------------


def review_queue() -> QuerySet[Broadcast]:
    """Broadcasts waiting for a reviewer, oldest submission first."""
    return (
        Broadcast.objects.filter(status=Broadcast.Status.PENDING_REVIEW)
        .select_related("account", "created_by", "tag")
        .order_by("submitted_at", "id")
    )


def broadcasts_by(user, *, limit: int = 200) -> QuerySet[Broadcast]:
    """The broadcasts `user` wrote, newest first (their "My broadcasts" page); served by the created_by FK index."""
    return (
        Broadcast.objects.filter(created_by=user).select_related("account", "reviewed_by")
        .defer("body", "findings").order_by("-created_at", "-id")[:limit]
    )


def broadcast_history(b: Broadcast) -> QuerySet[AuditEvent]:
    """The broadcast's audit events, oldest first."""
    return AuditEvent.objects.filter(object_type="broadcast", object_id=b.pk).select_related("by").order_by("at", "id")


def content_changers(b: Broadcast) -> set[int]:
    """Ids of everyone who wrote or changed the broadcast's content: its author and each person with
    a created or edited event in its audit history. Four eyes: none of them may approve it.

    The audit log is the record of who changed a draft (every change goes through a service that
    writes it); served by audit_object_idx (object_type, object_id).
    """
    ids = set(
        AuditEvent.objects.filter(
            object_type="broadcast", object_id=b.pk, verb__in=[AuditEvent.Verb.CREATED, AuditEvent.Verb.EDITED],
            by__isnull=False,
        ).values_list("by_id", flat=True)
    )
    if b.created_by_id is not None:
        ids.add(b.created_by_id)
    return ids


def push_attempts(b: Broadcast) -> tuple[int, PushAttempt | None]:
    """How many job-finished pushes of the broadcast were attempted, and the latest one."""
    attempts = PushAttempt.objects.filter(broadcast=b)
    return attempts.count(), attempts.order_by("-number").first()


def audience_size(b: Broadcast) -> int:
    """How many subscribed followers the broadcast reaches now, before the per-follower cap (R5):
    the same audience the dispatcher snapshots (broadcasts.sql.audience)."""
    return sql.fetch_one(sql.audience_count(b))[0]


def draft_audience_size(draft: Broadcast, *, recipient_ids: list[int] | None = None) -> int:
    """The audience size of a draft as a form holds it (unsaved): account, audience, tag and, for a
    follower list, the listed followers' ids. The same statement as audience_size."""
    return sql.fetch_one(sql.audience_count(draft, recipient_ids=recipient_ids))[0]


def recipient_openids(b: Broadcast) -> list[str]:
    """The openids of a follower-list broadcast's recipients, in follower order (at most RECIPIENTS_MAX)."""
    return list(b.recipients.order_by("id").values_list("openid", flat=True)[:RECIPIENTS_MAX])


def violation_points(account, *, now: datetime | None = None) -> int:
    """The account's violation points within the penalty window (R7) ending at `now`; voided ones do not count."""
    now = now or timezone.now()
    since = now - timedelta(days=settings.BROADCAST_PENALTY_WINDOW_DAYS)
    violations = Violation.objects.filter(account=account, created_at__gt=since, voided_at__isnull=True)
    total = violations.aggregate(total=Sum("points"))["total"]
    return total or 0


def progress(b: Broadcast) -> dict:
    """Counters, timings and rate of a broadcast (send_broadcast, broadcast_status, the admin).

    Keys: status, total, sent, filtered, failed, processed, batches_done, batch_count,
    started_at, finished_at, seconds, rate (recipients/s), finished.
    """
    processed = b.sent_count + b.filtered_count + b.error_count
    end = b.finished_at or (timezone.now() if b.started_at else None)
    seconds = (end - b.started_at).total_seconds() if b.started_at and end else None
    return {
        "status": b.status, "total": b.total_count, "sent": b.sent_count, "filtered": b.filtered_count,
        "failed": b.error_count, "processed": processed, "batches_done": b.batches_done,
        "batch_count": b.batch_count, "started_at": b.started_at, "finished_at": b.finished_at,
        "seconds": seconds, "rate": processed / seconds if seconds else None,
        "finished": b.status in FINISHED_STATUSES,
    }


def recent_broadcast_with_client_msg_id(account, client_msg_id: str, *, now: datetime | None = None) -> Broadcast | None:
    """The account's broadcast with this client message id made within CLIENT_MSG_ID_WINDOW
    before `now` (the newest), or None. Served by broadcast_client_msg_id_idx."""
    now = now or timezone.now()
    return (
        Broadcast.objects.filter(account=account, client_msg_id=client_msg_id, created_at__gt=now - CLIENT_MSG_ID_WINDOW)
        .order_by("-created_at")
        .first()
    )


def api_broadcast(account, broadcast_id: int) -> Broadcast:
    """The account's broadcast with this id made through the advanced mass interface.

    Raises broadcast_not_found, also for another account's broadcast or a console one: the API
    never tells a caller that a broadcast it did not make exists."""
    b = Broadcast.objects.filter(account=account, pk=broadcast_id, channel=Broadcast.Channel.API).first()
    if b is None:
        raise BroadcastNotFound(
            _("%(name)s has sent no broadcast with msg_id %(id)s through the API.")
            % {"name": account.name, "id": broadcast_id},
            account=account.pk, msg_id=broadcast_id,
        )
    return b


# The platform's mass-send job statuses (`/cgi-bin/message/mass/get`) by console status: waiting for
# a reviewer, approved and sending are all "SENDING"; a partial send is a success with errors (the
# job-finished event carries the counts); rejected, by a reviewer or by moderation, never went out.
MASS_STATUS = {
    Broadcast.Status.DRAFT: "SENDING",
    Broadcast.Status.PENDING_REVIEW: "SENDING",
    Broadcast.Status.APPROVED: "SENDING",
    Broadcast.Status.SENDING: "SENDING",
    Broadcast.Status.PAUSED: "SENDING",
    Broadcast.Status.SENT: "SEND_SUCCESS",
    Broadcast.Status.PARTIALLY_SENT: "SEND_SUCCESS",
    Broadcast.Status.FAILED: "SEND_FAIL",
    Broadcast.Status.REJECTED: "SEND_FAIL",
    Broadcast.Status.CANCELLED: "DELETE",
}


def mass_status(b: Broadcast) -> str:
    """The broadcast's status as the platform's mass-send API words it."""
    return MASS_STATUS[b.status]


# --- quota policies (R2, R3, R5) ---------------------------------------------------------


def _in_force(at: datetime) -> Q:
    return Q(effective_from__lte=at) & (Q(effective_until__isnull=True) | Q(effective_until__gt=at))


def follower_cap_position(follower, *, now: datetime | None = None) -> tuple[int, int] | None:
    """R5 for one follower now: (broadcasts it received from its account in the window in force, the
    cap), read from its FollowerQuotaUsage counter; None when no follower-scope policy applies."""
    now = now or timezone.now()
    policy = policy_in_force(follower.account.kind, QuotaPolicy.Scope.FOLLOWER, now)
    if policy is None:
        return None
    start = window_for(policy.period, now).start_date
    used = FollowerQuotaUsage.objects.filter(follower=follower, window_start=start).values_list("count", flat=True)
    return (used.first() or 0), policy.limit


def policy_in_force(kind: str, scope: str, at: datetime) -> QuotaPolicy | None:
    """The policy for this account kind and scope whose [effective_from, effective_until) contains `at`."""
    return QuotaPolicy.objects.filter(_in_force(at), kind=kind, scope=scope).order_by("-effective_from").first()


def account_policy(account, at: datetime) -> QuotaPolicy:
    """The account-scope policy (R2/R3) governing `account` at `at`. Raises no_quota_policy."""
    policy = policy_in_force(account.kind, QuotaPolicy.Scope.ACCOUNT, at)
    if policy is None:
        raise NoQuotaPolicy(
            _(
                "No account quota policy for the kind “%(kind)s” is in force at %(at)s; "
                "add one under Quota policies before approving broadcasts of %(account)s."
            )
            % {"kind": account.get_kind_display().lower(), "at": format_moment(at), "account": account.name},
            account=account.pk,
        )
    return policy


def describe_policy(policy: QuotaPolicy) -> str:
    """ "4 per calendar month" (account scope) or "4 per follower per calendar month"."""
    values = {"limit": policy.limit, "period": _PERIOD_WORDS.get(policy.period, policy.period)}
    if policy.scope == QuotaPolicy.Scope.FOLLOWER:
        return _("%(limit)s per follower per %(period)s") % values
    return _("%(limit)s per %(period)s") % values


def next_opens(policy: QuotaPolicy, window: Window) -> str:
    return next_window_opens(window, policy.effective_until)


def used_slots(account, policy: QuotaPolicy, window: Window, *, exclude_broadcast=None) -> set[int]:
    """The account-quota slots taken in the window (their numbers, 1..limit)."""
    qs = QuotaReservation.objects.filter(account=account, policy=policy, window_start=window.start)
    if exclude_broadcast is not None:
        qs = qs.exclude(broadcast=exclude_broadcast)
    return set(qs.values_list("slot", flat=True))


def quota_exceeded_message(account, policy: QuotaPolicy, window: Window, used: int) -> str:
    # The noun agrees with the limit: "1 of 1 broadcast", "4 of 4 broadcasts".
    return ngettext(
        "%(kind)s %(account)s has used %(used)s of %(limit)s broadcast for %(window)s under the rule of "
        "%(rule)s; next window opens %(opens)s.",
        "%(kind)s %(account)s has used %(used)s of %(limit)s broadcasts for %(window)s under the rule of "
        "%(rule)s; next window opens %(opens)s.",
        policy.limit,
    ) % {
        "kind": account.get_kind_display(),
        "account": account.name,
        "used": used,
        "limit": policy.limit,
        "window": window.describe(),
        "rule": describe_policy(policy),
        "opens": next_opens(policy, window),
    }


def quota_position(broadcast: Broadcast, at: datetime | None = None) -> dict:
    """Where the broadcast stands in its account quota, for the reviewer.

    Keys: counts, policy, window, used, limit, slot (held), would_be, fits,
    next_window_opens, text ("would be 3 of 4 for 2026-11 (Asia/Shanghai)").
    """
    account = broadcast.account
    reservation = QuotaReservation.objects.filter(broadcast_id=broadcast.pk).select_related("policy").first()
    result = {
        "counts": broadcast.counts_against_account_quota, "policy": None, "window": None, "used": 0,
        "limit": None, "slot": None, "would_be": None, "fits": True, "next_window_opens": None, "text": "",
    }
    if reservation is not None:
        policy = reservation.policy
        window = window_for(policy.period, reservation.window_start)
        used = len(used_slots(account, policy, window))
        result.update(policy=policy, window=window, used=used, limit=policy.limit, slot=reservation.slot,
                      next_window_opens=next_opens(policy, window),
                      text=_("holds slot %(slot)s of %(limit)s for %(window)s")
                      % {"slot": reservation.slot, "limit": policy.limit, "window": window.describe()})
        return result
    if not broadcast.counts_against_account_quota:
        follower_policy = policy_in_force(account.kind, QuotaPolicy.Scope.FOLLOWER, at or broadcast.send_time)
        text = _("not counted in the account quota: a targeted API send is bounded by the follower cap")
        if follower_policy:
            text = _("%(text)s (%(rule)s)") % {"text": text, "rule": describe_policy(follower_policy)}
        result["text"] = text
        return result
    send_time = max(at or broadcast.send_time, timezone.now())
    policy = policy_in_force(account.kind, QuotaPolicy.Scope.ACCOUNT, send_time)
    if policy is None:
        result.update(fits=False, text=_("no account quota policy in force at %(at)s") % {"at": format_moment(send_time)})
        return result
    window = window_for(policy.period, send_time)
    used = len(used_slots(account, policy, window))
    fits = used < policy.limit
    opens = next_opens(policy, window)
    text = (
        _("would be %(n)s of %(limit)s for %(window)s") % {"n": used + 1, "limit": policy.limit, "window": window.describe()}
        if fits
        else _("window full: %(used)s of %(limit)s used for %(window)s; next window opens %(opens)s")
        % {"used": used, "limit": policy.limit, "window": window.describe(), "opens": opens}
    )
    result.update(policy=policy, window=window, used=used, limit=policy.limit, would_be=used + 1 if fits else None,
                  fits=fits, next_window_opens=opens, text=text)
    return result


def account_quota_usage(account, at: datetime) -> list[dict]:
    """Every policy in force for the account's kind at `at`, with its window and usage.

    Account scope: `used` slots of `limit`. Follower scope: `used` is the most any
    one follower has received in the window, `at_cap` how many followers reached the limit.
    """
    rows = []
    seen = set()
    for policy in QuotaPolicy.objects.filter(_in_force(at), kind=account.kind).order_by("scope", "-effective_from"):
        if policy.scope in seen:
            continue  # overlapping policies are refused by validation; the newest wins as in policy_in_force
        seen.add(policy.scope)
        window = window_for(policy.period, at)
        row = {"policy": policy, "scope": policy.scope, "rule": describe_policy(policy), "window": window,
               "limit": policy.limit, "next_window_opens": next_opens(policy, window), "at_cap": None}
        if policy.scope == QuotaPolicy.Scope.ACCOUNT:
            row["used"] = len(used_slots(account, policy, window))
        else:
            usage = FollowerQuotaUsage.objects.filter(
                follower__account=account, window_start=window.start_date
            ).aggregate(most=Max("count"), at_cap=Count("id", filter=Q(count__gte=policy.limit)))
            row["used"] = usage["most"] or 0
            row["at_cap"] = usage["at_cap"]
        rows.append(row)
    return rows
