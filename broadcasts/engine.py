"""The delivery engine: dispatch, deliver (one batch at a time), finish; pause and resume.

broadcasts.services re-exports the public functions; this module imports services only
inside functions (services imports this module at its end).

How a broadcast goes out (DESIGN.md "The broadcast lifecycle", issue 5):

* dispatch: picks due approved broadcasts with SELECT … FOR UPDATE SKIP LOCKED, one
  per transaction, so beat, the command and several workers can run it at once. It
  checks the account and R4 again at send time (a refusal fails the broadcast and
  gives its quota slot back), snapshots the audience as id ranges (one INSERT … SELECT
  numbering the followers by id: a batch is `BROADCAST_BATCH_SIZE` consecutive audience
  ids) and, after commit, sends one Celery task per batch carrying only the batch id.
* deliver: a batch row lock plus its `done` status make a duplicated, redelivered or
  requeued task a no-op, and the unique (broadcast, follower) constraints back that up.
  The audience is re-read inside the batch's id range: followers who unsubscribed since
  dispatch are dropped — no Delivery row, and they leave `total_count` (so at the end
  total = sent + filtered + errors exactly). On PostgreSQL one statement per batch
  applies R5, writes the delivery rows and the inbox rows, marks the batch done and adds
  its totals to the broadcast (see _record_deliveries); other backends get the sent ids.
  Transactions of a batch commit with synchronous_commit off (see _relax_commit).
* R5 counts `sent` deliveries only: a follower whose delivery fails gets the slot back
  (the counter is decremented in the transaction that marks the delivery failed).
* finish: the batch that brings batches_done to batch_count sets sent / partially_sent
  (some failed) / failed (errors and nothing sent). A broadcast whose followers were
  all filtered, or that had no follower, is `sent` with those totals. Cancelled stays
  cancelled.

Two delivery paths, by backend:

* transactional backends (inbox): cap, delivery rows, inbox rows, batch done and the
  broadcast's counters commit in ONE transaction: a crash anywhere leaves the batch
  pending with nothing written, and it is delivered again whole. Exactly once, simply.
* external backends (webhook, locmem): no network I/O with a transaction open. Tx 1
  locks the batch, applies the cap, writes the delivery rows as `sent` and marks the
  batch `sending` (claimed); the hand-off happens with no transaction open; Tx 2
  records failures (failed + cap slot back) and completes the batch. A retry or a
  requeue of a claimed batch hands the *same* followers over again (the claim is never
  recomputed, so the cap is never counted twice). The database side is exactly once;
  toward the gateway it is at-least-once with a stable `Idempotency-Key` per batch —
  the gateway must drop a repeated key for end-to-end exactly once. A duplicate
  hand-off needs a worker to die between the POST and Tx 2, or a batch stalled longer
  than BROADCAST_BATCH_STALE_SECONDS.

Crashes: each batch records a heartbeat (committed) when a worker starts it. Beat runs
requeue_stale_batches every 30 s: a started batch whose heartbeat is older than
BROADCAST_BATCH_STALE_SECONDS is sent again, and so is a never-started one once its
broadcast has made no progress for that long (its task was lost with a dead worker's
prefetch). With the default 60 s a dead worker's batches are finished within ~90 s.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Follower
from accounts.services import record_event

from . import quota
from .backends import OutgoingBatch, get_backend
from .exceptions import BroadcastError, InvalidState, SenderUnavailable
from .models import Broadcast, Delivery, DeliveryBatch, FollowerQuotaUsage, QuotaPolicy

logger = logging.getLogger(__name__)

Status = Broadcast.Status
BatchStatus = DeliveryBatch.Status
FINISHED_STATUSES = frozenset({Status.SENT, Status.PARTIALLY_SENT, Status.FAILED, Status.CANCELLED})
# How much of a backend's error is kept on the batch (the full text is on each Delivery).
LAST_ERROR_CHARS = 1000


# --- audience ------------------------------------------------------------------------


def _audience_sql(b: Broadcast) -> tuple[str, list]:
    """`SELECT f.id FROM …` of the broadcast's audience now: subscribed followers of the
    account, of its tag, or of its list. Callers append `AND f.id …` conditions.

    Relies on follower_audience_idx (account_id, id) WHERE subscribed for the keyset.
    """
    follower = Follower._meta.db_table
    if b.audience == Broadcast.Audience.TAG:
        through = Follower.tags.through._meta.db_table
        return (
            f"SELECT f.id FROM {follower} f JOIN {through} t ON t.follower_id = f.id "
            "WHERE t.tag_id = %s AND f.account_id = %s AND f.subscribed",
            [b.tag_id, b.account_id],
        )
    if b.audience == Broadcast.Audience.FOLLOWERS:
        through = Broadcast.recipients.through._meta.db_table
        return (
            f"SELECT f.id FROM {follower} f JOIN {through} r ON r.follower_id = f.id "
            "WHERE r.broadcast_id = %s AND f.account_id = %s AND f.subscribed",
            [b.pk, b.account_id],
        )
    return f"SELECT f.id FROM {follower} f WHERE f.account_id = %s AND f.subscribed", [b.account_id]


def _create_batches(b: Broadcast, now: datetime) -> list[tuple[int, int]]:
    """Cut the audience into batches of BROADCAST_BATCH_SIZE consecutive follower ids, in
    one INSERT … SELECT (row_number over the id-ordered audience); returns [(id, size)]."""
    audience, params = _audience_sql(b)
    table = DeliveryBatch._meta.db_table
    sql = (
        f"INSERT INTO {table} (broadcast_id, number, first_follower_id, last_follower_id, size, status, "
        "attempts, heartbeat, sent_count, filtered_count, error_count, last_error) "
        "SELECT %s, grp + 1, MIN(id), MAX(id), COUNT(*), %s, 0, %s, 0, 0, 0, '' "
        f"FROM (SELECT a.id, (ROW_NUMBER() OVER (ORDER BY a.id) - 1) / %s AS grp FROM ({audience}) a) numbered "
        "GROUP BY grp RETURNING id, size"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [b.pk, BatchStatus.PENDING, _db_moment(now), settings.BROADCAST_BATCH_SIZE, *params])
        return sorted(cursor.fetchall())


def _db_moment(moment: datetime):
    """A datetime as a raw-SQL parameter (SQLite stores naive UTC text)."""
    return connection.ops.adapt_datetimefield_value(moment)


def _enqueue(batch_ids: list[int]) -> None:
    """One deliver_batch_task per batch id, over one broker connection."""
    if not batch_ids:
        return
    from .tasks import deliver_batch_task  # tasks import this module

    with deliver_batch_task.app.producer_or_acquire() as producer:
        for batch_id in batch_ids:
            deliver_batch_task.apply_async((batch_id,), producer=producer)


# --- dispatch --------------------------------------------------------------------------


def dispatch_due_broadcasts(now: datetime | None = None) -> int:
    """Start every approved broadcast whose send time has come; returns how many went to sending.

    Safe to run from several processes at once: each broadcast is taken with
    SELECT … FOR UPDATE SKIP LOCKED in its own transaction. A broadcast that may no
    longer be sent (account suspended, R4 certification gone) goes to failed instead.
    """
    now = now or timezone.now()
    dispatched = 0
    broken: list[int] = []  # failed unexpectedly in this run: do not pick them again
    while True:
        with transaction.atomic():
            b = (
                Broadcast.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("account")
                .filter(status=Status.APPROVED)
                .filter(Q(scheduled_at__lte=now) | Q(scheduled_at__isnull=True))
                .exclude(pk__in=broken)
                .order_by(F("scheduled_at").asc(nulls_first=True), "pk")
                .first()
            )
            if b is None:
                break
            try:
                with transaction.atomic():
                    _dispatch_locked(b, now)
            except Exception:
                logger.exception("Dispatching broadcast %s failed; it stays approved", b.pk)
                broken.append(b.pk)
                continue
        if b.status != Status.FAILED:
            dispatched += 1
    return dispatched


def dispatch_broadcast(broadcast: Broadcast, *, now: datetime | None = None) -> Broadcast:
    """Start one approved broadcast whose send time has come (the send_broadcast command).

    Raises invalid_state when it is not approved or is scheduled later.
    """
    now = now or timezone.now()
    with transaction.atomic():
        b = Broadcast.objects.select_for_update(of=("self",)).select_related("account").get(pk=broadcast.pk)
        if b.status != Status.APPROVED:
            raise InvalidState(f"Only approved broadcasts can be sent; “{b.title}” is {b.get_status_display().lower()}.")
        if b.scheduled_at and b.scheduled_at > now:
            raise InvalidState(
                f"“{b.title}” is scheduled for {quota.fmt_moment(b.scheduled_at)}; reschedule it to send it now."
            )
        _dispatch_locked(b, now)
    return b


def _dispatch_locked(b: Broadcast, at: datetime) -> None:
    """The locked broadcast goes to sending with its batches queued after commit, or to failed.

    `at` is the moment the send-time checks are made for; timings record the wall clock.
    """
    from . import services  # services imports this module at its end

    now = timezone.now()
    try:
        services.check_can_send(b.account, b, at)
    except BroadcastError as exc:
        quota.release_reservation(b)
        b.status = Status.FAILED
        b.failure_reason = str(exc)
        b.finished_at = now
        b.save(update_fields=["status", "failure_reason", "finished_at"])
        record_event(b, by=None, verb="failed", note=f"{exc.code}: {exc}")
        return
    batches = _create_batches(b, now)
    b.status = Status.SENDING
    b.started_at = now
    b.finished_at = None
    b.total_count = sum(size for _, size in batches)
    b.batch_count = len(batches)
    b.batches_done = b.sent_count = b.filtered_count = b.error_count = 0
    b.save(
        update_fields=[
            "status", "started_at", "finished_at", "total_count", "batch_count", "batches_done",
            "sent_count", "filtered_count", "error_count",
        ]
    )
    record_event(b, by=None, verb="dispatched", note=f"{b.total_count} followers in {len(batches)} batches")
    if not batches:
        _finish(b.pk, now)
        b.refresh_from_db()
        return
    transaction.on_commit(partial(_enqueue, [batch_id for batch_id, _ in batches]), robust=True)


# --- deliver ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cap:
    """R5 for one broadcast: the follower-scope policy's window and limit at the send time."""

    window_start: date
    limit: int


