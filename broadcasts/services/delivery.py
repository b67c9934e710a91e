"""Delivery of one batch, exactly once, and the broadcast's finish (the job-finished totals).

A batch row lock plus its `done` status make a duplicated, redelivered or requeued task a
no-op; the unique (broadcast, follower) constraints back that up. Transactional backends
(inbox) do the whole batch in one transaction (one statement on PostgreSQL); external ones
(webhook, locmem) claim the batch, hand it off with no transaction open, then record the
outcome. The README's "Delivery engine" section explains the design; the SQL is in
broadcasts.sql.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.services import record_event

from .. import selectors, sql
from ..backends import BaseBackend, OutgoingBatch, get_backend
from ..exceptions import SenderUnavailable
from ..models import Broadcast, Delivery, DeliveryBatch, FollowerQuotaUsage, QuotaPolicy
from ..windows import window_for
from .job_finished import queue_job_finished_push
from .locks import lock_batch

Status = Broadcast.Status
BatchStatus = DeliveryBatch.Status
# How much of a backend's error is kept on the batch (the full text is on each Delivery).
LAST_ERROR_CHARS = 1000


class Outcome:
    """What deliver_batch did with a batch (its return value)."""

    DELIVERED = "delivered"
    DUPLICATE = "duplicate"  # already done: a duplicated or redelivered task
    PAUSED = "paused"  # left pending for resume
    CANCELLED = "cancelled"  # closed, nothing sent
    BUSY = "busy"  # another worker holds it
    MISSING = "missing"


class Recorded(NamedTuple):
    """A batch's deliveries as recorded: who was sent to, and how many were sent / filtered / processed."""

    sent_ids: list[int]
    sent: int
    filtered: int
    processed: int


def cap_for(b: Broadcast) -> sql.Cap | None:
    """R5 for the broadcast at its send time; None when no follower-scope policy governs the
    account's kind then (subscription accounts, by the seeded rules)."""
    at = b.scheduled_at or b.started_at or timezone.now()
    policy = selectors.policy_in_force(b.account.kind, QuotaPolicy.Scope.FOLLOWER, at)
    if policy is None:
        return None
    return sql.Cap(window_start=window_for(policy.period, at).start_date, limit=policy.limit)


# A worker keeps what it needs of a sending broadcast (fields that do not change while it
# sends: account, audience, message, send time) and its R5 cap, so a batch costs no extra
# queries. Its status is never taken from here: the batch lock query reads it fresh.
# A quota policy edited by ops mid-send reaches batches within CONTEXT_SECONDS.
CONTEXT_SECONDS = 60.0
_contexts: dict[int, tuple[float, Broadcast, sql.Cap | None]] = {}


def _context(broadcast_id: int) -> tuple[Broadcast, sql.Cap | None]:
    now = time.monotonic()
    cached = _contexts.get(broadcast_id)
    if cached is None or now - cached[0] > CONTEXT_SECONDS:
        b = Broadcast.objects.select_related("account").get(pk=broadcast_id)
        if len(_contexts) >= 64:
            _contexts.clear()
        cached = _contexts[broadcast_id] = (now, b, cap_for(b))
    return cached[1], cached[2]


def _relax_commit() -> None:
    statement = sql.relax_commit()
    if statement is not None:
        sql.run(statement)


def deliver_batch(batch_id: int, *, final_attempt: bool = False) -> str:
    """Deliver one batch exactly once. Returns an Outcome value: "delivered", "duplicate",
    "paused", "cancelled", "busy" or "missing".

    Raises SenderUnavailable on a transient backend failure (the task retries), except on the
    final attempt, where the batch's followers are failed with the error kept.
    """
    now = timezone.now()
    claim = uuid.uuid4().hex
    stale_before = now - timedelta(seconds=settings.BROADCAST_BATCH_STALE_SECONDS)
    if sql.fetch_one(sql.heartbeat(batch_id, now=now, claim=claim, stale_before=stale_before)) is None:
        status = DeliveryBatch.objects.filter(pk=batch_id).values_list("status", flat=True).first()
        return {None: Outcome.MISSING, BatchStatus.DONE: Outcome.DUPLICATE, BatchStatus.SENDING: Outcome.BUSY}.get(
            status, Outcome.PAUSED
        )
    backend = get_backend()
    if backend.transactional:
        return _deliver_in_transaction(batch_id, backend)
    return _deliver_external(batch_id, backend, claim=claim, final_attempt=final_attempt)


def _lock_head(batch_id: int) -> tuple[DeliveryBatch, str] | None:
    """The batch row, locked, and its broadcast's status now; None when another worker holds it.
    On PostgreSQL one round trip, which also relaxes the commit."""
    if not sql.is_postgresql():
        batch = lock_batch(batch_id)
        return None if batch is None else (batch, batch.broadcast.status)
    row = sql.fetch_one(sql.lock_batch_head(batch_id))
    if row is None:
        return None
    return DeliveryBatch(pk=batch_id, **dict(zip(sql.BATCH_HEAD_FIELDS, row[2:], strict=True))), row[1]


