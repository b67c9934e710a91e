"""Celery tasks of the broadcasts app: thin wrappers, ids in, the services do the work.

Every task has an explicit, stable name (broadcasts.task_names): beat rows store it and
services queue work by it. Settings are read when a task runs, not when this module loads.
"""

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings

from . import services, task_names
from .exceptions import SenderUnavailable

# Retry backoff of a transient backend failure: 1, 2, 4 … s, at most this long, jittered. It
# stays below BROADCAST_BATCH_STALE_SECONDS' default, so a waiting batch is not requeued.
RETRY_BACKOFF_MAX = 60


@shared_task(
    name=task_names.DELIVER_BATCH,
    bind=True,
    acks_late=True,  # a task lost with its worker is redelivered; deliver_batch is idempotent
    max_retries=None,  # bounded below by settings.BROADCAST_WEBHOOK_MAX_RETRIES, read at run time
    ignore_result=True,
)
def deliver_batch_task(self, batch_id: int) -> str:
    """Deliver one batch; on the last retry a transient backend error fails its followers."""
    max_retries = settings.BROADCAST_WEBHOOK_MAX_RETRIES
    try:
        return services.deliver_batch(batch_id, final_attempt=self.request.retries >= max_retries)
    except SenderUnavailable as exc:
        countdown = get_exponential_backoff_interval(
            factor=1, retries=self.request.retries, maximum=RETRY_BACKOFF_MAX, full_jitter=True
        )
        raise self.retry(exc=exc, countdown=countdown, max_retries=max_retries) from exc


@shared_task(name=task_names.DISPATCH_DUE_BROADCASTS, ignore_result=True)
def dispatch_due_broadcasts_task() -> int:
    """Beat, every minute: start the approved broadcasts whose send time has come."""
    return services.dispatch_due_broadcasts()


@shared_task(name=task_names.REQUEUE_STALE_BATCHES, ignore_result=True)
def requeue_stale_batches_task() -> int:
    """Beat, every 30 s: send again the batches of a worker that died."""
    return services.requeue_stale_batches()