def _cap_for(b: Broadcast) -> _Cap | None:
    """None when no follower-scope policy governs the account's kind at the send time
    (subscription accounts, by the seeded rules)."""
    at = b.scheduled_at or b.started_at or timezone.now()
    policy = quota.policy_in_force(b.account.kind, QuotaPolicy.Scope.FOLLOWER, at)
    if policy is None:
        return None
    return _Cap(window_start=quota.window_for(policy.period, at).start_date, limit=policy.limit)


# A worker keeps what it needs of a sending broadcast (fields that do not change while it
# sends: account, audience, message, send time) and its R5 cap, so a batch costs no extra
# queries. Its status is never taken from here: the batch lock query reads it fresh.
# A quota policy edited by ops mid-send reaches batches within CONTEXT_SECONDS.
CONTEXT_SECONDS = 60.0
_contexts: dict[int, tuple[float, Broadcast, _Cap | None]] = {}


def _context(broadcast_id: int) -> tuple[Broadcast, _Cap | None]:
    now = time.monotonic()
    cached = _contexts.get(broadcast_id)
    if cached is None or now - cached[0] > CONTEXT_SECONDS:
        b = Broadcast.objects.select_related("account").get(pk=broadcast_id)
        if len(_contexts) >= 64:
            _contexts.clear()
        cached = _contexts[broadcast_id] = (now, b, _cap_for(b))
    return cached[1], cached[2]


