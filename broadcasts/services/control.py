"""Delivery control while a broadcast sends: pause, resume, and the send_broadcast command's start."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import AuditEvent
from accounts.services import record_event

from .. import lifecycle
from ..exceptions import InvalidState
from ..lifecycle import Action
from ..models import Broadcast, DeliveryBatch
from .delivery import finish_broadcast
from .dispatch import dispatch_broadcast, enqueue_after_commit
from .locks import lock_broadcast_only
from .review import reschedule_broadcast

Status = Broadcast.Status


@transaction.atomic
def pause_broadcast(broadcast: Broadcast, *, by) -> Broadcast:
    """Stop a sending broadcast between batches (a batch under way completes). Raises invalid_state."""
    b = lock_broadcast_only(broadcast)
    lifecycle.require(b, Action.PAUSE)
    b.status = Status.PAUSED
    b.save(update_fields=["status"])
    note = ngettext("%(done)s of %(count)s batch done", "%(done)s of %(count)s batches done", b.batch_count) % {
        "done": b.batches_done, "count": b.batch_count,
    }
    record_event(b, by=by, verb=AuditEvent.Verb.PAUSED, note=note)
    return b


@transaction.atomic
def resume_broadcast(broadcast: Broadcast, *, by) -> Broadcast:
    """Continue a paused broadcast: its pending batches are queued again. Raises invalid_state."""
    b = lock_broadcast_only(broadcast)
    lifecycle.require(b, Action.RESUME)
    b.status = Status.SENDING
    b.save(update_fields=["status"])
    now = timezone.now()
    # Lock order broadcast -> batch, and skip_locked: a batch under way holds its row and
    # will lock this broadcast to add its totals, so waiting here could deadlock. A batch
    # skipped now is queued again by requeue_stale_batches.
    pending = list(
        b.batches.select_for_update(skip_locked=True).filter(status=DeliveryBatch.Status.PENDING)
        .order_by("number").values_list("id", flat=True)
    )
    DeliveryBatch.objects.filter(pk__in=pending).update(heartbeat=now)
    note = ngettext("%(count)s batch queued again", "%(count)s batches queued again", len(pending)) % {
        "count": len(pending),
    }
    record_event(b, by=by, verb=AuditEvent.Verb.RESUMED, note=note)
    if pending:
        enqueue_after_commit(pending)
    elif b.batches_done >= b.batch_count:
        finish_broadcast(b.pk, now)  # the last batch finished while paused
        b.refresh_from_db()
    return b


def start_sending(broadcast: Broadcast, *, by=None, move_to_now: bool = False) -> Broadcast:
    """Send an approved broadcast now (the send_broadcast command), or return it when it is
    already sending or paused (beat dispatched it a moment ago).

    An approved broadcast scheduled later is moved to now first with `move_to_now` (its quota
    slot moves to the current window); without it, invalid_state with context
    `scheduled_later=True`. Raises invalid_state and what reschedule_broadcast raises.
    """
    b = Broadcast.objects.select_related("account").get(pk=broadcast.pk)
    if b.status in lifecycle.WHILE_SENDING:
        return b
    lifecycle.require(b, Action.DISPATCH)
    if b.scheduled_at and b.scheduled_at > timezone.now():
        if not move_to_now:
            raise InvalidState(
                _("Broadcast #%(id)s “%(title)s” is scheduled for later.") % {"id": b.pk, "title": b.title},
                scheduled_later=True,
            )
        b = reschedule_broadcast(b, by=by, send_at=timezone.now())
    try:
        return dispatch_broadcast(b)
    except InvalidState:
        b.refresh_from_db()
        if b.status not in lifecycle.WHILE_SENDING:
            raise
        return b  # dispatched by beat (or another command) a moment ago: follow it
