"""The webhook backend against a real local HTTP server: signature, refusals, transient errors, giving up."""

import hashlib
import hmac

import pytest

from broadcasts import lifecycle, services
from broadcasts.exceptions import SenderUnavailable
from broadcasts.models import Broadcast, Delivery, DeliveryBatch, FollowerQuotaUsage
from tests.conftest import wait_for
from tests.factories import batch_ids, deliver_all, make_account, make_approved, make_dispatched, make_followers
from tests.gateway import Gateway

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def webhook(settings):
    settings.BROADCAST_DELIVERY_BACKEND = "broadcasts.backends.webhook.WebhookBackend"
    settings.BROADCAST_WEBHOOK_SECRET = "s3cret"
    settings.BROADCAST_WEBHOOK_TIMEOUT = 2
    settings.BROADCAST_BATCH_SIZE = 10


def test_each_batch_is_posted_as_signed_json(settings):
    acc = make_account()
    fans = make_followers(acc, 12)
    b = make_dispatched(acc, title="Autumn menu", body="Chestnut soup is back.")
    with Gateway([(200, "ok")]) as gateway:
        settings.BROADCAST_WEBHOOK_URL = gateway.url
        assert deliver_all(b) == ["delivered", "delivered"]

    assert b.status == Broadcast.Status.SENT and b.sent_count == 12
    first = gateway.requests[0]
    assert first["json"]["broadcast_id"] == b.pk
    assert first["json"]["app_id"] == acc.app_id
    assert first["json"]["message"]["body"] == "Chestnut soup is back."
    assert [o for r in gateway.requests for o in r["json"]["openids"]] == [x.openid for x in fans]
    ts = first["headers"]["X-Broadcast-Timestamp"]
    expected = hmac.new(b"s3cret", ts.encode() + b"." + first["body"], hashlib.sha256).hexdigest()
    assert first["headers"]["X-Broadcast-Signature"] == f"sha256={expected}"
    assert first["headers"]["Idempotency-Key"] == f"broadcast-{b.pk}-batch-1"


def test_a_4xx_fails_the_batch_followers_with_the_gateway_answer_kept(settings):
    acc = make_account()
    make_followers(acc, 3)
    b = make_dispatched(acc)
    with Gateway([(400, "unknown app_id")]) as gateway:
        settings.BROADCAST_WEBHOOK_URL = gateway.url
        deliver_all(b)

    assert (b.status, b.sent_count, b.error_count) == (Broadcast.Status.FAILED, 0, 3)
    errors = set(Delivery.objects.filter(broadcast=b).values_list("status", "error"))
    assert errors == {("failed", "Push gateway refused the batch, HTTP 400: unknown app_id")}
    assert "HTTP 400: unknown app_id" in b.failure_reason
    # A failed delivery does not use up the follower's monthly cap.
    assert set(FollowerQuotaUsage.objects.filter(follower__account=acc).values_list("count", flat=True)) == {0}


def test_a_5xx_is_retried_with_the_same_followers_and_the_cap_counted_once(settings):
    acc = make_account()
    make_followers(acc, 4)
    b = make_dispatched(acc)
    (batch_id,) = batch_ids(b)
    with Gateway([(503, "busy"), (200, "ok")]) as gateway:
        settings.BROADCAST_WEBHOOK_URL = gateway.url
        with pytest.raises(SenderUnavailable) as transient:
            services.deliver_batch(batch_id)
        assert "HTTP 503: busy" in str(transient.value)
        batch = DeliveryBatch.objects.get(pk=batch_id)
        assert (batch.status, batch.last_error) == (DeliveryBatch.Status.SENDING, str(transient.value))
        assert services.deliver_batch(batch_id) == "delivered"

    b.refresh_from_db()
    assert (b.status, b.sent_count, b.error_count) == (Broadcast.Status.SENT, 4, 0)
    assert gateway.requests[0]["json"]["openids"] == gateway.requests[1]["json"]["openids"]
    assert {r["headers"]["Idempotency-Key"] for r in gateway.requests} == {f"broadcast-{b.pk}-batch-1"}
    assert set(FollowerQuotaUsage.objects.filter(follower__account=acc).values_list("count", flat=True)) == {1}