def _relax_commit() -> None:
    """Don't wait for the WAL flush at commit. Safe here: a batch commits whole, so if the
    database crashes before the commit reaches disk the batch is simply pending again
    (nothing half-written) and requeue_stale_batches delivers it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _record_deliveries(batch: DeliveryBatch, b: Broadcast, cap: _Cap | None, now: datetime, *,
                       backend_rows: tuple[str, list] | None = None, want_ids: bool = True,
                       complete: bool = False):
    """Apply R5 to the batch's current audience and write its Delivery rows, in ONE statement
    on PostgreSQL (see below). `backend_rows`: a transactional backend's INSERT reading the
    CTE `sent`, run in the same statement. `complete`: the same statement also marks the
    batch done and adds its totals to the broadcast (nothing can fail after it).

    Returns (sent follower ids, or None when not `want_ids`; sent; filtered; followers
    processed; and with `complete`, the broadcast's (batches_done, batch_count)).
    """
    audience, params = _audience_sql(b)
    if connection.vendor != "postgresql":
        assert not complete, "the portable path completes batches separately"
        ids, filtered, processed = _record_deliveries_portable(batch, b, cap, now, audience, params)
        return ids, len(ids), filtered, processed, None
    delivery = Delivery._meta.db_table
    columns = f"INSERT INTO {delivery} (broadcast_id, follower_id, status, error, delivered_at)"
    # The batch's audience now, in follower-id order: counters are bumped in that order,
    # so concurrent broadcasts of one account never deadlock on them.
    ctes = [f"aud AS MATERIALIZED ({audience} AND f.id BETWEEN %s AND %s ORDER BY f.id)"]
    args = [*params, batch.first_follower_id, batch.last_follower_id]
    if cap is None:
        ctes.append(f"sent AS ({columns} SELECT %s, id, 'sent', '', %s FROM aud RETURNING follower_id)")
        args += [b.pk, now]
        filtered = "0"
    else:
        # R5: the upsert returns the followers whose monthly counter it could bump
        # (inserted at 1, or still below the limit): they get `sent` rows, the others of
        # the batch `filtered` rows. No ON CONFLICT on the delivery rows: the batch lock
        # makes the batch run once, the unique constraint is the backstop (it would abort
        # the batch rather than skip a row), and plain inserts skip speculative insertion.
        ctes += [
            f"cap AS (INSERT INTO {FollowerQuotaUsage._meta.db_table} AS u (follower_id, window_start, count) "
            "SELECT id, %s, 1 FROM aud "
            "ON CONFLICT (follower_id, window_start) DO UPDATE SET count = u.count + 1 WHERE u.count < %s "
            "RETURNING u.follower_id)",
            f"sent AS ({columns} SELECT %s, follower_id, 'sent', '', %s FROM cap RETURNING follower_id)",
            f"filtered AS ({columns} SELECT %s, a.id, 'filtered', '', %s FROM aud a "
            "WHERE NOT EXISTS (SELECT 1 FROM cap c WHERE c.follower_id = a.id) RETURNING 1)",
        ]
        args += [cap.window_start, cap.limit, b.pk, now, b.pk, now]
        filtered = "(SELECT count(*) FROM filtered)"
    if backend_rows is not None:
        ctes.append(f"backend_rows AS ({backend_rows[0]})")
        args += backend_rows[1]
    ctes.append(f"counts AS (SELECT (SELECT count(*) FROM sent) AS sent, {filtered} AS filtered, "
                "(SELECT count(*) FROM aud) AS processed)")
    ids = "(SELECT array_agg(follower_id) FROM sent)" if want_ids else "NULL"
    if complete:
        # Batch done and the broadcast's totals, as _complete_batch does: the broadcast row
        # is locked from here to the commit that follows at once.
        ctes += [
            f"done AS (UPDATE {DeliveryBatch._meta.db_table} SET status = %s, finished_at = %s, heartbeat = %s, "
            "sent_count = counts.sent, filtered_count = counts.filtered, error_count = 0, last_error = '' "
            "FROM counts WHERE id = %s)",
            f"bump AS (UPDATE {Broadcast._meta.db_table} SET sent_count = sent_count + counts.sent, "
            "filtered_count = filtered_count + counts.filtered, total_count = total_count + counts.processed - %s, "
            "batches_done = batches_done + 1 FROM counts WHERE id = %s RETURNING batches_done, batch_count)",
        ]
        args += [BatchStatus.DONE, now, now, batch.pk, batch.size, b.pk]
        final = f"SELECT {ids}, sent, filtered, processed, batches_done, batch_count FROM counts, bump"
    else:
        final = f"SELECT {ids}, sent, filtered, processed, NULL, NULL FROM counts"
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(ctes)} {final}", args)
        sent_ids, sent, filtered_count, processed, done, count = cursor.fetchone()
    return (
        (sorted(sent_ids or []) if want_ids else None), sent, filtered_count, processed,
        (done, count) if complete else None,
    )


def _record_deliveries_portable(batch, b, cap, now, audience, params):
    """What the PostgreSQL statement does, in a few statements, for SQLite (no data-modifying CTEs)."""
    delivery = Delivery._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"{audience} AND f.id BETWEEN %s AND %s ORDER BY f.id",
                       [*params, batch.first_follower_id, batch.last_follower_id])
        ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return [], 0, 0
        if cap is None:
            sent = ids
        else:
            cursor.execute(
                f"INSERT INTO {FollowerQuotaUsage._meta.db_table} AS u (follower_id, window_start, count) "
                "SELECT value, %s, 1 FROM json_each(%s) WHERE true "
                "ON CONFLICT (follower_id, window_start) DO UPDATE SET count = u.count + 1 WHERE u.count < %s "
                "RETURNING follower_id",
                [connection.ops.adapt_datefield_value(cap.window_start), json.dumps(ids), cap.limit],
            )
            sent = sorted(row[0] for row in cursor.fetchall())
        sent_set = set(sent)
        for status, chunk in ((Delivery.Status.SENT, sent), (Delivery.Status.FILTERED, [i for i in ids if i not in sent_set])):
            cursor.execute(
                f"INSERT INTO {delivery} (broadcast_id, follower_id, status, error, delivered_at) "
                "SELECT %s, value, %s, '', %s FROM json_each(%s)",
                [b.pk, status, _db_moment(now), json.dumps(chunk)],
            )
    return sent, len(ids) - len(sent), len(ids)


def _only(sent_ids: list[int], failures: dict[int, str]) -> dict[int, str]:
    """A backend's failures, restricted to the followers it was given."""
    given = set(sent_ids)
    return {follower_id: error for follower_id, error in (failures or {}).items() if follower_id in given}


def _record_failures(b: Broadcast, cap: _Cap | None, failures: dict[int, str]) -> int:
    """Mark failed deliveries (error kept) and give their R5 slot back; returns how many."""
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
        folded=b.account.kind == b.account.Kind.SUBSCRIPTION,  # R6
        message={
            "message_type": b.message_type, "title": b.title, "body": b.body, "url": b.url, "cover_url": b.cover_url,
        },
        follower_ids=follower_ids,
    )


