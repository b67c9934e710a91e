"""The job-finished event (MASSSENDJOBFINISH) in this process: the wire format checked by wechatpy,
when a push is queued (on the real Redis broker), the answers (refused, transient, gave up, unreachable),
and the server settings and attempts in the admin. End to end through a real worker: test_job_finished_worker."""

import base64
import json
import secrets
import string
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from wechatpy.crypto import PrpCrypto
from wechatpy.events import MassSendJobFinishEvent

from accounts.models import OfficialAccount
from accounts.services import suspend_account
from broadcasts import platform_push, services
from broadcasts.exceptions import PushUnavailable
from broadcasts.models import Broadcast, PushAttempt
from broadcasts.task_names import PUSH_JOB_FINISHED
from tests.account_server import AccountServer
from tests.factories import (
    deliver_all,
    make_account,
    make_approved,
    make_dispatched,
    make_followers,
    make_tag,
    make_user,
)

pytestmark = pytest.mark.django_db

TOKEN = "Tok3nForPushes"


def aes_key() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(43))


@pytest.fixture(autouse=True)
def inbox(settings):
    settings.BROADCAST_DELIVERY_BACKEND = "broadcasts.backends.inbox.InboxBackend"
    settings.BROADCAST_PUSH_TIMEOUT = 2


