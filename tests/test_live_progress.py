"""Live progress: the JSON endpoint the list and change pages poll (permission-checked, reading
selectors.progress), the live cells and Pause / Resume beside them, "waiting for the dispatcher";
and in headless Chromium, with a slowed send and a real worker, the counter moving without reload."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from broadcasts import services
from broadcasts.models import Broadcast
from tests.browser import chromium_page
from tests.conftest import wait_for
from tests.factories import make_account, make_approved, make_dispatched, make_followers, make_user

PROGRESS = "admin:broadcasts_broadcast_progress"
PASSWORD = "pw-Secret-123"


def poll(client, *broadcasts, **params):
    return client.get(reverse(PROGRESS), {"id": [b.pk for b in broadcasts], **params})


@pytest.mark.django_db
def test_endpoint_answers_the_counters_of_each_asked_broadcast(client):
    client.force_login(make_user("aldo", role="auditor"))
    acc = make_account()
    make_followers(acc, 5)
    sending = make_dispatched(acc)
    services.pause_broadcast(sending, by=None)
    waiting = make_approved(make_account())
    later = make_approved(make_account(), send_at=timezone.now() + timedelta(days=2))

    response = poll(client, sending, waiting, later)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    data = response.json()["rows"]
    assert data[str(sending.pk)] | {"progress_html": "", "status_html": ""} == {
        "status": "paused", "total": 5, "sent": 0, "filtered": 0, "failed": 0, "processed": 0,
        "finished": False, "live": True, "progress_html": "", "status_html": "",
    }
    assert "Paused" in data[str(sending.pk)]["status_html"]
    assert "waiting for the dispatcher" in data[str(waiting.pk)]["progress_html"]
    assert "goes out at" in data[str(later.pk)]["progress_html"]
    # An auditor reads, and is offered no Resume.
    assert "data-bc-control" not in data[str(sending.pk)]["progress_html"]


@pytest.mark.django_db
def test_endpoint_offers_resume_to_a_reviewer_and_ignores_junk_ids(client):
    client.force_login(make_user("rita", role="reviewer"))
    acc = make_account()
    make_followers(acc, 3)
    b = make_dispatched(acc)
    services.pause_broadcast(b, by=None)
    data = client.get(reverse(PROGRESS), {"id": [str(b.pk), "x", "²", "-1"], "next": "//evil.example/"}).json()
    html = data["rows"][str(b.pk)]["progress_html"]
    resume = reverse("admin:broadcasts_broadcast_transition", args=[b.pk, "resume"])
    assert f'href="{resume}"' in html and "evil" not in html
    assert list(data["rows"]) == [str(b.pk)]


@pytest.mark.django_db
def test_endpoint_refuses_who_may_not_see_broadcasts(client):
    b = make_approved(make_account())
    assert poll(client, b).status_code == 302  # not logged in: the login page
    client.force_login(make_user("nils"))
    assert poll(client, b).status_code == 403


@pytest.mark.django_db
def test_list_marks_live_cells_and_finished_ones_stay_static(admin_client):
    acc = make_account()
    make_followers(acc, 2)
    sending = make_dispatched(acc)
    done = make_dispatched(make_account())  # no followers: sent at once
    assert done.status == "sent"
    waiting = make_approved(make_account())  # after the dispatches above, which would have taken it
    page = admin_client.get(reverse("admin:broadcasts_broadcast_changelist")).content.decode()
    assert "console/live_progress.js" in page
    assert f'data-bc-live="1" data-bc-id="{sending.pk}" data-bc-part="progress"' in page
    assert f'data-bc-live="1" data-bc-id="{waiting.pk}" data-bc-part="status"' in page
    assert "Approved; waiting for the dispatcher" in page
    assert f'data-bc-id="{done.pk}"' not in page
    pause = reverse("admin:broadcasts_broadcast_transition", args=[sending.pk, "pause"])
    assert f'href="{pause}?next=' in page
    change = admin_client.get(reverse("admin:broadcasts_broadcast_change", args=[sending.pk])).content.decode()
    assert 'data-bc-mode="page"' in change


@pytest.mark.browser
@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(
    "celery_worker_env",
    [{"BROADCAST_BATCH_SIZE": "5", "BROADCAST_DELIVERY_BACKEND": "tests.backends.SlowInboxBackend",
      "BROADCAST_TEST_BATCH_DELAY": "0.8"}],
)
def test_the_sent_counter_moves_on_the_list_without_reload(live_server, celery_worker_process, settings):
    settings.BROADCAST_BATCH_SIZE = 5
    make_user("rita", role="reviewer", password=PASSWORD)
    acc = make_account(name="Acme Coffee")
    make_followers(acc, 60)
    b = make_approved(acc, title="Slow autumn menu")
    services.dispatch_broadcast(b)
    wait_for(lambda: Broadcast.objects.get(pk=b.pk).status == "sending", what="the send to start")

    with chromium_page() as page:
        page.goto(f"{live_server.url}/admin/login/?next=/admin/broadcasts/broadcast/", wait_until="domcontentloaded")
        page.fill("#id_username", "rita")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        cell = page.locator(f"[data-bc-id='{b.pk}'][data-bc-part='progress']")
        expect(cell).to_have_count(1)
        navigations = []
        page.on("framenavigated", lambda frame: navigations.append(frame.url))
        first = int(cell.get_attribute("data-bc-sent") or -1)
        expect(cell.locator("[data-bc-control='pause']")).to_be_visible()
        # The script redraws the cell: the sent counter moves while the page stays put.
        page.wait_for_function(
            f"() => Number(document.querySelector(\"[data-bc-id='{b.pk}'][data-bc-part='progress']\")"
            f".dataset.bcSent) > 0", timeout=20_000,
        )
        moved = int(cell.get_attribute("data-bc-sent"))
        assert moved > max(first, 0)
        expect(cell).to_contain_text(f"sent {moved}")
        page.screenshot(path="/tmp/live-progress-list.png")
        expect(page.locator(f"[data-bc-id='{b.pk}'][data-bc-part='status']")).to_have_text("Sent", timeout=40_000)
        assert navigations == []


@pytest.mark.django_db
def test_a_change_page_loaded_before_the_send_follows_it_with_pause_and_status(client):
    """Issue 13's workflow test: the reviewer who approved opens the change page, the send starts;
    the page must show it and offer Pause without a reload (its action bar is drawn once)."""
    client.force_login(make_user("rita", role="reviewer"))
    acc = make_account()
    make_followers(acc, 3)
    b = make_approved(acc)
    change = client.get(reverse("admin:broadcasts_broadcast_change", args=[b.pk])).content.decode()
    assert f'data-bc-live="1" data-bc-id="{b.pk}" data-bc-part="progress" data-bc-mode="page"' in change
    assert f'data-bc-live="1" data-bc-id="{b.pk}" data-bc-part="status" data-bc-mode="page"' in change
    assert "Approved; waiting for the dispatcher" in change

    services.dispatch_broadcast(b)
    row = poll(client, b, mode="page").json()["rows"][str(b.pk)]
    pause = reverse("admin:broadcasts_broadcast_transition", args=[b.pk, "pause"])
    assert row["status"] == "sending" and "Sending" in row["status_html"]
    assert f'href="{pause}' in row["progress_html"] and 'data-bc-control="pause"' in row["progress_html"]
    # The action bar is redrawn too: what approval allowed (Reject, Reschedule) is gone once it sends.
    reject = reverse("admin:broadcasts_broadcast_transition", args=[b.pk, "reject"])
    cancel = reverse("admin:broadcasts_broadcast_transition", args=[b.pk, "cancel"])
    assert reject in change and reject not in row["actions_html"] and cancel in row["actions_html"]
    # Loaded while sending: one Pause, in the live cell, not a second (stale after a pause) in the action bar;
    # the bar alone, not the stored counters (drawn once, they contradicted it as it moved).
    change = client.get(reverse("admin:broadcasts_broadcast_change", args=[b.pk])).content.decode()
    assert change.count('data-bc-control="pause"') == 1 and change.count(pause) == 1
    assert "field-progress" in change and "field-sent_count" not in change and "field-batches" not in change
    services.pause_broadcast(b, by=None)
    Broadcast.objects.filter(pk=b.pk).update(status=Broadcast.Status.SENT)  # as the last batch leaves it
    row = poll(client, b, mode="page").json()["rows"][str(b.pk)]
    assert row["live"] is False and cancel not in row["actions_html"]
    assert "field-sent_count" in client.get(reverse("admin:broadcasts_broadcast_change", args=[b.pk])).content.decode()
