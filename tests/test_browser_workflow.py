"""Issue 13, "The operator's day", end to end in headless Chromium: an operator and a reviewer, each in
a browser context of their own, on the live server with a real Celery worker and a slowed delivery.

The operator writes a draft that draws an eligibility warning, fixes it, submits with an unsaved edit
typed in, withdraws and resubmits; the reviewer approves it from the review queue, watches the live
progress move on the change page without a reload, pauses, resumes, and it is sent; a second broadcast
is rejected with a reason, which the operator reads and duplicates into a new draft. A screenshot of
each step is saved under test-artifacts/workflow/ (git-ignored) for people to look at.
"""

import time
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import expect

from accounts.models import Certification, OfficialAccount
from broadcasts import services
from broadcasts.models import Broadcast
from tests.browser import chromium_pages
from tests.conftest import wait_for
from tests.factories import PASSWORD, certify, make_account, make_followers, make_pending, make_tag, make_user

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "workflow"

FOLLOWERS = 120
BATCH_SIZE = 5  # 24 batches of 0.8 s on two worker processes: about ten seconds of sending
SLOW_SEND = {
    "BROADCAST_BATCH_SIZE": str(BATCH_SIZE),
    "BROADCAST_DELIVERY_BACKEND": "tests.backends.SlowInboxBackend",
    "BROADCAST_TEST_BATCH_DELAY": "0.8",
}