def _complete_batch(batch: DeliveryBatch, *, sent: int, filtered: int, failed: int, processed: int,
                    now: datetime, last_error: str = "") -> None:
    """Mark the batch done and add its totals to the broadcast (relative updates: concurrent
    batches serialize on the broadcast row only from this update to their commit); finish
    on the last one."""
    DeliveryBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.DONE, finished_at=now, heartbeat=now,
        sent_count=sent, filtered_count=filtered, error_count=failed,
        last_error=last_error[:LAST_ERROR_CHARS],
    )
    with connection.cursor() as cursor:
        # Followers who left the audience since dispatch leave the total.
        cursor.execute(
            f"UPDATE {Broadcast._meta.db_table} SET sent_count = sent_count + %s, filtered_count = filtered_count + %s, "
            "error_count = error_count + %s, total_count = total_count + %s, batches_done = batches_done + 1 "
            "WHERE id = %s RETURNING batches_done, batch_count",
            [sent, filtered, failed, processed - batch.size, batch.broadcast_id],
        )
        done, count = cursor.fetchone()
    if done >= count:
        _finish(batch.broadcast_id, now)


def _finish(broadcast_id: int, now: datetime) -> None:
    """Final status from the totals, like the platform's job-finished event. Cancelled stays cancelled."""
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
        b, by=None, verb=b.status,
        note=f"total {b.total_count}, sent {b.sent_count}, filtered {b.filtered_count}, errors {b.error_count}",
    )