def test_after_the_last_retry_the_followers_fail_with_the_error_kept(settings):
    acc = make_account()
    make_followers(acc, 2)
    b = make_dispatched(acc)
    (batch_id,) = batch_ids(b)
    with Gateway([(502, "bad gateway")]) as gateway:
        settings.BROADCAST_WEBHOOK_URL = gateway.url
        with pytest.raises(SenderUnavailable):
            services.deliver_batch(batch_id)
        assert services.deliver_batch(batch_id, final_attempt=True) == "delivered"

    b.refresh_from_db()
    assert (b.status, b.error_count) == (Broadcast.Status.FAILED, 2)
    assert set(Delivery.objects.filter(broadcast=b).values_list("error", flat=True)) == {
        "Gave up after retries: Push gateway answered HTTP 502: bad gateway"
    }
    assert set(FollowerQuotaUsage.objects.filter(follower__account=acc).values_list("count", flat=True)) == {0}


def test_an_unreachable_gateway_is_a_transient_error(settings):
    acc = make_account()
    make_followers(acc, 2)
    b = make_dispatched(acc)
    with Gateway() as gateway:
        url = gateway.url
    settings.BROADCAST_WEBHOOK_URL = url  # the server is gone: connection refused
    with pytest.raises(SenderUnavailable) as transient:
        services.deliver_batch(batch_ids(b)[0])
    assert "unreachable" in str(transient.value)


# --- through the real worker: Celery's retries with backoff ---


@pytest.fixture
def flaky_gateway():
    """Broadcast ids in `down` always get 503; the others get one 500, then 200."""
    seen = {}

    def answer(request):
        broadcast_id = request["json"]["broadcast_id"]
        seen[broadcast_id] = seen.get(broadcast_id, 0) + 1
        if broadcast_id in gateway.down:
            return 503, "maintenance"
        return (500, "oops") if seen[broadcast_id] == 1 else (200, "ok")

    with Gateway(answer) as gateway:
        gateway.down = set()
        yield gateway


@pytest.fixture
def celery_worker_env(flaky_gateway):
    return {
        "BROADCAST_DELIVERY_BACKEND": "broadcasts.backends.webhook.WebhookBackend",
        "BROADCAST_WEBHOOK_URL": flaky_gateway.url,
        "BROADCAST_WEBHOOK_SECRET": "s3cret",
        "BROADCAST_WEBHOOK_MAX_RETRIES": "2",
        "BROADCAST_BATCH_SIZE": "10",
    }


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_retries_transient_errors_and_gives_up_after_the_last_retry(flaky_gateway, celery_worker_process):
    recovers, down = make_account(), make_account()
    make_followers(recovers, 3)
    make_followers(down, 2)
    b_ok, b_down = make_approved(recovers), make_approved(down)
    flaky_gateway.down.add(b_down.pk)

    services.dispatch_due_broadcasts()

    def finished(b):
        b.refresh_from_db()
        return b.status in lifecycle.FINISHED_STATUSES

    wait_for(lambda: finished(b_ok) and finished(b_down), timeout=60, what="both broadcasts to finish")
    assert (b_ok.status, b_ok.sent_count, b_ok.error_count) == (Broadcast.Status.SENT, 3, 0)
    assert (b_down.status, b_down.sent_count, b_down.error_count) == (Broadcast.Status.FAILED, 0, 2)
    assert set(Delivery.objects.filter(broadcast=b_down).values_list("error", flat=True)) == {
        "Gave up after retries: Push gateway answered HTTP 503: maintenance"
    }
    posts = [r["json"]["broadcast_id"] for r in flaky_gateway.requests]
    assert posts.count(b_ok.pk) == 2  # one 500, then delivered on the retry
    assert posts.count(b_down.pk) == 3  # the first try and two retries
