"""Dispatch: approved broadcasts whose send time has come go to sending.

Picks due broadcasts with SELECT … FOR UPDATE SKIP LOCKED, one per transaction, so beat,
the command and several workers can run it at once; re-checks the account and R4 at send
time (a refusal fails the broadcast and gives its quota slot back); snapshots the audience
as batches of consecutive follower ids (one INSERT … SELECT); after commit queues one
delivery task per batch, by task name, carrying only the batch id. Also the recovery of a
dead worker's batches (requeue_stale_batches).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import AuditEvent
from accounts.services import record_event
from operator_console.platform_time import format_moment

from .. import lifecycle, sql
from ..exceptions import BroadcastError, InvalidState
from ..models import Broadcast, DeliveryBatch
from ..task_names import DELIVER_BATCH
from .delivery import finish_broadcast
from .eligibility import check_can_send
from .job_finished import queue_job_finished_push
from .locks import lock_broadcast_only
from .quota import release_reservation

logger = logging.getLogger(__name__)
Status = Broadcast.Status
BatchStatus = DeliveryBatch.Status


def enqueue_batches(batch_ids: list[int]) -> None:
    """One delivery task per batch id, queued by task name over one broker connection."""
    if not batch_ids:
        return
    app = current_app
    with app.producer_or_acquire() as producer:
        for batch_id in batch_ids:
            app.send_task(DELIVER_BATCH, (batch_id,), producer=producer)


def enqueue_after_commit(batch_ids: list[int]) -> None:
    transaction.on_commit(partial(enqueue_batches, batch_ids), robust=True)


def dispatch_due_broadcasts(now: datetime | None = None) -> int:
    """Start every approved broadcast whose send time has come; returns how many went to sending.

    Safe to run from several processes at once. A broadcast that may no longer be sent
    (account suspended, R4 certification gone) goes to failed instead.
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
        b = lock_broadcast_only(broadcast)
        lifecycle.require(b, lifecycle.Action.DISPATCH)
        if b.scheduled_at and b.scheduled_at > now:
            raise InvalidState(
                _("“%(title)s” is scheduled for %(at)s; reschedule it to send it now.")
                % {"title": b.title, "at": format_moment(b.scheduled_at)},
                scheduled_later=True,
            )
        _dispatch_locked(b, now)
    return b


def _dispatch_locked(b: Broadcast, at: datetime) -> None:
    """The locked broadcast goes to sending with its batches queued after commit, or to failed.

    `at` is the moment the send-time checks are made for; timings record the wall clock.
    """
    now = timezone.now()
    try:
        check_can_send(b.account, b, at)
    except BroadcastError as exc:
        release_reservation(b)
        b.status = Status.FAILED
        b.failure_reason = str(exc)
        b.finished_at = now
        b.save(update_fields=["status", "failure_reason", "finished_at"])
        record_event(b, by=None, verb=AuditEvent.Verb.FAILED, note=f"{exc.code}: {exc}")
        queue_job_finished_push(b)  # an API job that ended before it began is a finished job too
        return
    batches = sorted(sql.fetch_all(sql.create_batches(b, now=now, batch_size=settings.BROADCAST_BATCH_SIZE)))
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
    followers = ngettext("%(count)s follower", "%(count)s followers", b.total_count) % {"count": f"{b.total_count:,}"}
    in_batches = ngettext("in %(count)s batch", "in %(count)s batches", len(batches)) % {"count": len(batches)}
    # Translators: the audit note of a dispatch: "12,000 followers" "in 3 batches".
    note = _("%(followers)s %(in_batches)s") % {"followers": followers, "in_batches": in_batches}
    record_event(b, by=None, verb=AuditEvent.Verb.DISPATCHED, note=note)
    if not batches:
        finish_broadcast(b.pk, now)
        b.refresh_from_db()
        return
    enqueue_after_commit([batch_id for batch_id, _ in batches])


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
            # Stale claims are let go: the requeued task may hand the batch off again (same key).
            DeliveryBatch.objects.filter(pk__in=ids).update(heartbeat=now, claim="")
            enqueue_after_commit(ids)
    if ids:
        logger.warning("Re-queued %d stale delivery batches", len(ids))
    return len(ids)
