"""Double clicks, the Back button and two tabs on the broadcast workflow: the second of two posts of one
transition has no second effect and reads a sentence (never a 500 or a 403), whichever tab wins."""

from __future__ import annotations

import re
import threading
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent
from broadcasts import services
from broadcasts.models import Broadcast, InboxMessage, QuotaReservation
from tests.conftest import wait_for
from tests.factories import inbox_of, make_account, make_dispatched, make_draft, make_followers, make_pending, make_user
from tests.test_admin_accounts import messages_of, text

pytestmark = pytest.mark.django_db

Status = Broadcast.Status


def transition_url(b: Broadcast, name: str) -> str:
    return reverse("admin:broadcasts_broadcast_transition", args=[b.pk, name])


def logged_in(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def events(b: Broadcast, verb: str) -> int:
    return AuditEvent.objects.filter(object_type="broadcast", object_id=str(b.pk), verb=verb).count()


def post_twice(c: Client, b: Broadcast, name: str, data=None):
    """The confirmation page's button clicked twice (or submitted again after Back): two POSTs of one form."""
    first = c.post(transition_url(b, name), data or {}, follow=True)
    second = c.post(transition_url(b, name), data or {}, follow=True)
    return first, second


@pytest.fixture
def people():
    return {
        "op": make_user("olga", role="operator"),
        "rev": make_user("rita", role="reviewer"),
        "rev2": make_user("rob", role="reviewer"),
    }


@pytest.fixture
def acme():
    account = make_account(name="Acme Service")
    make_followers(account, 3)
    return account


def make_in(state: str, account, people) -> Broadcast:
    if state == "draft":
        return make_draft(account, by=people["op"])
    if state == "pending":
        return make_pending(account, by=people["op"])
    b = make_dispatched(account)  # sending: its batches wait for a worker
    return services.pause_broadcast(b, by=people["rev"]) if state == "paused" else b


@pytest.mark.parametrize(
    ("name", "start", "who", "data", "end", "verb"),
    [
        ("submit", "draft", "op", {}, Status.PENDING_REVIEW, "submitted"),
        ("withdraw", "pending", "op", {}, Status.DRAFT, "withdrawn"),
        ("cancel", "draft", "op", {}, Status.CANCELLED, "cancelled"),
        ("approve", "pending", "rev", {}, Status.APPROVED, "approved"),
        ("cancel", "pending", "rev", {}, Status.CANCELLED, "cancelled"),
        ("reject", "pending", "rev", {"reason": "Too loud."}, Status.REJECTED, "rejected"),
        ("pause", "sending", "rev", {}, Status.PAUSED, "paused"),
        ("resume", "paused", "rev", {}, Status.SENDING, "resumed"),
        ("cancel", "sending", "rev", {}, Status.CANCELLED, "cancelled"),
    ],
)
def test_a_transition_posted_twice_acts_once_and_the_second_post_says_why(
    people, acme, name, start, who, data, end, verb
):
    b = make_in(start, acme, people)
    c = logged_in(people[who])

    first, second = post_twice(c, b, name, data)

    b.refresh_from_db()
    assert first.status_code == second.status_code == 200
    assert b.status == end
    assert events(b, verb) == 1
    assert len(messages_of(second)) == 1
    assert messages_of(second)[0] not in messages_of(first)
    assert f"is {b.get_status_display().lower()}" in messages_of(second)[0]  # the lifecycle's sentence


def test_an_operators_second_click_on_cancel_of_a_draft_reads_why_not_a_403(people, acme):
    b = make_draft(acme, by=people["op"])
    c = logged_in(people["op"])

    first, second = post_twice(c, b, "cancel")

    assert second.status_code == 200
    assert messages_of(second) == ["“Autumn menu” is cancelled; only broadcasts not yet finished can be cancelled."]
    assert events(b, "cancelled") == 1


def test_a_stale_confirmation_page_names_the_status_it_would_be_refused_for(people, acme):
    b = make_pending(acme, by=people["op"])
    c = logged_in(people["rev"])
    c.post(transition_url(b, "approve"), {})

    page = text(c.get(transition_url(b, "approve")))

    assert "“Autumn menu” of Acme Service is approved ." in page
    assert "Only broadcasts pending review can be approved; “Autumn menu” is approved. Trying will be refused." in page


def test_who_has_no_role_for_a_transition_is_still_forbidden(people, acme):
    b = make_draft(acme, by=people["op"])
    auditor = logged_in(make_user("ada", role="auditor"))

    assert auditor.post(transition_url(b, "cancel"), {}).status_code == 403
    assert (
        logged_in(people["op"]).post(transition_url(make_pending(acme, by=people["op"]), "approve"), {}).status_code
        == 403
    )
    b.refresh_from_db()
    assert b.status == Status.DRAFT


# --- two tabs at the same moment ---------------------------------------------------------------------

RACE = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def shown(response) -> list[str]:
    """The messages on the page (read from its HTML: the test client's response.context is not
    reliable for requests made at the same moment from several threads)."""
    found = re.search(r'<ul class="messagelist">(.*?)</ul>', response.content.decode(), re.S)
    return [unescape(m).strip() for m in re.findall(r"<li[^>]*>(.*?)</li>", found.group(1), re.S)] if found else []


def at_once(*posts) -> list:
    """Each (client, url, data) posted from its own thread at the same moment; the responses, in order."""
    barrier = threading.Barrier(len(posts))
    responses = [None] * len(posts)

    def click(i, c, url, data):
        try:
            barrier.wait(10)
            responses[i] = c.post(url, data, follow=True)
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(i, *p)) for i, p in enumerate(posts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return responses


def test_cancel_in_one_tab_then_approve_in_the_other_reads_why(people, acme):
    b = make_pending(acme, by=people["op"])
    tabs = logged_in(people["rev"]), logged_in(people["rev2"])
    tabs[1].get(transition_url(b, "approve"))  # the approval page open in the other tab

    tabs[0].post(transition_url(b, "cancel"), {})
    approved = tabs[1].post(transition_url(b, "approve"), {}, follow=True)

    b.refresh_from_db()
    assert b.status == Status.CANCELLED and events(b, "approved") == 0
    assert messages_of(approved) == ["Only broadcasts pending review can be approved; “Autumn menu” is cancelled."]


@RACE
def test_approve_and_cancel_from_two_tabs_at_once_end_cancelled_with_no_500(people, acme):
    """Cancel first: approval is refused with a sentence. Approve first: cancel then stops the
    approved broadcast (its slot given back). Either way it ends cancelled and each tab says so."""
    b = make_pending(acme, by=people["op"])
    tabs = logged_in(people["rev"]), logged_in(people["rev2"])

    approved, cancelled = at_once(
        (tabs[0], transition_url(b, "approve"), {}), (tabs[1], transition_url(b, "cancel"), {})
    )

    b.refresh_from_db()
    assert approved.status_code == cancelled.status_code == 200
    assert b.status == Status.CANCELLED and events(b, "cancelled") == 1
    assert shown(cancelled) == ["“Autumn menu” cancelled."]
    assert shown(approved) in (
        ["Only broadcasts pending review can be approved; “Autumn menu” is cancelled."],
        ["“Autumn menu” approved; it will be sent within a minute."],
    )
    assert not QuotaReservation.objects.filter(account=acme).exists()  # no slot held by a cancelled broadcast


@RACE
@pytest.mark.parametrize(
    ("name", "start", "end"), [("pause", "sending", Status.PAUSED), ("resume", "paused", Status.SENDING)]
)
def test_pause_or_resume_from_two_tabs_at_once_acts_once(people, acme, name, start, end):
    b = make_in(start, acme, people)
    tabs = logged_in(people["rev"]), logged_in(people["rev2"])

    responses = at_once(*((tab, transition_url(b, name), {}) for tab in tabs))

    b.refresh_from_db()
    assert [r.status_code for r in responses] == [200, 200]
    assert b.status == end
    assert events(b, f"{name}d") == 1
    said = sorted(m for r in responses for m in shown(r))
    assert len(said) == 2 and f"“Autumn menu” {name}d." in said


SLOW_SEND = {
    "BROADCAST_BATCH_SIZE": "5",
    "BROADCAST_DELIVERY_BACKEND": "tests.backends.SlowInboxBackend",
    "BROADCAST_TEST_BATCH_DELAY": "0.4",
}


@pytest.mark.worker
@RACE
@pytest.mark.parametrize("celery_worker_env", [SLOW_SEND])
def test_pause_twice_and_resume_twice_during_a_real_send_deliver_each_follower_once(
    people, acme, celery_worker_process, settings
):
    settings.BROADCAST_BATCH_SIZE = 5
    fans = make_followers(acme, 97, prefix="slow")
    b = services.approve_broadcast(make_pending(acme, by=people["op"]), by=people["rev"])
    services.dispatch_broadcast(b)
    wait_for(lambda: Broadcast.objects.get(pk=b.pk).sent_count > 0, timeout=30, what="the send to start")
    tabs = logged_in(people["rev"]), logged_in(people["rev2"])

    paused = at_once(*((tab, transition_url(b, "pause"), {}) for tab in tabs))
    b.refresh_from_db()
    assert b.status == Status.PAUSED
    resumed = at_once(*((tab, transition_url(b, "resume"), {}) for tab in tabs))
    wait_for(lambda: Broadcast.objects.get(pk=b.pk).status == Status.SENT, timeout=60, what="the send to finish")

    assert [r.status_code for r in paused + resumed] == [200] * 4
    assert (events(b, "paused"), events(b, "resumed")) == (1, 1)
    assert sorted(m for r in resumed for m in shown(r)) == [
        "Only a paused broadcast can be resumed; “Autumn menu” is sending.",
        "“Autumn menu” resumed.",
    ]
    inbox = inbox_of(b)
    assert len(inbox) == len(fans) + 3 and InboxMessage.objects.filter(broadcast=b).count() == len(inbox)