# The heartbeat, committed before the work (requeue_stale_batches tells a started batch
# whose worker died from one still waiting in the queue). Not for a done batch, nor for a
# pending one of a paused broadcast. One statement in its own transaction; on PostgreSQL
# the joined set_config() relaxes that transaction's commit (see _relax_commit).
_CLAIM_SQL = """
UPDATE {batch} AS bt SET heartbeat = %s, attempts = bt.attempts + 1
FROM {broadcast} AS b{relax}
WHERE bt.id = %s AND b.id = bt.broadcast_id AND bt.status <> 'done'
  AND NOT (bt.status = 'pending' AND b.status = 'paused')
RETURNING attempts  -- unqualified: SQLite does not take an alias here
"""


def deliver_batch(batch_id: int, *, final_attempt: bool = False) -> str:
    """Deliver one batch exactly once. Returns what happened: "delivered", "duplicate" (already
    done), "paused" (left pending for resume), "cancelled" (closed, nothing sent), "busy"
    (another worker holds it) or "missing".

    Raises SenderUnavailable on a transient backend failure (the task retries), except on the
    final attempt, where the batch's followers are failed with the error kept.
    """
    relax = ", (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed"
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_SQL.format(
                batch=DeliveryBatch._meta.db_table, broadcast=Broadcast._meta.db_table,
                relax=relax if connection.vendor == "postgresql" else "",
            ),
            [_db_moment(timezone.now()), batch_id],
        )
        claimed = cursor.fetchone()
    if claimed is None:
        status = DeliveryBatch.objects.filter(pk=batch_id).values_list("status", flat=True).first()
        return "missing" if status is None else "duplicate" if status == BatchStatus.DONE else "paused"
    backend = get_backend()
    if backend.transactional:
        return _deliver_in_transaction(batch_id, backend)
    return _deliver_external(batch_id, backend, final_attempt=final_attempt)


