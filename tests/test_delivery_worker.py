"""End to end through the real Redis broker and a real Celery worker process: dispatch, delivery,
the cap under concurrency, duplicates, a worker killed mid-broadcast, pause/resume/cancel, the command."""

import io
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.models import OfficialAccount
from broadcasts import lifecycle, services
from broadcasts.models import Broadcast, Delivery, DeliveryBatch, InboxMessage
from broadcasts.tasks import deliver_batch_task, dispatch_due_broadcasts_task, requeue_stale_batches_task
from broadcasts.windows import window_for
from tests.conftest import ROOT, wait_for
from tests.factories import make_account, make_approved, make_followers, make_tag

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SUBSCRIPTION = OfficialAccount.Kind.SUBSCRIPTION
SLOW = "tests.backends.SlowInboxBackend"


@pytest.fixture
def celery_worker_env():
    return {"BROADCAST_BATCH_SIZE": "7"}


@pytest.fixture(autouse=True)
def batch_size(settings):
    settings.BROADCAST_BATCH_SIZE = 7  # dispatches made in this process cut the same batches as the worker's


def status_of(b):
    b.refresh_from_db()
    return b.status


def finished(b):
    return status_of(b) in lifecycle.FINISHED_STATUSES


def assert_delivered_exactly_once(b, fans):
    b.refresh_from_db()
    ids = [x.pk for x in fans]
    assert sorted(Delivery.objects.filter(broadcast=b).values_list("follower_id", flat=True)) == ids
    assert sorted(InboxMessage.objects.filter(broadcast=b).values_list("follower_id", flat=True)) == ids
    assert (b.total_count, b.sent_count, b.filtered_count, b.error_count) == (len(ids), len(ids), 0, 0)
    assert b.batches_done == b.batch_count == DeliveryBatch.objects.filter(broadcast=b, status="done").count()


def beat_process():
    """`celery beat` with the database scheduler, on the test database and broker."""
    env = dict(os.environ)
    db = connection.settings_dict
    env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    log = ROOT / f".pytest-worker-beat-{os.getpid()}.log"
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "operator_console", "beat", "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True,
    )


def test_beat_dispatches_an_approved_broadcast_and_the_worker_delivers_it(celery_worker_process):
    acc = make_account(kind=SUBSCRIPTION)
    fans = make_followers(acc, 30)
    b = make_approved(acc)
    # As if beat had been running for a while: the seeded dispatch task is due at once.
    PeriodicTask.objects.filter(task="broadcasts.tasks.dispatch_due_broadcasts_task").update(
        last_run_at=timezone.now() - timedelta(minutes=5)
    )
    beat = beat_process()
    try:
        wait_for(lambda: finished(b), timeout=60, what="the broadcast to be sent by beat and the worker")
    finally:
        os.killpg(beat.pid, signal.SIGTERM)
        beat.wait(10)

    assert b.status == Broadcast.Status.SENT
    assert b.batch_count == 5  # 30 followers in batches of 7
    assert_delivered_exactly_once(b, fans)
    assert set(InboxMessage.objects.filter(broadcast=b).values_list("folded", flat=True)) == {True}  # R6


def test_the_monthly_cap_holds_when_the_worker_delivers_five_targeted_broadcasts_at_once(celery_worker_process):
    acc = make_account(certified=True)
    fans = make_followers(acc, 6)
    star = fans[0]
    sends = [
        make_approved(acc, channel="api", audience="tag", tag=make_tag(acc, f"t{i}", [star, fans[i + 1]]))
        for i in range(5)
    ]

    dispatch_due_broadcasts_task.delay()
    for b in sends:
        wait_for(lambda b=b: finished(b), timeout=60, what=f"broadcast {b.pk} to finish")

    got = sorted(Delivery.objects.filter(follower=star).values_list("status", flat=True))
    assert got == ["filtered"] + ["sent"] * 4
    assert sum(b.sent_count for b in sends) == 4 + 5 and sum(b.filtered_count for b in sends) == 1
    assert InboxMessage.objects.filter(follower=star).count() == 4
    # The next calendar month resets it.
    later = make_approved(acc, channel="api", audience="tag", tag=sends[0].tag,
                          send_at=window_for("month", timezone.now()).end + timedelta(minutes=1))
    services.dispatch_due_broadcasts(now=later.scheduled_at + timedelta(seconds=1))
    wait_for(lambda: finished(later), timeout=30, what="next month's broadcast")
    assert Delivery.objects.get(broadcast=later, follower=star).status == "sent"


