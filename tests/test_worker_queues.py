"""Workers as the Procfile starts them: database connections reused across tasks, and control
work (dispatch, recovery) on its own queue, never stuck behind a big broadcast's batches."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from broadcasts import services
from broadcasts.models import Broadcast, DeliveryBatch
from broadcasts.tasks import dispatch_due_broadcasts_task
from operator_console.celery import app
from tests.conftest import wait_for
from tests.factories import make_account, make_approved, make_followers

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

BATCH_SIZE = 7


@pytest.fixture
def celery_worker_env():
    return {"BROADCAST_BATCH_SIZE": str(BATCH_SIZE), "CONN_MAX_AGE": "600"}


@pytest.fixture(autouse=True)
def batch_size(settings):
    settings.BROADCAST_BATCH_SIZE = BATCH_SIZE


def sessions() -> int:
    """PostgreSQL sessions opened on the test database so far (pg_stat_database.sessions)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def finished(b) -> bool:
    b.refresh_from_db()
    return b.status == Broadcast.Status.SENT


def test_a_worker_reuses_its_database_connections_across_batches(celery_workers):
    acc = make_account()
    make_followers(acc, 30 * BATCH_SIZE)
    b = make_approved(acc)
    celery_workers(queues="control,bulk", concurrency=2)
    before = sessions()
    services.dispatch_due_broadcasts()
    wait_for(lambda: finished(b), timeout=60, what="the broadcast to be sent")
    assert b.batch_count == 30 and b.sent_count == 30 * BATCH_SIZE
    # Two pool processes, each with one connection kept for all its tasks (not one per task).
    assert sessions() - before <= 3


def test_scheduled_dispatch_is_not_stuck_behind_a_big_broadcasts_batches(celery_workers):
    big_account, small_account = make_account(), make_account()
    make_followers(big_account, 200 * BATCH_SIZE)
    make_followers(small_account, 3)
    big = make_approved(big_account)
    services.dispatch_due_broadcasts()  # 200 batches queued on the bulk queue
    big.refresh_from_db()
    assert big.batch_count == 200
    celery_workers(queues="bulk", concurrency=1, BROADCAST_DELIVERY_BACKEND="tests.backends.SlowInboxBackend",
                   BROADCAST_TEST_BATCH_DELAY="0.2")
    celery_workers(queues="control", concurrency=1)
    small = make_approved(small_account, send_at=timezone.now() + timedelta(seconds=2))
    wait_for(lambda: DeliveryBatch.objects.filter(broadcast=big, status="done").exists(), timeout=30,
             what="the bulk worker to start on the big broadcast")
    wait_for(lambda: timezone.now() >= small.scheduled_at, timeout=10, what="the small broadcast's send time")
    dispatch_due_broadcasts_task.apply_async()  # what beat sends every minute, routed to the control queue
    wait_for(lambda: Broadcast.objects.get(pk=small.pk).status == Broadcast.Status.SENDING, timeout=10,
             what="the small broadcast to be dispatched")
    big.refresh_from_db()
    assert big.batches_done < big.batch_count  # the big broadcast's backlog was still there


def test_delivery_goes_to_the_bulk_queue_and_everything_else_to_control():
    routes = {name: app.amqp.router.route({}, name)["queue"].name for name in app.tasks if not name.startswith("celery.")}
    assert routes.pop("broadcasts.tasks.deliver_batch_task") == "bulk"
    assert set(routes.values()) == {"control"}