def _lock_batch(batch_id: int, *, skip_locked: bool = True) -> DeliveryBatch | None:
    """The batch row, locked (not its broadcast), with its broadcast and account; None when
    another worker holds it."""
    return (
        DeliveryBatch.objects.select_for_update(skip_locked=skip_locked, of=("self",))
        .select_related("broadcast__account")
        .filter(pk=batch_id)
        .first()
    )


_BATCH_FIELDS = ("status", "number", "first_follower_id", "last_follower_id", "size", "broadcast_id")


def _lock_head(batch_id: int) -> tuple[DeliveryBatch, str] | None:
    """The batch row, locked, and its broadcast's status now; None when another worker holds
    it. On PostgreSQL one round trip, which also relaxes the commit (see _relax_commit)."""
    if connection.vendor != "postgresql":
        batch = _lock_batch(batch_id)
        return None if batch is None else (batch, batch.broadcast.status)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT set_config('synchronous_commit', 'off', true), b.status, "
            f"{', '.join('bt.' + name for name in _BATCH_FIELDS)} "
            f"FROM {DeliveryBatch._meta.db_table} bt JOIN {Broadcast._meta.db_table} b ON b.id = bt.broadcast_id "
            "WHERE bt.id = %s FOR UPDATE OF bt SKIP LOCKED",
            [batch_id],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return DeliveryBatch(pk=batch_id, **dict(zip(_BATCH_FIELDS, row[2:], strict=True))), row[1]


