"""Delivery under faults, with a real worker and a real local push gateway: an ambiguous hand-off
retried counts as delivered, and a duplicate task never posts a batch a live worker is posting."""

import json
import threading
import time

import pytest

from broadcasts import lifecycle, services
from broadcasts.models import Broadcast, Delivery, DeliveryBatch, FollowerQuotaUsage
from broadcasts.tasks import deliver_batch_task
from tests.conftest import wait_for
from tests.factories import make_account, make_approved, make_followers
from tests.gateway import Gateway

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


class IdempotentGateway:
    """A gateway honouring the backend contract: a new Idempotency-Key is delivered after
    `delay` seconds and answered 200; a key it has seen is answered 409 already_accepted."""

    def __init__(self, delay: float):
        self.delay = delay
        self.lock = threading.Lock()
        self.delivered: dict[str, list[str]] = {}  # key -> openids
        self.posts: list[str] = []

    def __call__(self, request):
        key = request["headers"]["Idempotency-Key"]
        with self.lock:
            self.posts.append(key)
            seen = key in self.delivered
            if not seen:
                self.delivered[key] = request["json"]["openids"]
        if seen:
            return 409, json.dumps({"status": "already_accepted"})
        time.sleep(self.delay)
        return 200, "ok"


@pytest.fixture
def gateway(request):
    answers = IdempotentGateway(delay=request.param)
    with Gateway(answers) as server:
        server.answers_by_key = answers
        yield server


@pytest.fixture
def celery_worker_env(gateway):
    return {
        "BROADCAST_DELIVERY_BACKEND": "broadcasts.backends.webhook.WebhookBackend",
        "BROADCAST_WEBHOOK_URL": gateway.url,
        "BROADCAST_WEBHOOK_SECRET": "s3cret",
        "BROADCAST_WEBHOOK_TIMEOUT": "2",
        "BROADCAST_WEBHOOK_MAX_RETRIES": "5",
        "BROADCAST_BATCH_SIZE": "10",
    }


@pytest.fixture(autouse=True)
def batch_size(settings):
    settings.BROADCAST_BATCH_SIZE = 10


def finished(b) -> bool:
    b.refresh_from_db()
    return b.status in lifecycle.FINISHED_STATUSES


@pytest.mark.parametrize("gateway", [3.0], indirect=True)
def test_a_timed_out_hand_off_that_the_gateway_accepted_counts_as_delivered(gateway, celery_worker_process):
    acc = make_account()
    fans = make_followers(acc, 5)
    b = make_approved(acc)
    services.dispatch_due_broadcasts()
    wait_for(lambda: finished(b), timeout=60, what="the broadcast to finish")

    assert (b.status, b.sent_count, b.error_count) == (Broadcast.Status.SENT, 5, 0)
    assert set(Delivery.objects.filter(broadcast=b).values_list("status", flat=True)) == {"sent"}
    assert gateway.answers_by_key.delivered == {f"broadcast-{b.pk}-batch-1": [f.openid for f in fans]}
    assert len(gateway.answers_by_key.posts) >= 2  # timed out once, then "already accepted"
    # Each follower's R5 count holds the one broadcast they received: nothing given back.
    assert sorted(FollowerQuotaUsage.objects.filter(follower__account=acc).values_list("count", flat=True)) == [1] * 5


@pytest.mark.parametrize("gateway", [1.5], indirect=True)  # answered within the 2 s timeout
def test_a_duplicate_task_never_posts_a_batch_a_live_worker_is_posting(gateway, celery_workers):
    acc = make_account()
    make_followers(acc, 20)
    b = make_approved(acc)
    celery_workers(queues="control,bulk", concurrency=4)
    services.dispatch_due_broadcasts()
    batches = list(DeliveryBatch.objects.filter(broadcast=b).values_list("pk", flat=True))
    assert len(batches) == 2
    wait_for(lambda: DeliveryBatch.objects.filter(broadcast=b, status="sending").count() == 2, timeout=30,
             what="both batches to be handed to the gateway")
    # A redelivery of every batch's task while the first runs are still posting.
    for batch_id in batches:
        deliver_batch_task.apply_async((batch_id,))
    wait_for(lambda: finished(b), timeout=90, what="the broadcast to finish")

    assert (b.status, b.sent_count, b.error_count) == (Broadcast.Status.SENT, 20, 0)
    posts = gateway.answers_by_key.posts
    assert sorted(posts) == [f"broadcast-{b.pk}-batch-1", f"broadcast-{b.pk}-batch-2"]  # posted once each