def _deliver_in_transaction(batch_id: int, backend: BaseBackend) -> str:
    now = timezone.now()
    with transaction.atomic():
        head = _lock_head(batch_id)
        if head is None:
            return Outcome.BUSY
        batch, broadcast_status = head
        if batch.status == BatchStatus.DONE:
            return Outcome.DUPLICATE
        if broadcast_status == Status.PAUSED:
            return Outcome.PAUSED
        if broadcast_status != Status.SENDING:  # cancelled: no further batch goes out
            _complete_batch(batch, sent=0, filtered=0, failed=0, processed=0, now=now)
            return Outcome.CANCELLED
        b, cap = _context(batch.broadcast_id)
        backend_rows = backend.sent_rows_sql(_outgoing(batch, b, []))
        if backend_rows is not None and sql.is_postgresql():
            # The whole batch in one statement: cap, deliveries, the backend's rows, batch done, totals.
            *_, done, count = sql.fetch_one(
                sql.deliver_whole_batch(b, batch, cap, now=now, backend_rows=backend_rows)
            )
            if done >= count:
                finish_broadcast(b.pk, now)
            return Outcome.DELIVERED
        recorded = _record_deliveries(batch, b, cap, now)
        failures = {}
        if recorded.sent_ids:
            with backend:
                failures = _only(recorded.sent_ids, backend.send(_outgoing(batch, b, recorded.sent_ids)))
        failed = _record_failures(b, cap, failures) if failures else 0
        _complete_batch(
            batch, sent=recorded.sent - failed, filtered=recorded.filtered, failed=failed,
            processed=recorded.processed, now=now, last_error=next(iter(failures.values()), ""),
        )
    return Outcome.DELIVERED


def _claimed_followers(b: Broadcast, batch: DeliveryBatch) -> list[int]:
    """The followers an earlier attempt recorded as sent for this batch (a retry hands them over again)."""
    return list(
        Delivery.objects.filter(
            broadcast_id=b.pk, status=Delivery.Status.SENT,
            follower__gte=batch.first_follower_id, follower__lte=batch.last_follower_id,
        ).order_by("follower_id").values_list("follower_id", flat=True)
    )


def _deliver_external(batch_id: int, backend: BaseBackend, *, claim: str, final_attempt: bool) -> str:
    """Claim (Tx 1), hand off with no transaction open, record the outcome (Tx 2).

    `claim` is this attempt's token: a `sending` batch is handed off again only by the attempt
    that claimed it (deliver_batch's heartbeat takes over a claim only when it is stale), always
    with the batch's one Idempotency-Key.
    """
    # Tx 1: claim. The cap and the delivery rows are written once; a retry reuses them.
    with transaction.atomic():
        _relax_commit()
        batch = lock_batch(batch_id)
        if batch is None:
            return Outcome.BUSY
        if batch.status == BatchStatus.DONE:
            return Outcome.DUPLICATE
        b = batch.broadcast
        cap = cap_for(b)
        if batch.status == BatchStatus.PENDING:
            if b.status == Status.PAUSED:
                return Outcome.PAUSED
            if b.status != Status.SENDING:
                _complete_batch(batch, sent=0, filtered=0, failed=0, processed=0, now=timezone.now())
                return Outcome.CANCELLED
            sent_ids = _record_deliveries(batch, b, cap, timezone.now()).sent_ids
            DeliveryBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.SENDING, claim=claim)
        elif batch.claim != claim:
            return Outcome.BUSY  # another attempt claimed it since our heartbeat
        else:  # taken over from an earlier attempt: hand the same followers over again
            sent_ids = _claimed_followers(b, batch)
    # The hand-off, with no transaction open.
    failures: dict[int, str] = {}
    unknown = False
    if sent_ids:
        try:
            with backend:
                failures = _only(sent_ids, backend.send(_outgoing(batch, b, sent_ids)))
        except SenderUnavailable as exc:
            if not final_attempt:
                # Let go of the claim: the retry (or any attempt) may hand the batch off again.
                DeliveryBatch.objects.filter(pk=batch_id, claim=claim).update(
                    last_error=str(exc)[:LAST_ERROR_CHARS], heartbeat=timezone.now(), claim=""
                )
                raise
            if exc.outcome_unknown:
                # The gateway may have delivered: the followers keep their R5 count.
                failures = dict.fromkeys(sent_ids, f"Outcome unknown after retries: {exc}")
                unknown = True
            else:
                failures = dict.fromkeys(sent_ids, f"Gave up after retries: {exc}")
    # Tx 2: record the outcome and complete the batch.
    with transaction.atomic():
        _relax_commit()
        batch = lock_batch(batch_id, skip_locked=False)
        if batch.status == BatchStatus.DONE:
            return Outcome.DUPLICATE
        _record_failures(b, None if unknown else cap, failures)
        counts = dict(
            Delivery.objects.filter(
                broadcast_id=b.pk, follower__gte=batch.first_follower_id, follower__lte=batch.last_follower_id
            ).values_list("status").annotate(n=Count("id")).values_list("status", "n")
        )
        sent = counts.get(Delivery.Status.SENT, 0)
        filtered = counts.get(Delivery.Status.FILTERED, 0)
        failed = counts.get(Delivery.Status.FAILED, 0)
        _complete_batch(
            batch, sent=sent, filtered=filtered, failed=failed, processed=sent + filtered + failed,
            now=timezone.now(), last_error=next(iter(failures.values()), ""),
        )
    return Outcome.DELIVERED