def _deliver_in_transaction(batch_id: int, backend) -> str:
    now = timezone.now()
    with transaction.atomic():
        head = _lock_head(batch_id)
        if head is None:
            return "busy"
        batch, broadcast_status = head
        if batch.status == BatchStatus.DONE:
            return "duplicate"
        if broadcast_status == Status.PAUSED:
            return "paused"
        if broadcast_status != Status.SENDING:  # cancelled: no further batch goes out
            _complete_batch(batch, sent=0, filtered=0, failed=0, processed=0, now=now)
            return "cancelled"
        b, cap = _context(batch.broadcast_id)
        backend_rows = backend.sent_rows_sql(_outgoing(batch, b, []))
        if backend_rows is not None:
            # The whole batch in one statement: cap, deliveries, the backend's rows, batch
            # done and the broadcast's totals.
            *_, (done, count) = _record_deliveries(
                batch, b, cap, now, backend_rows=backend_rows, want_ids=False, complete=True
            )
            if done >= count:
                _finish(b.pk, now)
            return "delivered"
        sent_ids, sent, filtered, processed, _ = _record_deliveries(batch, b, cap, now)
        failures = {}
        if sent_ids:
            with backend:
                failures = _only(sent_ids, backend.send(_outgoing(batch, b, sent_ids)))
        failed = _record_failures(b, cap, failures) if failures else 0
        _complete_batch(
            batch, sent=sent - failed, filtered=filtered, failed=failed, processed=processed, now=now,
            last_error=next(iter(failures.values()), "") if failures else "",
        )
    return "delivered"


def _deliver_external(batch_id: int, backend, *, final_attempt: bool) -> str:
    """Claim (Tx 1), hand off with no transaction open, record the outcome (Tx 2)."""
    # Tx 1: claim. The cap and the delivery rows are written once; a retry reuses them.
    with transaction.atomic():
        _relax_commit()
        batch = _lock_batch(batch_id)
        if batch is None:
            return "busy"
        if batch.status == BatchStatus.DONE:
            return "duplicate"
        b = batch.broadcast
        cap = _cap_for(b)
        if batch.status == BatchStatus.PENDING:
            if b.status == Status.PAUSED:
                return "paused"
            if b.status != Status.SENDING:
                _complete_batch(batch, sent=0, filtered=0, failed=0, processed=0, now=timezone.now())
                return "cancelled"
            sent_ids, *_ = _record_deliveries(batch, b, cap, timezone.now())
            DeliveryBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.SENDING)
        else:  # claimed by an earlier attempt: hand the same followers over again
            sent_ids = list(
                Delivery.objects.filter(
                    broadcast_id=b.pk, status=Delivery.Status.SENT,
                    follower__gte=batch.first_follower_id, follower__lte=batch.last_follower_id,
                ).order_by("follower_id").values_list("follower_id", flat=True)
            )
    # The hand-off, with no transaction open.
    failures: dict[int, str] = {}
    if sent_ids:
        try:
            with backend:
                failures = _only(sent_ids, backend.send(_outgoing(batch, b, sent_ids)))
        except SenderUnavailable as exc:
            if not final_attempt:
                DeliveryBatch.objects.filter(pk=batch_id).update(
                    last_error=str(exc)[:LAST_ERROR_CHARS], heartbeat=timezone.now()
                )
                raise
            failures = dict.fromkeys(sent_ids, f"Gave up after retries: {exc}")
    # Tx 2: record the outcome and complete the batch.
    with transaction.atomic():
        _relax_commit()
        batch = _lock_batch(batch_id, skip_locked=False)
        if batch.status == BatchStatus.DONE:
            return "duplicate"
        _record_failures(b, cap, failures)
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
            now=timezone.now(), last_error=next(iter(failures.values()), "") if failures else "",
        )
    return "delivered"


# --- crashes -----------------------------------------------------------------------------


