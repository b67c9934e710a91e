"""The delivery engine in this process (no worker): dispatch, batches, R5, finish, pause/resume/cancel, requeue."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent, Certification, Follower, OfficialAccount
from accounts.services import revoke_certification, suspend_account
from broadcasts import services
from broadcasts.backends import locmem
from broadcasts.exceptions import InvalidState
from broadcasts.models import Broadcast, Delivery, DeliveryBatch, FollowerQuotaUsage, QuotaReservation
from broadcasts.windows import window_for
from tests.factories import (
    batch_ids,
    deliver_all,
    inbox_of,
    make_account,
    make_approved,
    make_dispatched,
    make_followers,
    make_tag,
    statuses,
)

pytestmark = pytest.mark.django_db

SUBSCRIPTION = OfficialAccount.Kind.SUBSCRIPTION


@pytest.fixture(autouse=True)
def small_batches(settings):
    settings.BROADCAST_BATCH_SIZE = 10
    settings.BROADCAST_DELIVERY_BACKEND = "broadcasts.backends.inbox.InboxBackend"


def verbs(b):
    return list(AuditEvent.objects.filter(object_type="broadcast", object_id=b.pk).order_by("id").values_list("verb", "by"))


# --- dispatch ---


def test_dispatch_snapshots_the_audience_in_batches_of_consecutive_follower_ids():
    acc = make_account()
    fans = make_followers(acc, 25)
    Follower.objects.filter(pk__in=[fans[3].pk, fans[4].pk, fans[20].pk]).update(subscribed=False)
    b = make_approved(acc)

    assert services.dispatch_due_broadcasts(now=timezone.now() + timedelta(seconds=1)) == 1

    b.refresh_from_db()
    assert b.status == Broadcast.Status.SENDING
    assert (b.total_count, b.batch_count, b.batches_done) == (22, 3, 0)
    assert b.started_at is not None
    batches = list(DeliveryBatch.objects.filter(broadcast=b).order_by("number"))
    subscribed = [x.pk for x in fans if x.pk not in (fans[3].pk, fans[4].pk, fans[20].pk)]
    assert [(x.number, x.size) for x in batches] == [(1, 10), (2, 10), (3, 2)]
    assert [(x.first_follower_id, x.last_follower_id) for x in batches] == [
        (subscribed[0], subscribed[9]), (subscribed[10], subscribed[19]), (subscribed[20], subscribed[21])
    ]
    assert all(x.status == DeliveryBatch.Status.PENDING for x in batches)
    assert ("dispatched", None) in verbs(b)


def test_a_follower_list_broadcast_reaches_the_listed_followers_still_subscribed():
    acc = make_account(certified=True)
    fans = make_followers(acc, 30)
    listed = fans[2:27:2]  # 13 followers across the id range
    Follower.objects.filter(pk=listed[0].pk).update(subscribed=False)
    b = make_dispatched(acc, channel="api", audience="followers", recipients=listed)

    deliver_all(b)

    assert (b.status, b.total_count, b.sent_count, b.batch_count) == (Broadcast.Status.SENT, 12, 12, 2)
    assert sorted(statuses(b)) == [x.pk for x in listed[1:]]


def test_a_broadcast_scheduled_later_is_not_dispatched_yet():
    acc = make_account()
    make_followers(acc, 3)
    b = make_approved(acc, send_at=timezone.now() + timedelta(hours=2))

    assert services.dispatch_due_broadcasts() == 0
    assert services.dispatch_due_broadcasts(now=timezone.now() + timedelta(hours=2, seconds=1)) == 1
    b.refresh_from_db()
    assert b.status == Broadcast.Status.SENDING


def test_an_account_suspended_after_approval_fails_the_broadcast_and_releases_its_slot():
    acc = make_account(name="Acme")
    make_followers(acc, 5)
    b = make_approved(acc, send_at=timezone.now() + timedelta(minutes=5))
    assert QuotaReservation.objects.filter(broadcast=b).exists()
    suspend_account(acc, by=None, until=timezone.now() + timedelta(days=3), reason="junk mail")

    assert services.dispatch_due_broadcasts(now=timezone.now() + timedelta(minutes=6)) == 0

    b.refresh_from_db()
    assert b.status == Broadcast.Status.FAILED
    assert "suspended" in b.failure_reason and "junk mail" in b.failure_reason
    assert b.finished_at is not None
    assert not QuotaReservation.objects.filter(broadcast=b).exists()
    assert not DeliveryBatch.objects.filter(broadcast=b).exists()
    assert not Delivery.objects.filter(broadcast=b).exists()
    assert verbs(b)[-1] == ("failed", None)


def test_a_tag_broadcast_whose_certification_was_revoked_before_sending_fails():
    acc = make_account(certified=True)
    fans = make_followers(acc, 4)
    vip = make_tag(acc, "vip", fans[:2])
    b = make_approved(acc, channel="api", audience="tag", tag=vip, send_at=timezone.now() + timedelta(minutes=5))
    revoke_certification(acc.certifications.get(status=Certification.Status.APPROVED), by=None, reason="fraud")

    services.dispatch_due_broadcasts(now=timezone.now() + timedelta(minutes=6))

    b.refresh_from_db()
    assert b.status == Broadcast.Status.FAILED
    assert "certif" in b.failure_reason
    assert not Delivery.objects.filter(broadcast=b).exists()


def test_dispatch_broadcast_refuses_what_is_not_approved():
    acc = make_account()
    b = make_approved(acc, send_at=timezone.now() + timedelta(days=1))
    with pytest.raises(InvalidState) as refused:
        services.dispatch_broadcast(b)
    assert "scheduled for" in str(refused.value)
    services.cancel_broadcast(b, by=None)
    with pytest.raises(InvalidState) as refused:
        services.dispatch_broadcast(b)
    assert refused.value.code == "invalid_state" and "cancelled" in str(refused.value)


# --- deliver and finish ---


def test_a_subscription_broadcast_reaches_every_follower_folded():
    acc = make_account(kind=SUBSCRIPTION)
    fans = make_followers(acc, 23)
    b = make_dispatched(acc)

    assert deliver_all(b) == ["delivered"] * 3

    assert b.status == Broadcast.Status.SENT
    assert (b.total_count, b.sent_count, b.filtered_count, b.error_count) == (23, 23, 0, 0)
    assert (b.batches_done, b.batch_count) == (3, 3)
    assert b.finished_at >= b.started_at
    assert inbox_of(b) == {x.pk: True for x in fans}
    assert set(statuses(b).values()) == {"sent"}
    # Subscription accounts have no follower cap: no counters.
    assert not FollowerQuotaUsage.objects.filter(follower__account=acc).exists()
    assert verbs(b)[-1] == ("sent", None)


def test_a_service_broadcast_shows_in_the_chat_list_and_counts_against_the_cap():
    acc = make_account()
    fans = make_followers(acc, 4)
    b = make_dispatched(acc)
    deliver_all(b)
    assert inbox_of(b) == {x.pk: False for x in fans}
    assert set(FollowerQuotaUsage.objects.filter(follower__account=acc).values_list("count", flat=True)) == {1}


def test_followers_who_unsubscribe_before_their_batch_are_dropped_from_the_total():
    acc = make_account()
    fans = make_followers(acc, 12)
    b = make_dispatched(acc)
    Follower.objects.filter(pk__in=[fans[0].pk, fans[11].pk]).update(subscribed=False)

    deliver_all(b)

    assert (b.status, b.total_count, b.sent_count) == (Broadcast.Status.SENT, 10, 10)
    assert fans[0].pk not in statuses(b) and fans[11].pk not in statuses(b)


def test_a_batch_delivered_twice_is_delivered_once():
    acc = make_account()
    make_followers(acc, 8)
    b = make_dispatched(acc)
    (batch_id,) = batch_ids(b)

    assert services.deliver_batch(batch_id) == "delivered"
    assert services.deliver_batch(batch_id) == "duplicate"

    b.refresh_from_db()
    assert (b.sent_count, b.batches_done) == (8, 1)
    assert Delivery.objects.filter(broadcast=b).count() == 8
    assert set(FollowerQuotaUsage.objects.filter(follower__account=acc).values_list("count", flat=True)) == {1}


def test_the_batch_hot_path_runs_the_same_queries_whatever_its_size(django_assert_max_num_queries, settings):
    settings.BROADCAST_BATCH_SIZE = 500
    small, large = make_account(), make_account()
    make_followers(small, 3)
    make_followers(large, 400)
    b_small, b_large = make_dispatched(small), make_dispatched(large)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        services.deliver_batch(batch_ids(b_small)[0])
    with django_assert_max_num_queries(len(few)):
        services.deliver_batch(batch_ids(b_large)[0])
    b_large.refresh_from_db()
    assert b_large.sent_count == 400


# --- R5: the per-follower monthly cap ---


def test_a_follower_in_several_targeted_audiences_gets_four_a_month_and_the_fifth_is_filtered():
    acc = make_account(certified=True)
    fans = make_followers(acc, 6)
    star = fans[0]  # in every audience
    tags = [make_tag(acc, f"t{i}", [star, fans[i + 1]]) for i in range(5)]
    month = window_for("month", timezone.now() + timedelta(days=1))  # a whole calendar month ahead of us
    sends = [
        make_approved(acc, channel="api", audience="tag", tag=t, send_at=month.end + timedelta(days=1, hours=i))
        for i, t in enumerate(tags)
    ]
    for b in sends:
        services.dispatch_due_broadcasts(now=b.scheduled_at + timedelta(seconds=1))
        b.refresh_from_db()
        deliver_all(b)

    assert [statuses(b)[star.pk] for b in sends] == ["sent"] * 4 + ["filtered"]
    last = sends[-1]
    assert (last.status, last.sent_count, last.filtered_count, last.total_count) == (Broadcast.Status.SENT, 1, 1, 2)
    assert star.pk not in inbox_of(last)
    # The next calendar month in Asia/Shanghai (00:01 local on the 1st) resets the cap.
    next_month = make_approved(acc, channel="api", audience="tag", tag=tags[0],
                               send_at=window_for("month", last.scheduled_at).end + timedelta(minutes=1))
    services.dispatch_due_broadcasts(now=next_month.scheduled_at + timedelta(seconds=1))
    next_month.refresh_from_db()
    deliver_all(next_month)
    assert statuses(next_month)[star.pk] == "sent"


def test_a_failed_delivery_does_not_use_up_a_cap_slot(settings):
    settings.BROADCAST_DELIVERY_BACKEND = "tests.backends.HalfFailingBackend"
    acc = make_account()
    fans = make_followers(acc, 6)
    b = make_dispatched(acc)
    deliver_all(b)

    assert b.status == Broadcast.Status.PARTIALLY_SENT
    assert (b.sent_count, b.error_count, b.total_count) == (3, 3, 6)
    failed = Delivery.objects.filter(broadcast=b, status="failed")
    assert set(failed.values_list("error", flat=True)) == {"Recipient blocked the account."}
    usage = dict(FollowerQuotaUsage.objects.filter(follower__account=acc).values_list("follower_id", "count"))
    assert usage == {x.pk: (1 if x.pk % 2 == 0 else 0) for x in fans}


def test_a_broadcast_where_every_delivery_failed_is_failed_with_the_reason(settings):
    settings.BROADCAST_DELIVERY_BACKEND = "tests.backends.HalfFailingBackend"
    acc = make_account()
    fans = make_followers(acc, 4)
    Follower.objects.filter(pk__in=[x.pk for x in fans if x.pk % 2 == 0]).update(subscribed=False)
    b = make_dispatched(acc)
    deliver_all(b)
    assert (b.status, b.sent_count, b.error_count) == (Broadcast.Status.FAILED, 0, 2)
    assert "Recipient blocked the account." in b.failure_reason


# --- pause, resume, cancel ---


def test_pause_holds_the_remaining_batches_and_resume_sends_them(django_capture_on_commit_callbacks):
    acc = make_account()
    make_followers(acc, 25)
    b = make_dispatched(acc)
    first, second, third = batch_ids(b)
    assert services.deliver_batch(first) == "delivered"

    paused = services.pause_broadcast(b, by=None)
    assert paused.status == Broadcast.Status.PAUSED
    assert services.deliver_batch(second) == "paused"
    b.refresh_from_db()
    assert (b.status, b.sent_count, b.batches_done) == (Broadcast.Status.PAUSED, 10, 1)
    assert DeliveryBatch.objects.get(pk=second).status == DeliveryBatch.Status.PENDING
    with pytest.raises(InvalidState):
        services.pause_broadcast(b, by=None)

    with django_capture_on_commit_callbacks() as queued:
        services.resume_broadcast(b, by=None)
    assert len(queued) == 1  # one enqueue of the two pending batches
    assert services.deliver_batch(second) == "delivered"
    assert services.deliver_batch(third) == "delivered"
    b.refresh_from_db()
    assert (b.status, b.sent_count, b.total_count) == (Broadcast.Status.SENT, 25, 25)
    assert [v for v, _ in verbs(b)][-3:] == ["paused", "resumed", "sent"]


def test_cancel_while_sending_sends_no_further_batch_and_stays_cancelled():
    acc = make_account()
    make_followers(acc, 25)
    b = make_dispatched(acc)
    first, second, third = batch_ids(b)
    services.deliver_batch(first)

    services.cancel_broadcast(b, by=None)
    assert services.deliver_batch(second) == "cancelled"
    assert services.deliver_batch(third) == "cancelled"

    b.refresh_from_db()
    assert b.status == Broadcast.Status.CANCELLED
    assert (b.sent_count, b.total_count, b.batches_done) == (10, 10, 3)
    assert Delivery.objects.filter(broadcast=b).count() == 10
    assert b.finished_at is not None


def test_resume_refuses_a_broadcast_that_is_not_paused():
    acc = make_account()
    make_followers(acc, 2)
    b = make_dispatched(acc)
    with pytest.raises(InvalidState) as refused:
        services.resume_broadcast(b, by=None)
    assert "Only a paused broadcast" in str(refused.value)


# --- crashes: requeue ---


def test_requeue_picks_started_batches_with_an_old_heartbeat(settings):
    settings.BROADCAST_BATCH_STALE_SECONDS = 60
    acc = make_account()
    make_followers(acc, 30)
    b = make_dispatched(acc)
    first, second, third = batch_ids(b)
    services.deliver_batch(first)
    # A worker started the second batch and died: its heartbeat is committed, its work is not.
    DeliveryBatch.objects.filter(pk=second).update(attempts=1, heartbeat=timezone.now())

    assert services.requeue_stale_batches() == 0
    soon = timezone.now() + timedelta(seconds=61)
    # The third batch never started but the broadcast progressed recently... until it did not.
    DeliveryBatch.objects.filter(pk=first).update(finished_at=timezone.now() + timedelta(seconds=30))
    assert services.requeue_stale_batches(now=soon) == 1
    assert DeliveryBatch.objects.get(pk=second).heartbeat >= soon - timedelta(seconds=1)
    assert services.requeue_stale_batches(now=soon + timedelta(seconds=60)) == 1
    assert DeliveryBatch.objects.get(pk=third).heartbeat >= soon + timedelta(seconds=59)


def test_requeue_leaves_paused_broadcasts_alone_and_closes_cancelled_ones_at_once():
    acc = make_account()
    make_followers(acc, 15)
    paused = make_dispatched(acc)
    services.pause_broadcast(paused, by=None)
    assert services.requeue_stale_batches(now=timezone.now() + timedelta(hours=1)) == 0

    other = make_account()
    make_followers(other, 15)
    cancelled = make_dispatched(other)
    services.cancel_broadcast(cancelled, by=None)
    assert services.requeue_stale_batches() == 2


# --- backends ---


def test_the_locmem_backend_gets_each_batch_with_its_sent_followers(settings):
    settings.BROADCAST_DELIVERY_BACKEND = "broadcasts.backends.locmem.LocmemBackend"
    locmem.outbox.clear()
    acc = make_account(kind=SUBSCRIPTION)
    fans = make_followers(acc, 12)
    b = make_dispatched(acc, title="Autumn menu")
    deliver_all(b)
    assert [len(x.follower_ids) for x in locmem.outbox] == [10, 2]
    assert sorted(i for x in locmem.outbox for i in x.follower_ids) == [x.pk for x in fans]
    assert {(x.broadcast_id, x.folded, x.app_id, x.message["title"]) for x in locmem.outbox} == {
        (b.pk, True, acc.app_id, "Autumn menu")
    }
    assert b.status == Broadcast.Status.SENT and b.sent_count == 12