def test_duplicated_tasks_and_concurrent_dispatches_deliver_once(celery_worker_process):
    accounts = [make_account(kind=SUBSCRIPTION) for _ in range(3)]
    audiences = [make_followers(acc, 20) for acc in accounts]
    sends = [make_approved(acc) for acc in accounts]
    results, errors = [], []

    def dispatch():
        try:
            results.append(services.dispatch_due_broadcasts())
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatch) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and sum(results) == 3
    # Every batch task sent once more, as a broker redelivery would.
    for batch_id in DeliveryBatch.objects.values_list("id", flat=True):
        deliver_batch_task.delay(batch_id)
        deliver_batch_task.delay(batch_id)

    for b, fans in zip(sends, audiences, strict=True):
        wait_for(lambda b=b: finished(b), timeout=60, what=f"broadcast {b.pk} to finish")
        assert b.status == Broadcast.Status.SENT
        assert_delivered_exactly_once(b, fans)
        assert b.batch_count == 3


@pytest.mark.parametrize(
    "celery_worker_env",
    [{"BROADCAST_BATCH_SIZE": "7", "BROADCAST_DELIVERY_BACKEND": SLOW, "BROADCAST_TEST_BATCH_DELAY": "0.4",
      "BROADCAST_BATCH_STALE_SECONDS": "3"}],
)
def test_a_worker_killed_mid_broadcast_leaves_nothing_lost_or_doubled(celery_worker_process):
    acc = make_account()
    fans = make_followers(acc, 70)  # 10 batches of 7, 0.4 s each
    b = make_approved(acc)
    services.dispatch_broadcast(b)
    wait_for(lambda: status_of(b) and b.batches_done >= 3, timeout=30, what="three batches delivered")
    # Kill inside a batch, not in the gap between two: wait until one is started and not done
    # (each takes 0.4 s in the slow backend, so the kill lands well inside it).
    under_way = DeliveryBatch.objects.filter(broadcast=b, attempts__gte=1).exclude(status=DeliveryBatch.Status.DONE)
    wait_for(under_way.exists, timeout=30, interval=0.02, what="a batch under way")

    celery_worker_process.kill()  # SIGKILL inside that batch's work
    done_at_crash = b.batches_done
    celery_worker_process.start()

    def finished_with_beat():
        requeue_stale_batches_task.delay()  # what beat does every 30 s
        return finished(b)

    wait_for(finished_with_beat, timeout=90, interval=2, what="the broadcast to finish after the crash")
    assert b.status == Broadcast.Status.SENT
    assert_delivered_exactly_once(b, fans)
    assert done_at_crash < 10
    # The batch the dead worker held was started, rolled back and done again by the new worker.
    assert DeliveryBatch.objects.filter(broadcast=b, attempts__gte=2).exists()


@pytest.mark.parametrize(
    "celery_worker_env",
    [{"BROADCAST_BATCH_SIZE": "7", "BROADCAST_DELIVERY_BACKEND": SLOW, "BROADCAST_TEST_BATCH_DELAY": "0.3"}],
)
def test_pause_resume_and_cancel_take_effect_between_batches(celery_worker_process):
    acc, other = make_account(), make_account()
    fans = make_followers(acc, 70)
    make_followers(other, 70)
    b = make_approved(acc)
    services.dispatch_broadcast(b)
    wait_for(lambda: status_of(b) and b.batches_done >= 2, timeout=30, what="two batches delivered")

    services.pause_broadcast(b, by=None)
    time.sleep(1.0)  # the batch under way completes; queued ones find the broadcast paused
    held = status_of(b) and b.batches_done
    time.sleep(1.0)
    assert status_of(b) == Broadcast.Status.PAUSED and b.batches_done == held < 10

    services.resume_broadcast(b, by=None)
    wait_for(lambda: finished(b), timeout=60, what="the resumed broadcast to finish")
    assert b.status == Broadcast.Status.SENT
    assert_delivered_exactly_once(b, fans)

    c = make_approved(other)
    services.dispatch_broadcast(c)
    wait_for(lambda: status_of(c) and c.batches_done >= 2, timeout=30, what="two batches delivered")
    services.cancel_broadcast(c, by=None)
    wait_for(lambda: status_of(c) and c.batches_done == c.batch_count, timeout=30, what="the batches to close")
    assert c.status == Broadcast.Status.CANCELLED
    assert 2 * 7 <= c.sent_count < 70
    assert c.total_count == c.sent_count == Delivery.objects.filter(broadcast=c).count()


def test_send_broadcast_dispatches_now_and_follows_until_it_is_sent(celery_worker_process):
    acc = make_account()
    make_followers(acc, 20)
    b = make_approved(acc, send_at=timezone.now() + timedelta(days=2))
    out = io.StringIO()

    call_command("send_broadcast", str(b.pk), "--now", "--interval", "0.2", stdout=out)

    b.refresh_from_db()
    assert b.status == Broadcast.Status.SENT and b.sent_count == 20
    assert b.scheduled_at <= timezone.now()
    text = out.getvalue()
    assert "sent 20, filtered 0, failed 0" in text
    assert "Sent:" in text and "recipients/s" in text
