"""send_broadcast, broadcast_status and dispatch_broadcasts as an operator runs them (no worker here:
the end-to-end run of send_broadcast with a worker is in test_delivery_worker)."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import Follower
from accounts.services import suspend_account
from broadcasts import services
from broadcasts.models import Broadcast
from tests.factories import deliver_all, make_account, make_approved, make_dispatched, make_followers, make_people

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_send_broadcast_names_what_it_cannot_send():
    with pytest.raises(CommandError, match=r"Broadcast #999999 does not exist\."):
        run("send_broadcast", "999999")

    acc = make_account()
    author, _ = make_people()
    draft = services.create_broadcast(acc, by=author, title="Draft", message_type="text", body="hi")
    with pytest.raises(CommandError, match=r"is draft; only approved broadcasts can be sent"):
        run("send_broadcast", str(draft.pk))

    later = make_approved(acc, send_at=timezone.now() + timedelta(days=1))
    with pytest.raises(CommandError, match=r"is scheduled for later; pass --now to send it now"):
        run("send_broadcast", str(later.pk))
    later.refresh_from_db()
    assert later.status == Broadcast.Status.APPROVED


def test_send_broadcast_reports_a_broadcast_that_may_no_longer_be_sent():
    acc = make_account(name="Acme")
    make_followers(acc, 3)
    b = make_approved(acc, send_at=timezone.now() + timedelta(hours=1))
    suspend_account(acc, by=None, until=None, reason="spam complaints")

    with pytest.raises(CommandError, match=r"suspended") as refused:
        run("send_broadcast", str(b.pk), "--now")
    assert "spam complaints" in str(refused.value)


def test_send_broadcast_warns_when_nothing_moves_and_stops_at_its_timeout():
    acc = make_account()
    make_followers(acc, 3)
    b = make_approved(acc)
    out, err = io.StringIO(), io.StringIO()
    # No worker runs in this test (and its tasks are never queued): nothing moves.
    with pytest.raises(CommandError, match=r"Stopped waiting after 0.6 s with 0 of 3 followers done"):
        call_command("send_broadcast", str(b.pk), "--stall-warning", "0.3", "--timeout", "0.6",
                     "--interval", "0.1", stdout=out, stderr=err)
    assert "sending: 0 of 3 — sent 0, filtered 0, failed 0 (0/1 batch)" in out.getvalue()
    assert "are Celery workers running?" in err.getvalue()
    b.refresh_from_db()
    assert b.status == Broadcast.Status.SENDING


def test_broadcast_status_shows_counters_timings_and_rate():
    acc = make_account(name="Acme")
    fans = make_followers(acc, 5)
    Follower.objects.filter(pk=fans[0].pk).update(subscribed=False)
    b = make_dispatched(acc, title="Autumn menu")
    deliver_all(b)

    out, _ = run("broadcast_status", str(b.pk))

    assert f"Broadcast #{b.pk} “Autumn menu”" in out
    for line in ("Status:    Sent", "Total:     4", "Sent:      4", "Filtered:  0 (at the monthly cap)",
                 "Failed:    0", "Batches:   1 of 1 done", "recipients/s", "Duration:", "(Asia/Shanghai)"):
        assert line in out
    with pytest.raises(CommandError, match="does not exist"):
        run("broadcast_status", "999999")


def test_dispatch_broadcasts_runs_the_dispatch_once():
    acc = make_account()
    make_followers(acc, 2)
    b = make_approved(acc)
    out, _ = run("dispatch_broadcasts")
    assert out.strip() == "Dispatched 1 broadcast."
    b.refresh_from_db()
    assert b.status == Broadcast.Status.SENDING
    assert run("dispatch_broadcasts")[0].strip() == "Dispatched 0 broadcasts."
