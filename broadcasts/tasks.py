"""Celery tasks of the broadcasts app: thin wrappers, ids in, the services do the work.

Every task has an explicit, stable name (broadcasts.task_names): beat rows store it and
services queue work by it. Settings are read when a task runs, not when this module loads.
"""

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings

from . import services, task_names
from .exceptions import PushUnavailable, SenderUnavailable

# Retry backoff of a transient backend failure: 1, 2, 4 … s, at most this long, jittered. It
# stays below BROADCAST_BATCH_STALE_SECONDS' default, so a waiting batch is not requeued.
RETRY_BACKOFF_MAX = 60
# Retry backoff of a job-finished push: 1, 2, 4 … s, jittered, at most this long (well below
# the broker's visibility timeout: no far-future ETAs on Redis).
PUSH_BACKOFF_MAX = 300


def _retry(task, exc: Exception, *, max_retries: int, maximum: int):
    """The task's retry after a transient error: exponential backoff with full jitter."""
    countdown = get_exponential_backoff_interval(factor=1, retries=task.request.retries, maximum=maximum, full_jitter=True)
    return task.retry(exc=exc, countdown=countdown, max_retries=max_retries)


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
        raise _retry(self, exc, max_retries=max_retries, maximum=RETRY_BACKOFF_MAX) from exc


@shared_task(name=task_names.DISPATCH_DUE_BROADCASTS, ignore_result=True)
def dispatch_due_broadcasts_task() -> int:
    """Beat, every minute: start the approved broadcasts whose send time has come."""
    return services.dispatch_due_broadcasts()


@shared_task(name=task_names.REQUEUE_STALE_BATCHES, ignore_result=True)
def requeue_stale_batches_task() -> int:
    """Beat, every 30 s: send again the batches of a worker that died."""
    return services.requeue_stale_batches()


@shared_task(name=task_names.MEASURE_UNFOLLOWS, ignore_result=True)
def measure_unfollows_task() -> int:
    """Beat, every 10 minutes: unfollows after each recent broadcast, follower days, flags (R8)."""
    return services.measure_unfollows()


@shared_task(
    name=task_names.PUSH_JOB_FINISHED,
    bind=True,
    acks_late=True,  # a redelivered push after a final outcome is a no-op (push_job_finished checks)
    max_retries=None,  # bounded below by settings.BROADCAST_PUSH_MAX_RETRIES, read at run time
    ignore_result=True,
)
def push_job_finished_task(self, broadcast_id: int) -> str:
    """Tell an API broadcast's account server that the job finished; retried on transient failures."""
    max_retries = settings.BROADCAST_PUSH_MAX_RETRIES
    try:
        return services.push_job_finished(broadcast_id, final_attempt=self.request.retries >= max_retries)
    except PushUnavailable as exc:
        raise _retry(self, exc, max_retries=max_retries, maximum=PUSH_BACKOFF_MAX) from exc