def requeue_stale_batches(now: datetime | None = None) -> int:
    """Send again the batches a dead worker left behind; returns how many were queued.

    Stale: not done, of a sending or cancelled broadcast, heartbeat older than
    BROADCAST_BATCH_STALE_SECONDS, and either started (a worker died on it) or its
    broadcast has made no progress for that long (its task was lost, e.g. in a dead
    worker's prefetch). Pending batches of cancelled broadcasts are sent at once, to be
    closed. A requeued batch gets a fresh heartbeat, so it is not queued again at once.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.BROADCAST_BATCH_STALE_SECONDS)
    last_done = (
        DeliveryBatch.objects.filter(broadcast_id=OuterRef("broadcast_id"), status=BatchStatus.DONE)
        .order_by("-finished_at")
        .values("finished_at")[:1]
    )
    with transaction.atomic():
        ids = list(
            DeliveryBatch.objects.select_for_update(skip_locked=True, of=("self",))
            .exclude(status=BatchStatus.DONE)
            .filter(broadcast__status__in=[Status.SENDING, Status.CANCELLED])
            .annotate(progress=Coalesce(Subquery(last_done), F("broadcast__started_at")))
            .filter(
                (
                    (Q(heartbeat__isnull=True) | Q(heartbeat__lt=cutoff))
                    & (Q(attempts__gt=0) | Q(progress__lt=cutoff))
                )
                | Q(broadcast__status=Status.CANCELLED, status=BatchStatus.PENDING)
            )
            .order_by("broadcast_id", "number")
            .values_list("id", flat=True)
        )
        if ids:
            DeliveryBatch.objects.filter(pk__in=ids).update(heartbeat=now)
            transaction.on_commit(partial(_enqueue, ids), robust=True)
    if ids:
        logger.warning("Re-queued %d stale delivery batches", len(ids))
    return len(ids)


# --- pause and resume ------------------------------------------------------------------------


@transaction.atomic
def pause_broadcast(broadcast: Broadcast, *, by) -> Broadcast:
    """Stop a sending broadcast between batches (a batch under way completes). Raises invalid_state."""
    b = Broadcast.objects.select_for_update().get(pk=broadcast.pk)
    if b.status != Status.SENDING:
        raise InvalidState(f"Only a sending broadcast can be paused; “{b.title}” is {b.get_status_display().lower()}.")
    b.status = Status.PAUSED
    b.save(update_fields=["status"])
    record_event(b, by=by, verb="paused", note=f"{b.batches_done} of {b.batch_count} batches done")
    return b


@transaction.atomic
def resume_broadcast(broadcast: Broadcast, *, by) -> Broadcast:
    """Continue a paused broadcast: its pending batches are queued again. Raises invalid_state."""
    b = Broadcast.objects.select_for_update().get(pk=broadcast.pk)
    if b.status != Status.PAUSED:
        raise InvalidState(f"Only a paused broadcast can be resumed; “{b.title}” is {b.get_status_display().lower()}.")
    b.status = Status.SENDING
    b.save(update_fields=["status"])
    now = timezone.now()
    # Lock order broadcast -> batch, and skip_locked: a batch under way holds its row and
    # will lock this broadcast to add its totals, so waiting here could deadlock. A batch
    # skipped now is queued again by requeue_stale_batches.
    pending = list(
        b.batches.select_for_update(skip_locked=True).filter(status=BatchStatus.PENDING)
        .order_by("number").values_list("id", flat=True)
    )
    DeliveryBatch.objects.filter(pk__in=pending).update(heartbeat=now)
    record_event(b, by=by, verb="resumed", note=f"{len(pending)} batches queued again")
    if pending:
        transaction.on_commit(partial(_enqueue, pending), robust=True)
    elif b.batches_done >= b.batch_count:
        _finish(b.pk, now)  # the last batch finished while paused
        b.refresh_from_db()
    return b


# --- reads for commands and the admin ----------------------------------------------------------


def progress(broadcast: Broadcast) -> dict:
    """Counters, timings and rate of a broadcast (for send_broadcast, broadcast_status, the admin)."""
    b = broadcast
    processed = b.sent_count + b.filtered_count + b.error_count
    end = b.finished_at or (timezone.now() if b.started_at else None)
    seconds = (end - b.started_at).total_seconds() if b.started_at and end else None
    return {
        "status": b.status,
        "total": b.total_count,
        "sent": b.sent_count,
        "filtered": b.filtered_count,
        "failed": b.error_count,
        "processed": processed,
        "batches_done": b.batches_done,
        "batch_count": b.batch_count,
        "started_at": b.started_at,
        "finished_at": b.finished_at,
        "seconds": seconds,
        "rate": processed / seconds if seconds else None,
        "finished": b.status in FINISHED_STATUSES,
    }


__all__ = [
    "deliver_batch",
    "dispatch_broadcast",
    "dispatch_due_broadcasts",
    "pause_broadcast",
    "progress",
    "requeue_stale_batches",
    "resume_broadcast",
]
