"""The job-finished event end to end: an API broadcast to a tag, dispatched, delivered by a real Celery
worker on the real Redis broker, and its MASSSENDJOBFINISH pushed by that worker to a local server
that checks it with wechatpy, in plain and in safe mode; a server answering 500 is retried."""

import secrets
import string

import pytest
from django.urls import reverse
from django.utils import timezone

from broadcasts import lifecycle, services
from broadcasts.models import Broadcast, FollowerQuotaUsage, PushAttempt
from broadcasts.windows import window_for
from tests.account_server import AccountServer
from tests.conftest import wait_for
from tests.factories import make_account, make_approved, make_followers, make_tag

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

TOKEN = "Tok3nForPushes"
HALF_FAILING = "tests.backends.HalfFailingBackend"


def finished(b):
    b.refresh_from_db()
    return b.status in lifecycle.FINISHED_STATUSES


def send_to_tag(acc, fans):
    """An API broadcast to a tag holding `fans`: created, submitted, approved and dispatched through the services."""
    b = make_approved(acc, channel="api", audience="tag", tag=make_tag(acc, "vip", fans))
    services.dispatch_broadcast(b)
    wait_for(lambda: finished(b), timeout=60, what="the broadcast to finish")
    return b


@pytest.mark.parametrize(
    ("safe_mode", "celery_worker_env"),
    [(False, {"BROADCAST_DELIVERY_BACKEND": HALF_FAILING}), (True, {})],
    ids=["plain-partially-sent", "safe-sent"],
)
def test_the_worker_pushes_the_job_finished_event_that_a_wechatpy_server_accepts(safe_mode, celery_worker_process):
    key = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(43)) if safe_mode else ""
    acc = make_account(certified=True)
    fans = make_followers(acc, 7)
    capped = fans[0]  # at R5's monthly cap already: filtered, so FilterCount is 6 of 7
    FollowerQuotaUsage.objects.create(follower=capped, window_start=window_for("month", timezone.now()).start_date,
                                      count=4)
    with AccountServer(token=TOKEN, app_id=acc.app_id, encoding_aes_key=key) as server:
        acc.server_url, acc.server_token, acc.encoding_aes_key = server.url, TOKEN, key
        acc.save()
        b = send_to_tag(acc, fans)
        console = make_approved(acc)  # the same account's console broadcast is not pushed
        services.dispatch_broadcast(console)
        wait_for(lambda: finished(console) and server.events, timeout=30, what="the push")
        wait_for(lambda: PushAttempt.objects.filter(broadcast=b).exists(), timeout=10, what="the attempt row")

    assert server.problems == []
    (event,) = server.events
    assert (event.type, event.event, event.id, event.target) == ("event", "masssendjobfinish", b.pk, acc.app_id)
    assert (event.total_count, event.filter_count, event.sent_count, event.error_count) == (
        7, b.sent_count + b.error_count, b.sent_count, b.error_count)
    assert (b.total_count, b.filtered_count, event.filter_count) == (7, 1, 6)
    assert event.status == "send success"
    if safe_mode:
        assert b.status == Broadcast.Status.SENT and event.error_count == 0
    else:  # the half-failing backend: some sent, some not (still "send success", as on the platform)
        assert b.status == Broadcast.Status.PARTIALLY_SENT and event.sent_count > 0 and event.error_count > 0
    attempt = PushAttempt.objects.get(broadcast=b)
    assert (attempt.outcome, attempt.status_code, attempt.encrypted) == ("delivered", 200, safe_mode)
    assert not PushAttempt.objects.filter(broadcast=console).exists()


def test_a_server_answering_500_is_retried_and_every_attempt_shows_in_the_admin(celery_worker_process, admin_client):
    acc = make_account(certified=True)
    fans = make_followers(acc, 3)
    with AccountServer(token=TOKEN, app_id=acc.app_id, statuses=[500, 500, 200]) as server:
        acc.server_url, acc.server_token = server.url, TOKEN
        acc.save()
        b = send_to_tag(acc, fans)
        wait_for(lambda: PushAttempt.objects.filter(broadcast=b, outcome="delivered").exists(), timeout=60,
                 what="the third attempt to be delivered")

    assert server.problems == [] and len(server.events) == 3
    assert [e.id for e in server.events] == [b.pk] * 3
    attempts = list(PushAttempt.objects.filter(broadcast=b).order_by("number").values_list("number", "outcome",
                                                                                            "status_code"))
    assert attempts == [(1, "retrying", 500), (2, "retrying", 500), (3, "delivered", 200)]
    page = admin_client.get(reverse("admin:broadcasts_broadcast_change", args=[b.pk])).content.decode()
    assert "3 attempts · Delivered (HTTP 200)" in page
    listing = admin_client.get(reverse("admin:broadcasts_pushattempt_changelist") + f"?broadcast_id={b.pk}")
    rows = listing.content.decode()
    assert rows.count('<td class="field-outcome">Failed, will retry</td>') == 2
    assert rows.count('<td class="field-outcome">Delivered</td>') == 1