def _record_deliveries(batch: DeliveryBatch, b: Broadcast, cap: sql.Cap | None, now: datetime) -> Recorded:
    """Apply R5 to the batch's current audience and write its Delivery rows (one statement on PostgreSQL)."""
    if sql.is_postgresql():
        sent_ids, sent, filtered, processed = sql.fetch_one(sql.record_deliveries(b, batch, cap, now=now))
        return Recorded(sent_ids or [], sent, filtered, processed)
    # SQLite: the same in a few statements.
    ids = [row[0] for row in sql.fetch_all(sql.batch_audience(b, batch))]
    if not ids:
        return Recorded([], 0, 0, 0)
    sent = ids if cap is None else sorted(row[0] for row in sql.fetch_all(sql.bump_caps_returning_ids(ids, cap)))
    sent_set = set(sent)
    filtered = [i for i in ids if i not in sent_set]
    for status, chunk in ((Delivery.Status.SENT, sent), (Delivery.Status.FILTERED, filtered)):
        sql.run(sql.insert_deliveries(b.pk, chunk, status=status, now=now))
    return Recorded(sent, len(sent), len(filtered), len(ids))


def _only(sent_ids: list[int], failures: dict[int, str]) -> dict[int, str]:
    """A backend's failures, restricted to the followers it was given."""
    given = set(sent_ids)
    return {follower_id: error for follower_id, error in (failures or {}).items() if follower_id in given}


def _record_failures(b: Broadcast, cap: sql.Cap | None, failures: dict[int, str]) -> int:
    """Mark failed deliveries (error kept) and give their R5 slot back (none when `cap` is None:
    no cap, or an outcome not known to be a failure); returns how many."""
    by_error: dict[str, list[int]] = defaultdict(list)
    for follower_id, error in failures.items():
        by_error[error or "Delivery failed."].append(follower_id)
    failed = 0
    for error, ids in by_error.items():
        failed += Delivery.objects.filter(broadcast_id=b.pk, follower_id__in=ids, status=Delivery.Status.SENT).update(
            status=Delivery.Status.FAILED, error=error
        )
        if cap is not None:
            FollowerQuotaUsage.objects.filter(window_start=cap.window_start, follower_id__in=ids, count__gt=0).update(
                count=F("count") - 1
            )
    return failed


def _outgoing(batch: DeliveryBatch, b: Broadcast, follower_ids: list[int]) -> OutgoingBatch:
    return OutgoingBatch(
        broadcast_id=b.pk,
        batch_number=batch.number,
        account_id=b.account_id,
        app_id=b.account.app_id,
        folded=b.account.folds_messages,  # R6
        message={
            "message_type": b.message_type, "title": b.title, "body": b.body, "url": b.url, "cover_url": b.cover_url,
        },
        follower_ids=follower_ids,
    )


def _complete_batch(batch: DeliveryBatch, *, sent: int, filtered: int, failed: int, processed: int,
                    now: datetime, last_error: str = "") -> None:
    """Mark the batch done and add its totals to the broadcast; finish on the last one."""
    DeliveryBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.DONE, finished_at=now, heartbeat=now,
        sent_count=sent, filtered_count=filtered, error_count=failed,
        last_error=last_error[:LAST_ERROR_CHARS],
    )
    # Followers who left the audience since dispatch leave the total.
    done, count = sql.fetch_one(sql.add_batch_totals(
        batch.broadcast_id, sent=sent, filtered=filtered, failed=failed, left=batch.size - processed,
    ))
    if done >= count:
        finish_broadcast(batch.broadcast_id, now)


def finish_broadcast(broadcast_id: int, now: datetime) -> None:
    """Final status from the totals, like the platform's job-finished event: sent, partially_sent
    (some failed) or failed (nothing sent). Cancelled stays cancelled. An API broadcast's
    job-finished event is pushed to its account's server after commit."""
    b = Broadcast.objects.select_related("account").get(pk=broadcast_id)
    if b.status == Status.CANCELLED:
        if b.finished_at is None:
            Broadcast.objects.filter(pk=b.pk).update(finished_at=now)
        return
    if b.status not in (Status.SENDING, Status.PAUSED):
        return
    if b.error_count == 0:
        b.status = Status.SENT
    elif b.sent_count > 0:
        b.status = Status.PARTIALLY_SENT
    else:
        b.status = Status.FAILED
        last = b.batches.exclude(last_error="").order_by("-number").values_list("last_error", flat=True).first()
        b.failure_reason = f"No follower could be reached: {last or 'every delivery failed'}"
    b.finished_at = now
    b.save(update_fields=["status", "finished_at", "failure_reason"])
    record_event(
        b, by=None, verb=AuditEvent.Verb(b.status),
        note=f"total {b.total_count}, sent {b.sent_count}, filtered {b.filtered_count}, errors {b.error_count}",
    )
    queue_job_finished_push(b)
