"""Celery tasks of the delivery engine: thin wrappers, ids in (the services do the work)."""

from celery import shared_task
from django.conf import settings

from . import services
from .exceptions import SenderUnavailable


@shared_task(
    bind=True,
    acks_late=True,  # a task lost with its worker is redelivered; deliver_batch is idempotent
    autoretry_for=(SenderUnavailable,),
    retry_backoff=True,
    retry_backoff_max=60,  # stays below BROADCAST_BATCH_STALE_SECONDS' default: no requeue while waiting
    retry_jitter=True,
    max_retries=settings.BROADCAST_WEBHOOK_MAX_RETRIES,
    ignore_result=True,
)
def deliver_batch_task(self, batch_id: int) -> str:
    """Deliver one batch; on the last retry a transient backend error fails its followers."""
    return services.deliver_batch(batch_id, final_attempt=self.request.retries >= self.max_retries)


@shared_task(ignore_result=True)
def dispatch_due_broadcasts_task() -> int:
    """Beat, every minute: start the approved broadcasts whose send time has come."""
    return services.dispatch_due_broadcasts()


@shared_task(ignore_result=True)
def requeue_stale_batches_task() -> int:
    """Beat, every 30 s: send again the batches of a worker that died."""
    return services.requeue_stale_batches()
