"""The account quota (R2, R3, R3a): a broadcast holds one slot of its account's window from
approval on; reject and cancel give it back. Reads (position, usage) are in selectors."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from .. import selectors
from ..exceptions import QuotaExceeded
from ..models import QuotaReservation
from ..windows import window_for


def check_slot_free(broadcast, *, account, at: datetime):
    """The policy, window and taken slots of the window of `at`, when a slot is free there
    (approval takes it; the eligibility report warns ahead). Raises quota_exceeded, no_quota_policy.
    """
    policy = selectors.account_policy(account, at)
    window = window_for(policy.period, at)
    # An unsaved draft (the admin form asking ahead) holds no slot to leave out.
    taken = selectors.used_slots(account, policy, window, exclude_broadcast=broadcast if broadcast.pk else None)
    if len(taken) >= policy.limit:
        raise QuotaExceeded(
            selectors.quota_exceeded_message(account, policy, window, len(taken)),
            account=account.pk, policy=policy.pk, window=window.label, used=len(taken), limit=policy.limit,
        )
    return policy, window, taken


def reserve_slot(broadcast, *, account, at: datetime) -> QuotaReservation | None:
    """Take the lowest free slot of the account quota for the window of `at` (platform zone).

    The caller holds the account's row lock (locks.lock_broadcast), which serializes
    approvals of one account; the unique constraint on the slot is the safety net.
    Returns None when R3a does not count the broadcast. Raises quota_exceeded, no_quota_policy.
    """
    if not broadcast.counts_against_account_quota:
        return None
    policy, window, taken = check_slot_free(broadcast, account=account, at=at)
    # Fewer than `limit` slots are taken, so one of 1..limit is free even after ops lowered a limit.
    slot = min(set(range(1, policy.limit + 1)) - taken)
    try:
        with transaction.atomic():
            return QuotaReservation.objects.create(
                broadcast=broadcast, account=account, policy=policy,
                window_start=window.start, window_end=window.end, slot=slot,
            )
    except IntegrityError as exc:
        # Only reachable if a writer skipped the account lock: refuse rather than double-book.
        raise QuotaExceeded(
            selectors.quota_exceeded_message(account, policy, window, len(taken) + 1),
            account=account.pk, policy=policy.pk, window=window.label,
        ) from exc


def release_reservation(broadcast) -> bool:
    """Give the broadcast's slot back; True when it held one."""
    deleted, _ = QuotaReservation.objects.filter(broadcast_id=broadcast.pk).delete()
    return bool(deleted)


def move_reservation(broadcast, *, account, at: datetime) -> QuotaReservation | None:
    """Move the broadcast's slot to the window of `at`, atomically.

    If the new window is full, QuotaExceeded is raised and the old slot stays (the savepoint
    rolls the release back). Caller holds the account lock. Raises quota_exceeded, no_quota_policy.
    """
    current = QuotaReservation.objects.filter(broadcast_id=broadcast.pk).first()
    if broadcast.counts_against_account_quota and current is not None:
        policy = selectors.account_policy(account, at)
        if current.policy_id == policy.pk and current.window_start == window_for(policy.period, at).start:
            return current  # same window: keep the slot it already holds
    with transaction.atomic():
        release_reservation(broadcast)
        return reserve_slot(broadcast, account=account, at=at)