# Seeded quota policies and groups must survive the flush of a transactional test.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.parametrize("celery_worker_env", [SLOW_SEND]),
]


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/admin/login/?next=/admin/", wait_until="domcontentloaded")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text(username)


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def pick(page, field: str, text: str) -> None:
    """Choose `text` in the autocomplete (select2) widget of `field`."""
    page.locator(f".form-row.field-{field} .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(text)
    page.locator(".select2-results__option", has_text=text).first.click()


def status_of(page):
    return page.locator(".form-row.field-status_display .readonly")


def progress_cell(page, b: Broadcast):
    return page.locator(f"[data-bc-id='{b.pk}'][data-bc-part='progress']")


def sent_shown(page, b: Broadcast) -> int:
    return int(progress_cell(page, b).get_attribute("data-bc-sent") or 0)


def wait_sent_above(page, b: Broadcast, n: int) -> int:
    page.wait_for_function(
        f"() => Number(document.querySelector(\"[data-bc-id='{b.pk}'][data-bc-part='progress']\")"
        f"?.dataset.bcSent || 0) > {n}",
        timeout=20_000,
    )
    return sent_shown(page, b)


def sent_count(b: Broadcast) -> int:
    return Broadcast.objects.get(pk=b.pk).sent_count


def settled(b: Broadcast) -> int:
    """The sent count once it stops moving for two seconds (the batches in flight at a pause finish)."""

    def check():
        first = sent_count(b)
        time.sleep(2)
        return (first,) if sent_count(b) == first else None

    return wait_for(check, timeout=20, interval=0, what="the sent count to settle")[0]


def test_the_operators_day(live_server, celery_worker_process, settings):
    settings.BROADCAST_BATCH_SIZE = BATCH_SIZE  # dispatch, in this process, cuts the batches
    operator = make_user("olga", role="operator")
    make_user("rita", role="reviewer")
    shop = make_account(name="Acme Coffee", kind=OfficialAccount.Kind.SERVICE)
    fans = make_followers(shop, FOLLOWERS)
    make_tag(shop, "vip", fans[:10])
    # A tag send needs a certified service account; the application is still pending: a warning, not a refusal.
    certify(shop, status=Certification.Status.PENDING)
    loud = make_pending(shop, by=operator, title="MEGA SALE TODAY", body="Buy buy buy!")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    with chromium_pages(2, height=1000) as (op, rev):
        log_in(op, live_server, "olga")
        log_in(rev, live_server, "rita")

        # 1. A draft to a tag: saved, with the warning that approval would refuse it today; fixed to all followers.
        op.goto(f"{live_server.url}/admin/broadcasts/broadcast/add/", wait_until="domcontentloaded")
        pick(op, "account", "Acme Coffee")
        op.fill("#id_title", "Autumn menu")
        op.fill("#id_body", "Our autumn menu is here: pumpkin latte, chestnut cake.")
        op.select_option("#id_audience", "tag")
        # The tag select offers the chosen account's tags (filled when the account is picked).
        expect(op.locator("#id_tag option", has_text="vip")).to_have_count(1)
        op.select_option("#id_tag", label="vip")
        op.get_by_role("button", name="Save and continue editing").click()
        # Said once: the message points to the warnings box, which says what is wrong.
        expect(op.locator(".messagelist .warning")).to_have_text("Saved, with 1 warning: see below.")
        expect(op.locator("#bc-eligibility-warnings")).to_contain_text("has no certification valid")
        expect(op.locator("#bc-eligibility-warnings")).to_contain_text("still pending")
        b = Broadcast.objects.get(title="Autumn menu")
        assert (b.status, b.audience) == (Broadcast.Status.DRAFT, Broadcast.Audience.TAG)
        shot(op, "01-draft-with-warning")

        op.select_option("#id_audience", "all")
        op.get_by_role("button", name="Save and continue editing").click()
        expect(op.locator(".messagelist .success")).to_be_visible()
        expect(op.locator(".messagelist .warning")).to_have_count(0)
        expect(op.locator("#bc-eligibility-warnings")).to_have_count(0)
        expect(op.locator(".form-row.field-audience_size_display")).to_contain_text(f"{FOLLOWERS} subscribed")
        shot(op, "02-draft-fixed")

        # 2. Submit from the change page with an edit typed in and not saved: the edit is kept.
        op.fill("#id_title", "Autumn menu is here")
        op.get_by_role("button", name="Submit for review").click()
        expect(op.locator(".messagelist .success")).to_contain_text("submitted for review")
        expect(status_of(op)).to_have_text("Pending review")
        b.refresh_from_db()
        assert (b.title, b.status) == ("Autumn menu is here", Broadcast.Status.PENDING_REVIEW)
        shot(op, "03-submitted")

        # 3. Withdrawn to draft, then submitted again.
        op.get_by_role("button", name="Withdraw to draft").click()
        expect(op.locator(".messagelist .success")).to_contain_text("withdrawn to draft")
        expect(status_of(op)).to_have_text("Draft")
        expect(op.locator("#id_title")).to_have_value("Autumn menu is here")
        shot(op, "04-withdrawn")
        op.get_by_role("button", name="Submit for review").click()
        expect(op.locator(".messagelist .success")).to_contain_text("submitted for review")
        expect(status_of(op)).to_have_text("Pending review")
        shot(op, "05-resubmitted")

        # 4. The reviewer approves it from the review queue, to be sent now.
        rev.get_by_role("link", name="Broadcasts awaiting review").first.click()
        expect(rev.locator("#result_list")).to_contain_text("MEGA SALE TODAY")
        rev.get_by_role("link", name="Autumn menu is here").click()
        expect(rev.locator("#bc-status")).to_have_text("Pending review")
        rev.get_by_role("button", name="Approve", exact=True).click()
        expect(rev.locator(".messagelist .success")).to_contain_text("“Autumn menu is here” approved")
        expect(rev.locator("#bc-status")).to_have_text("Approved")
        shot(rev, "06-approved")

        # 5. Dispatched (beat's job; beat does not run here), the reviewer watches the bar move: no reload.
        rev.goto(f"{live_server.url}/admin/broadcasts/broadcast/{b.pk}/change/", wait_until="domcontentloaded")
        expect(progress_cell(rev, b)).to_contain_text("waiting for the dispatcher")
        rev.evaluate("window.sameDocument = 'yes'")
        assert services.dispatch_due_broadcasts() == 1
        first = wait_sent_above(rev, b, 0)
        second = wait_sent_above(rev, b, first)
        assert first < second < FOLLOWERS
        assert rev.evaluate("window.sameDocument") == "yes"
        expect(status_of(rev)).to_have_text("Sending")
        expect(rev.locator("#bc-actions")).not_to_contain_text("Reject")  # approval's actions went with it
        shot(rev, "07-sending")

        # 6. Paused from the live bar (its control drawn by the poll: the page was loaded before the send):
        # nothing more goes out. Resumed, it is sent; the page follows both without a reload.
        rev.locator("[data-bc-control='pause']").click()
        rev.get_by_role("button", name="Pause sending").click()
        expect(rev.locator(".messagelist .success")).to_contain_text("paused")
        expect(status_of(rev)).to_have_text("Paused")
        stopped = settled(b)
        assert Broadcast.objects.get(pk=b.pk).status == Broadcast.Status.PAUSED and stopped < FOLLOWERS
        rev.wait_for_function(
            f"() => document.querySelector(\"[data-bc-id='{b.pk}'][data-bc-part='progress']\")"
            f"?.dataset.bcSent === '{stopped}'",
            timeout=10_000,
        )
        time.sleep(2.5)  # another poll or two: still nothing more
        assert sent_count(b) == stopped and sent_shown(rev, b) == stopped
        shot(rev, "08-paused")

        rev.locator("[data-bc-control='resume']").click()
        rev.get_by_role("button", name="Resume sending").click()
        expect(rev.locator(".messagelist .success")).to_contain_text("resumed")
        rev.evaluate("window.sameDocument = 'yes'")
        expect(status_of(rev)).to_have_text("Sent", timeout=40_000)
        assert rev.evaluate("window.sameDocument") == "yes"
        expect(progress_cell(rev, b)).to_contain_text(f"sent {FOLLOWERS}")
        expect(rev.locator("[data-bc-part='actions']")).not_to_contain_text("Cancel")  # nothing left to cancel
        assert sent_count(b) == FOLLOWERS
        shot(rev, "09-sent")

        # 7. The second broadcast is rejected with a reason; the operator reads it and duplicates it.
        rev.goto(f"{live_server.url}/admin/broadcasts/broadcast/{loud.pk}/review/", wait_until="domcontentloaded")
        reject = rev.locator("#bc-reject-form")
        reject.get_by_label("Reason").fill("No shouting in titles; say what is on sale.")
        reject.get_by_role("button", name="Reject").click()
        expect(rev.locator(".messagelist .success")).to_contain_text("rejected")

        op.goto(f"{live_server.url}/admin/broadcasts/broadcast/mine/", wait_until="domcontentloaded")
        row = op.locator("#bc-mine tr", has_text="MEGA SALE TODAY")
        expect(row).to_contain_text("Rejected")
        expect(row).to_contain_text("No shouting in titles")
        shot(op, "10-my-broadcasts")
        row.get_by_role("link", name="MEGA SALE TODAY").click()
        expect(op.locator(".form-row.field-review_note")).to_contain_text("No shouting in titles")
        op.get_by_role("button", name="Duplicate as new draft").click()
        expect(op.locator(".messagelist .success")).to_contain_text("Copied into a new draft")
        op.locator(".messagelist .success a").click()
        expect(status_of(op)).to_have_text("Draft")
        expect(op.locator("#id_title")).to_have_value("MEGA SALE TODAY")
        expect(op.locator("#id_body")).to_have_value("Buy buy buy!")
        expect(op.locator("#bc-review-note")).to_contain_text("No shouting in titles")
        shot(op, "11-duplicated")
        copy = Broadcast.objects.exclude(pk=loud.pk).get(title="MEGA SALE TODAY")
        assert (copy.status, copy.created_by) == (Broadcast.Status.DRAFT, operator)
        # The queries made while Playwright's loop ran used a connection of their own: close it, or the
        # test database cannot be dropped at the end of the run.
        connections.close_all()