@pytest.fixture
def broker():
    """The real Redis broker, emptied: `queued()` lists (task name, args) of the messages waiting on the
    control queue (where pushes go; deliveries go to the bulk queue)."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()

    def queued():
        messages = [json.loads(raw) for raw in client.lrange("control", 0, -1)]
        return sorted((m["headers"]["task"], m["headers"]["argsrepr"]) for m in messages)

    yield queued
    client.flushdb()


def point_to(acc, server):
    """The account's server settings, as ops set them in the admin (the account row's other fields untouched)."""
    OfficialAccount.objects.filter(pk=acc.pk).update(server_url=server.url, server_token=TOKEN)


def finished_api_broadcast(acc, n=5):
    """An API broadcast to a tag of `n` followers of `acc`, delivered in this process."""
    tag = make_tag(acc, f"vip{secrets.token_hex(3)}", make_followers(acc, n, prefix=f"o{secrets.token_hex(3)}-"))
    b = make_dispatched(acc, channel="api", audience="tag", tag=tag)
    deliver_all(b)
    return b


@pytest.mark.parametrize("safe_mode", [False, True], ids=["plain", "safe"])
def test_the_push_is_the_platforms_event_and_wechatpy_accepts_it(safe_mode):
    key = aes_key() if safe_mode else ""
    acc = make_account(certified=True, encoding_aes_key=key)
    b = finished_api_broadcast(acc, 5)
    with AccountServer(token=TOKEN, app_id=acc.app_id, encoding_aes_key=key) as server:
        point_to(acc, server)
        assert services.push_job_finished(b.pk) == "delivered"

    assert server.problems == []
    (event,) = server.events
    assert isinstance(event, MassSendJobFinishEvent)
    assert (event.id, event.status, event.target, event.time) == (
        b.pk, "send success", acc.app_id, int(b.finished_at.timestamp()))
    assert (event.total_count, event.filter_count, event.sent_count, event.error_count) == (5, 5, 5, 0)
    (attempt,) = PushAttempt.objects.filter(broadcast=b)
    assert (attempt.number, attempt.outcome, attempt.status_code, attempt.response) == (1, "delivered", 200, "success")
    assert attempt.encrypted is safe_mode and "<Event><![CDATA[MASSSENDJOBFINISH]]></Event>" in attempt.event_xml
    # Delivered once: a duplicated or redelivered task pushes nothing more.
    assert services.push_job_finished(b.pk) == "duplicate"
    assert len(server.events) == 1


def test_filter_count_is_what_is_left_after_filtering_and_nobody_reached_is_send_fail():
    acc = make_account(certified=True)
    b = Broadcast(account=acc, status=Broadcast.Status.PARTIALLY_SENT, total_count=10, filtered_count=3,
                  sent_count=5, error_count=2, finished_at=timezone.now())
    event = services.job_finished_event(b)
    assert (event.status, event.total_count, event.filter_count, event.sent_count, event.error_count) == (
        "send success", 10, 7, 5, 2)
    b.status, b.sent_count = Broadcast.Status.FAILED, 0
    assert services.job_finished_event(b).status == "send fail"


def test_a_server_answer_that_is_not_2xx_or_5xx_is_refused_for_good():
    acc = make_account(certified=True)
    b = finished_api_broadcast(acc, 2)
    with AccountServer(token=TOKEN, app_id=acc.app_id, statuses=[404]) as server:
        point_to(acc, server)
        assert services.push_job_finished(b.pk) == "refused"
        assert services.push_job_finished(b.pk) == "duplicate"
    assert len(server.events) == 1
    assert list(PushAttempt.objects.filter(broadcast=b).values_list("outcome", "status_code", "response")) == [
        ("refused", 404, "server trouble")]


def test_a_5xx_is_transient_until_the_last_attempt_gives_up():
    acc = make_account(certified=True)
    b = finished_api_broadcast(acc, 2)
    with AccountServer(token=TOKEN, app_id=acc.app_id, statuses=[503]) as server:
        point_to(acc, server)
        with pytest.raises(PushUnavailable, match="HTTP 503"):
            services.push_job_finished(b.pk)
        assert services.push_job_finished(b.pk, final_attempt=True) == "gave_up"
    assert len(server.events) == 2
    assert list(PushAttempt.objects.filter(broadcast=b).order_by("number").values_list("number", "outcome")) == [
        (1, "retrying"), (2, "gave_up")]


def test_an_unreachable_server_is_transient_and_the_error_is_kept():
    with AccountServer(token=TOKEN, app_id="wx0") as closed:
        url = closed.url  # the port is free again once the server is gone
    acc = make_account(certified=True, server_url=url, server_token=TOKEN)
    b = finished_api_broadcast(acc, 1)
    with pytest.raises(PushUnavailable, match="ConnectionError"):
        services.push_job_finished(b.pk)
    attempt = PushAttempt.objects.get(broadcast=b)
    assert (attempt.outcome, attempt.status_code) == ("retrying", None) and "ConnectionError" in attempt.error


def test_finishing_queues_the_push_by_task_name_only_for_api_broadcasts_of_accounts_with_a_server(
        broker, django_capture_on_commit_callbacks):
    acc = make_account(certified=True, server_url="https://example.invalid/wx", server_token=TOKEN)
    no_server = make_account(certified=True)
    fans = make_followers(acc, 3)
    api = make_dispatched(acc, channel="api", audience="tag", tag=make_tag(acc, "vip", fans))
    console = make_dispatched(acc)
    silent = make_dispatched(no_server, channel="api", audience="all")
    with django_capture_on_commit_callbacks(execute=True):
        for b in (api, console, silent):
            deliver_all(b)
    assert [b.status for b in (api, console, silent)] == ["sent"] * 3
    assert broker() == [(PUSH_JOB_FINISHED, f"({api.pk},)")]


def test_an_api_broadcast_failed_at_send_time_is_pushed_as_send_fail(broker, django_capture_on_commit_callbacks):
    acc = make_account(certified=True)
    fans = make_followers(acc, 3)
    b = make_approved(acc, channel="api", audience="tag", tag=make_tag(acc, "vip", fans))
    suspend_account(acc, by=None, until=None, reason="Spam")
    with AccountServer(token=TOKEN, app_id=acc.app_id) as server:
        point_to(acc, server)
        with django_capture_on_commit_callbacks(execute=True):
            services.dispatch_due_broadcasts(now=timezone.now() + timedelta(seconds=1))
        b.refresh_from_db()
        assert b.status == Broadcast.Status.FAILED
        assert broker() == [(PUSH_JOB_FINISHED, f"({b.pk},)")]
        assert services.push_job_finished(b.pk) == "delivered"
    (event,) = server.events
    assert (event.status, event.total_count, event.filter_count, event.sent_count) == ("send fail", 0, 0, 0)


def test_cancelled_or_console_broadcasts_are_not_pushed():
    acc = make_account(certified=True, server_url="https://example.invalid/wx", server_token=TOKEN)
    make_followers(acc, 2)
    console = make_dispatched(acc)
    deliver_all(console)
    cancelled = make_dispatched(acc, channel="api", audience="all")
    services.cancel_broadcast(cancelled, by=None)
    assert services.push_job_finished(console.pk) == "not_pushed"
    assert services.push_job_finished(cancelled.pk) == "not_pushed"
    assert not PushAttempt.objects.exists()


def test_safe_mode_pads_to_the_platforms_32_byte_blocks_and_wechatpy_reads_every_length():
    key = aes_key()
    for size in (9, 10, 11, 41, 42, 43):  # 16 random + 4 length + size + 2 ("wx"): 32 and 64 at 10 and 42
        envelope = platform_push.encrypt("x" * size, encoding_aes_key=key, app_id="wx")
        assert len(base64.b64decode(envelope)) % 32 == 0
        assert PrpCrypto(base64.b64decode(key + "=")).decrypt(envelope, "wx") == "x" * size


# --- the admin ---------------------------------------------------------------------------------


def account_change(admin_client, acc, **fields):
    data = {"name": acc.name, "kind": acc.kind, "owner_name": acc.owner_name, "contact_email": "",
            "server_url": "", "server_token": "", "encoding_aes_key": "",
            "menu_items-TOTAL_FORMS": "0", "menu_items-INITIAL_FORMS": "0",
            "certifications-TOTAL_FORMS": "0", "certifications-INITIAL_FORMS": "0", **fields}
    return admin_client.post(reverse("admin:accounts_officialaccount_change", args=[acc.pk]), data)


def test_ops_set_the_server_in_the_account_admin_and_bad_values_are_form_errors(admin_client):
    acc = make_account()
    key = aes_key()
    page = admin_client.get(reverse("admin:accounts_officialaccount_change", args=[acc.pk]))
    assert 'name="server_url"' in page.content.decode() and 'name="encoding_aes_key"' in page.content.decode()

    refused = account_change(admin_client, acc, server_url="https://dev.example.com/wx", encoding_aes_key=key[:42])
    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors
    assert "encoding_aes_key" in errors and "A server URL needs the token" in str(errors)
    refused = account_change(admin_client, acc, server_url="ftp://dev.example.com/wx", server_token="ab")
    assert set(refused.context["adminform"].form.errors) == {"server_url", "server_token"}

    saved = account_change(admin_client, acc, server_url="https://dev.example.com/wx", server_token=TOKEN,
                           encoding_aes_key=key)
    assert saved.status_code == 302
    acc.refresh_from_db()
    assert (acc.server_url, acc.server_token, acc.encoding_aes_key) == ("https://dev.example.com/wx", TOKEN, key)


def test_each_attempt_and_its_answer_is_visible_from_the_broadcast(admin_client):
    acc = make_account(certified=True)
    b = finished_api_broadcast(acc, 2)
    with AccountServer(token=TOKEN, app_id=acc.app_id, statuses=[502, 200]) as server:
        point_to(acc, server)
        with pytest.raises(PushUnavailable):
            services.push_job_finished(b.pk)
        services.push_job_finished(b.pk)

    page = admin_client.get(reverse("admin:broadcasts_broadcast_change", args=[b.pk])).content.decode()
    link = reverse("admin:broadcasts_pushattempt_changelist") + f"?broadcast_id={b.pk}"
    assert "2 attempts · Delivered (HTTP 200)" in page and link in page
    listing = admin_client.get(link).content.decode()
    assert "Failed, will retry" in listing and "server trouble" in listing and "Delivered" in listing
    attempt = PushAttempt.objects.get(broadcast=b, number=2)
    detail = admin_client.get(reverse("admin:broadcasts_pushattempt_change", args=[attempt.pk]))
    assert detail.status_code == 200 and "MASSSENDJOBFINISH" in detail.content.decode()
    assert admin_client.post(reverse("admin:broadcasts_pushattempt_delete", args=[attempt.pk])).status_code == 403


def test_an_auditor_reads_the_attempts_and_cannot_change_the_server(client):
    auditor = make_user(role="auditor")
    acc = make_account(certified=True)
    b = finished_api_broadcast(acc, 1)
    PushAttempt.objects.create(broadcast=b, number=1, url="https://dev.example.com/wx", encrypted=False,
                               event_xml="<xml/>", outcome="refused", status_code=404)
    client.force_login(auditor)
    listing = client.get(reverse("admin:broadcasts_pushattempt_changelist") + f"?broadcast_id={b.pk}")
    assert listing.status_code == 200 and "Refused by the server" in listing.content.decode()
    refused = account_change(client, acc, server_url="https://evil.example.com/wx", server_token=TOKEN)
    assert refused.status_code == 403
    acc.refresh_from_db()
    assert acc.server_url == ""
