"""The broadcasts admin as ops use it: pages, buttons, bulk actions, permissions of each role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, MenuItem, OfficialAccount, Tag
from broadcasts import services
from broadcasts.models import (
    Broadcast,
    ContentRule,
    Delivery,
    DeliveryBatch,
    InboxMessage,
    QuotaPolicy,
    QuotaReservation,
    Violation,
)
from tests.factories import SHANGHAI, certify, make_draft, make_pending

pytestmark = pytest.mark.django_db

PLATFORM = "Asia/Shanghai"


# ---------------------------------------------------------------- helpers


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def transition_url(b: Broadcast, name: str) -> str:
    return reverse("admin:broadcasts_broadcast_transition", args=[b.pk, name])


def review_url(b: Broadcast) -> str:
    return reverse("admin:broadcasts_broadcast_review", args=[b.pk])


def change_url(b: Broadcast) -> str:
    return reverse("admin:broadcasts_broadcast_change", args=[b.pk])


def send_time_fields(moment, prefix: str = "send_at") -> dict:
    local = moment.astimezone(SHANGHAI)
    return {f"{prefix}_0": local.strftime("%Y-%m-%d"), f"{prefix}_1": local.strftime("%H:%M:%S")}


@pytest.fixture
def users(make_user):
    return {
        "operator": make_user("olga", role="operator"),
        "reviewer": make_user("rita", role="reviewer"),
        "reviewer2": make_user("rob", role="reviewer"),
        "auditor": make_user("aldo", role="auditor"),
        "nobody": make_user("nils"),
    }


@pytest.fixture
def login(client, users):
    def as_(role: str):
        client.force_login(users[role])
        return client

    return as_


@pytest.fixture
def service_account(make_account, make_followers):
    acc = make_account(name="Acme Service", kind=OfficialAccount.Kind.SERVICE)
    make_followers(acc, 5)
    make_followers(acc, 2, prefix="gone", subscribed=False)
    return acc


@pytest.fixture
def news_account(make_account, make_followers):
    acc = make_account(name="Daily News", kind=OfficialAccount.Kind.SUBSCRIPTION)
    make_followers(acc, 3)
    return acc


def tomorrow_noon():
    local = (timezone.now() + timedelta(days=1)).astimezone(SHANGHAI)
    return local.replace(hour=12, minute=0, second=0, microsecond=0)


# ---------------------------------------------------------------- every page renders / is forbidden


@pytest.fixture
def full_house(users, service_account, news_account):
    """One object of every kind the broadcasts admin shows."""
    op, rev = users["operator"], users["reviewer"]
    d = make_draft(service_account, by=op, title="A draft")
    p = make_pending(news_account, by=op, title="Waiting news")
    a = services.approve_broadcast(make_pending(service_account, by=op, title="Approved one"), by=rev, send_at=tomorrow_noon())
    # Rows the delivery engine writes, made directly here because only their display is under test.
    follower = service_account.followers.order_by("id").first()
    Broadcast.objects.filter(pk=a.pk).update(status=Broadcast.Status.SENDING, total_count=5, sent_count=2,
                                             filtered_count=1, error_count=1, batch_count=1)
    batch = DeliveryBatch.objects.create(broadcast=a, number=1, first_follower_id=follower.pk,
                                         last_follower_id=follower.pk + 4, size=5)
    Delivery.objects.create(broadcast=a, follower=follower, status=Delivery.Status.SENT)
    InboxMessage.objects.create(broadcast=a, follower=follower, folded=False)
    rule = ContentRule.objects.first()
    Violation.objects.create(account=service_account, broadcast=d, rule=rule, points=10)
    return {"draft": d, "pending": p, "sending": Broadcast.objects.get(pk=a.pk), "batch": batch, "follower": follower,
            "rule": rule, "reservation": QuotaReservation.objects.get(broadcast=a),
            "policy": QuotaPolicy.objects.first(), "violation": Violation.objects.get()}


def all_pages(h) -> list[str]:
    pages = []
    for model in ("broadcast", "pendingbroadcast", "quotapolicy", "quotareservation", "contentrule", "violation",
                  "delivery", "deliverybatch", "inboxmessage"):
        pages.append(reverse(f"admin:broadcasts_{model}_changelist"))
    pages += [
        reverse("admin:broadcasts_broadcast_add"),
        reverse("admin:broadcasts_quotapolicy_add"),
        reverse("admin:broadcasts_contentrule_add"),
        reverse("admin:app_list", args=["broadcasts"]),
        change_url(h["draft"]), change_url(h["pending"]), change_url(h["sending"]),
        review_url(h["draft"]), review_url(h["pending"]), review_url(h["sending"]),
        transition_url(h["pending"], "approve"), transition_url(h["pending"], "reject"),
        transition_url(h["draft"], "submit"), transition_url(h["sending"], "pause"),
        reverse("admin:broadcasts_quotapolicy_change", args=[h["policy"].pk]),
        reverse("admin:broadcasts_quotareservation_change", args=[h["reservation"].pk]),
        reverse("admin:broadcasts_contentrule_change", args=[h["rule"].pk]),
        reverse("admin:broadcasts_violation_change", args=[h["violation"].pk]),
        reverse("admin:broadcasts_deliverybatch_change", args=[h["batch"].pk]),
        reverse("admin:broadcasts_delivery_changelist") + f"?broadcast_id={h['sending'].pk}&status=sent",
        reverse("admin:broadcasts_delivery_changelist") + f"?follower_id={h['follower'].pk}",
        reverse("admin:broadcasts_inboxmessage_changelist") + f"?follower_id={h['follower'].pk}",
        reverse("admin:broadcasts_deliverybatch_changelist") + f"?broadcast_id={h['sending'].pk}",
    ]
    return pages


def test_every_broadcasts_admin_page_renders_for_a_superuser(admin_client, full_house):
    for url in all_pages(full_house):
        response = admin_client.get(url)
        assert response.status_code == 200, url


def test_every_broadcasts_admin_page_is_forbidden_for_staff_without_permissions(login, full_house):
    client = login("nobody")
    for url in all_pages(full_house):
        if url.endswith("/broadcasts/"):
            assert client.get(url).status_code == 404, url  # the app index hides an app you may not see
            continue
        assert client.get(url).status_code == 403, url
    assert client.post(transition_url(full_house["pending"], "approve")).status_code == 403
    assert Broadcast.objects.get(pk=full_house["pending"].pk).status == Broadcast.Status.PENDING_REVIEW


# ---------------------------------------------------------------- operator: create and submit


def test_operator_creates_a_draft_through_the_form_and_submits_it(login, users, service_account):
    client = login("operator")
    response = client.post(
        reverse("admin:broadcasts_broadcast_add"),
        {"account": service_account.pk, "title": "Winter sale", "message_type": "text", "body": "Half price.",
         "channel": "console", "audience": "all", "_save": "Save"},
        follow=True,
    )
    assert response.status_code == 200
    b = Broadcast.objects.get(title="Winter sale")
    assert (b.status, b.created_by, b.account) == (Broadcast.Status.DRAFT, users["operator"], service_account)

    page = client.get(change_url(b)).content.decode()
    # Submit posts the change form itself (issue 13: edits are saved first); the URL still submits.
    assert 'name="_submit_for_review"' in page and transition_url(b, "approve") not in page

    response = client.post(transition_url(b, "submit"), {"next": change_url(b)}, follow=True)
    b.refresh_from_db()
    assert b.status == Broadcast.Status.PENDING_REVIEW
    assert "“Winter sale” submitted for review." in messages_of(response)
    history = response.content.decode()
    assert "submitted" in history and "olga" in history  # the change page shows who did what


def test_operator_edits_a_draft_through_update_broadcast(login, users, service_account):
    b = make_draft(service_account, by=users["operator"])
    client = login("operator")
    response = client.post(
        change_url(b),
        {"title": "Autumn menu, revised", "message_type": "text", "body": "Pumpkin soup.",
         "channel": "console", "audience": "all", "_save": "Save"},
    )
    assert response.status_code == 302
    b.refresh_from_db()
    assert (b.title, b.body) == ("Autumn menu, revised", "Pumpkin soup.")
    assert AuditEvent.objects.filter(object_type="broadcast", object_id=b.pk, verb="edited", by=users["operator"]).exists()


def test_a_refusal_of_create_broadcast_shows_on_the_form(login, make_account, make_followers):
    acc = make_account(name="Certified", kind=OfficialAccount.Kind.SERVICE)
    one = make_followers(acc, 1)[0]
    client = login("operator")
    response = client.post(
        reverse("admin:broadcasts_broadcast_add"),
        {"account": acc.pk, "title": "Just one", "message_type": "text", "body": "Hi", "channel": "api",
         "audience": "followers", "recipients": one.openid, "_save": "Save"},
    )
    assert response.status_code == 200
    assert "A follower list holds 2 to 10,000 followers; this one has 1." in response.content.decode()
    assert not Broadcast.objects.filter(title="Just one").exists()


def test_operator_cannot_approve(login, users, service_account):
    b = make_pending(service_account, by=users["reviewer2"])
    client = login("operator")
    assert client.get(transition_url(b, "approve")).status_code == 403
    assert client.post(transition_url(b, "approve")).status_code == 403
    assert transition_url(b, "approve") not in client.get(review_url(b)).content.decode()
    changelist = client.get(reverse("admin:broadcasts_broadcast_changelist")).content.decode()
    assert "approve_selected" not in changelist and "submit_selected" in changelist
    b.refresh_from_db()
    assert b.status == Broadcast.Status.PENDING_REVIEW


# ---------------------------------------------------------------- reviewer decisions


def test_reviewer_approves_with_the_button(login, users, service_account):
    b = make_pending(service_account, by=users["operator"])
    client = login("reviewer")
    response = client.post(transition_url(b, "approve"), {"next": review_url(b)}, follow=True)
    b.refresh_from_db()
    assert b.status == Broadcast.Status.APPROVED and b.reviewed_by == users["reviewer"]
    assert any(m.startswith("“Autumn menu” approved; it will be sent") for m in messages_of(response))
    assert "Approved" in response.content.decode()  # back on the review page, showing the new status
    assert AuditEvent.objects.filter(object_type="broadcast", object_id=b.pk, verb="approved", by=users["reviewer"]).exists()


def test_reviewer_approves_with_a_send_time(login, users, service_account):
    b = make_pending(service_account, by=users["operator"])
    when = tomorrow_noon()
    response = login("reviewer").post(transition_url(b, "approve"), send_time_fields(when), follow=True)
    b.refresh_from_db()
    assert b.status == Broadcast.Status.APPROVED and b.scheduled_at == when
    assert f"“Autumn menu” approved; it will be sent at {when:%Y-%m-%d} 12:00:00 ({PLATFORM})." in messages_of(response)


def test_a_send_time_typed_a_year_back_is_refused_on_the_field(login, users, service_account):
    b = make_pending(service_account, by=users["operator"])
    client = login("reviewer")
    typo = tomorrow_noon() - timedelta(days=365)
    response = client.post(transition_url(b, "approve"), {**send_time_fields(typo), "apply": "1"})
    page = response.content.decode()
    assert response.status_code == 200 and "errorlist" in page
    assert f"The send time {typo.astimezone(SHANGHAI):%Y-%m-%d} 12:00:00 ({PLATFORM}) is more than 5 minutes" in page
    assert "leave the send time empty to send now" in page
    b.refresh_from_db()
    assert b.status == Broadcast.Status.PENDING_REVIEW

    b = services.approve_broadcast(b, by=users["reviewer"])
    response = client.post(transition_url(b, "reschedule"), {**send_time_fields(typo), "apply": "1"})
    assert "is more than 5 minutes in the past; check the date (a time less than 5 minutes ago sends now)." in (
        response.content.decode()
    )
    old = b.scheduled_at
    b.refresh_from_db()
    assert b.scheduled_at == old


def test_the_author_cannot_approve_their_own_broadcast(login, users, service_account):
    b = make_pending(service_account, by=users["reviewer"])  # written by the reviewer herself
    response = login("reviewer").post(transition_url(b, "approve"), {"next": review_url(b)}, follow=True)
    assert response.status_code == 200
    assert messages_of(response) == [
        "“Autumn menu” was written by rita; another reviewer must approve it (four eyes)."
    ]
    b.refresh_from_db()
    assert b.status == Broadcast.Status.PENDING_REVIEW


def test_reject_needs_a_reason_and_records_it(login, users, service_account):
    b = make_pending(service_account, by=users["operator"])
    client = login("reviewer")
    page = client.get(transition_url(b, "reject"))
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    again = client.post(transition_url(b, "reject"), {"reason": "  "})
    assert again.status_code == 200 and "This field is required." in again.content.decode()
    b.refresh_from_db()
    assert b.status == Broadcast.Status.PENDING_REVIEW

    response = client.post(transition_url(b, "reject"), {"reason": "Spelling mistakes in the body."}, follow=True)
    b.refresh_from_db()
    assert (b.status, b.review_note) == (Broadcast.Status.REJECTED, "Spelling mistakes in the body.")
    assert "“Autumn menu” rejected." in messages_of(response)


def test_cancel_gives_the_quota_slot_back(login, users, service_account):
    b = services.approve_broadcast(make_pending(service_account, by=users["operator"]), by=users["reviewer"])
    assert QuotaReservation.objects.filter(broadcast=b).exists()
    response = login("reviewer").post(transition_url(b, "cancel"), follow=True)
    b.refresh_from_db()
    assert b.status == Broadcast.Status.CANCELLED
    assert not QuotaReservation.objects.filter(broadcast=b).exists()
    assert "“Autumn menu” cancelled." in messages_of(response)


def test_reschedule_moves_the_send_time(login, users, service_account):
    b = services.approve_broadcast(make_pending(service_account, by=users["operator"]), by=users["reviewer"])
    client = login("reviewer")
    assert client.get(transition_url(b, "reschedule")).status_code == 200
    when = tomorrow_noon() + timedelta(hours=3)
    response = client.post(transition_url(b, "reschedule"), send_time_fields(when), follow=True)
    b.refresh_from_db()
    assert b.scheduled_at == when
    assert f"“Autumn menu” rescheduled; it will be sent at {when:%Y-%m-%d} 15:00:00 ({PLATFORM})." in messages_of(response)


def test_a_quota_refusal_is_a_message_not_a_500(login, users, news_account):
    when = tomorrow_noon()
    first = services.approve_broadcast(make_pending(news_account, by=users["operator"], title="Morning"),
                                       by=users["reviewer"], send_at=when)
    second = make_pending(news_account, by=users["operator"], title="Evening")
    response = login("reviewer").post(
        transition_url(second, "approve"), {**send_time_fields(when + timedelta(hours=6)), "next": review_url(second)},
        follow=True,
    )
    assert response.status_code == 200
    [message] = messages_of(response)
    assert message.startswith(f"Subscription account Daily News has used 1 of 1 broadcast for {when:%Y-%m-%d} ({PLATFORM})")
    second.refresh_from_db()
    assert second.status == Broadcast.Status.PENDING_REVIEW and first.pk != second.pk


def test_bulk_approve_and_reject_from_the_review_queue(login, users, service_account, news_account):
    a = make_pending(service_account, by=users["operator"], title="One")
    b = make_pending(service_account, by=users["operator"], title="Two")
    c = make_pending(news_account, by=users["operator"], title="Three")
    client = login("reviewer")
    queue = reverse("admin:broadcasts_pendingbroadcast_changelist")
    page = client.post(queue, {"action": "approve_selected", "_selected_action": [a.pk, b.pk], "index": 0})
    assert page.status_code == 200 and "Approve these broadcasts" in page.content.decode()  # the send-time form
    response = client.post(queue, {"action": "approve_selected", "_selected_action": [a.pk, b.pk], "apply": "1"},
                           follow=True)
    assert "2 broadcasts approved." in messages_of(response)  # a plural, not "broadcast(s)"
    assert set(Broadcast.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True)) == {"approved"}

    response = client.post(queue, {"action": "reject_selected", "_selected_action": [c.pk], "apply": "1",
                                   "reason": "Off-topic."}, follow=True)
    c.refresh_from_db()
    assert (c.status, c.review_note) == (Broadcast.Status.REJECTED, "Off-topic.")
    # The queue lists what is left: nothing.
    assert "0 broadcasts awaiting review" in client.get(queue).content.decode()


def test_bulk_action_reports_each_refusal(login, users, news_account):
    own = make_pending(news_account, by=users["reviewer"], title="Mine")
    response = login("reviewer").post(
        reverse("admin:broadcasts_broadcast_changelist"),
        {"action": "approve_selected", "_selected_action": [own.pk], "apply": "1"}, follow=True,
    )
    assert messages_of(response) == ["“Mine” was written by rita; another reviewer must approve it (four eyes)."]


# ---------------------------------------------------------------- the review page


def test_review_page_of_a_subscription_account_shows_the_folded_preview_and_quota(login, users, news_account):
    b = make_pending(news_account, by=users["operator"], title="Evening edition", body="Top stories tonight.")
    page = login("reviewer").get(review_url(b)).content.decode()
    assert 'id="bc-folder-entry"' in page and "Subscriptions" in page
    assert "Daily News: Evening edition" in page  # the folder's last line names the account
    assert 'id="bc-chat-entry"' not in page and 'id="bc-menu"' not in page
    window = timezone.now().astimezone(SHANGHAI).strftime("%Y-%m-%d")
    assert f"Would be 1 of 1 for {window} ({PLATFORM})." in page
    assert '<strong>3</strong> subscribed followers' in page


def test_review_page_of_a_service_account_shows_chat_entry_menu_findings(login, users, service_account):
    top = MenuItem.objects.create(account=service_account, name="Shop", kind="view", url="https://acme.example/shop")
    MenuItem.objects.create(account=service_account, parent=top, name="Coupons", kind="click", key="COUPONS")
    b = make_pending(service_account, by=users["operator"], body="Click now to win a mug: https://bit.ly/x")
    page = login("reviewer").get(review_url(b)).content.decode()
    assert 'id="bc-chat-entry"' in page and 'id="bc-folder-entry"' not in page
    assert 'id="bc-menu"' in page and "Shop" in page and "Coupons" in page
    month = timezone.now().astimezone(SHANGHAI).strftime("%Y-%m")
    assert f"Would be 1 of 4 for {month} ({PLATFORM})." in page
    assert "Shortened links hide the destination" in page  # the bit.ly flag rule's finding
    assert "<strong>5</strong> subscribed followers" in page  # unsubscribed followers are not counted


def test_review_page_of_a_targeted_api_send_is_not_counted_in_the_quota(login, users, service_account):
    now = timezone.now()
    certify(service_account, valid_from=now - timedelta(days=1), valid_until=now + timedelta(days=300))
    tag = Tag.objects.create(account=service_account, name="VIP")
    for f in service_account.followers.filter(subscribed=True)[:2]:
        f.tags.add(tag)
    b = make_pending(service_account, by=users["operator"], channel="api", audience="tag", tag=tag)
    page = login("reviewer").get(review_url(b)).content.decode()
    assert "Not counted in the account quota" in page and "(R3a)" in page
    assert "<strong>2</strong> subscribed followers" in page
    assert "Certified" in page


# ---------------------------------------------------------------- auditors look, never touch


def test_auditor_sees_everything_and_changes_nothing(login, users, full_house):
    client = login("auditor")
    b = full_house["pending"]
    for url in (reverse("admin:broadcasts_broadcast_changelist"), reverse("admin:broadcasts_pendingbroadcast_changelist"),
                review_url(b), change_url(b), reverse("admin:broadcasts_delivery_changelist")):
        assert client.get(url).status_code == 200, url
    review = client.get(review_url(b)).content.decode()
    assert "bc-decisions" not in review  # no decision buttons
    for name in ("approve", "reject", "cancel", "submit", "reschedule", "pause", "resume"):
        assert client.post(transition_url(b, name), {"reason": "x"}).status_code == 403, name
    assert client.get(reverse("admin:broadcasts_broadcast_add")).status_code == 403
    assert client.post(change_url(full_house["draft"]), {"title": "Hacked", "message_type": "text", "body": "x",
                                                         "channel": "console", "audience": "all"}).status_code == 403
    changelist = client.get(reverse("admin:broadcasts_broadcast_changelist")).content.decode()
    assert "_selected_action" not in changelist  # no bulk actions offered
    response = client.post(reverse("admin:broadcasts_broadcast_changelist"),
                           {"action": "cancel_selected", "_selected_action": [b.pk], "index": 0}, follow=True)
    assert response.status_code == 200
    assert client.post(reverse("admin:broadcasts_quotapolicy_add"), {}).status_code == 403
    assert client.post(reverse("admin:broadcasts_contentrule_add"), {}).status_code == 403
    b.refresh_from_db()
    assert b.status == Broadcast.Status.PENDING_REVIEW
    assert Broadcast.objects.get(pk=full_house["draft"].pk).title == "A draft"


# ---------------------------------------------------------------- progress, history, policies, big tables


def test_progress_bar_and_counters_on_a_sending_broadcast(admin_client, full_house):
    sending = full_house["sending"]
    listing = admin_client.get(reverse("admin:broadcasts_broadcast_changelist")).content.decode()
    assert "sent 2<br>filtered 1<br>failed 1<br>of 5 · 80%" in listing
    page = admin_client.get(change_url(sending)).content.decode()
    assert "sent 2 · filtered 1 · failed 1 of 5 (80%)" in page and 'class="bc-progress"' in page
    assert transition_url(sending, "pause") in page and transition_url(sending, "cancel") in page
    assert transition_url(sending, "approve") not in page


def test_quota_policy_overlap_shows_as_a_form_error(admin_client):
    response = admin_client.post(
        reverse("admin:broadcasts_quotapolicy_add"),
        {"kind": "subscription", "scope": "account", "limit": 2, "period": "day",
         "effective_from_0": "2025-01-01", "effective_from_1": "00:00:00", "note": "overlaps the seeded R2 policy"},
    )
    assert response.status_code == 200
    assert "This policy overlaps" in response.content.decode()
    assert not QuotaPolicy.objects.filter(note="overlaps the seeded R2 policy").exists()


def test_delivery_lists_never_count_the_whole_table(admin_client, full_house):
    sending = full_house["sending"]
    url = reverse("admin:broadcasts_delivery_changelist")
    for query in ("", f"?broadcast_id={sending.pk}", f"?follower_id={full_house['follower'].pk}&status=sent"):
        with CaptureQueriesContext(connection) as ctx:
            response = admin_client.get(url + query)
        assert response.status_code == 200
        assert "1 delivery" in response.content.decode()
        counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"] and "broadcasts_delivery" in q["sql"]]
        assert counts and all("LIMIT" in sql for sql in counts), counts


def test_a_followers_inbox_is_listed_with_a_title_naming_them(admin_client, full_house):
    follower = full_house["follower"]
    page = admin_client.get(reverse("admin:broadcasts_inboxmessage_changelist") + f"?follower_id={follower.pk}")
    text = page.content.decode()
    assert f"Inbox of {follower.nickname} ({follower.openid}) at Acme Service" in text
    assert "Approved one" in text and "in the chat list" in text
    other = admin_client.get(reverse("admin:broadcasts_inboxmessage_changelist") + "?follower_id=999999999")
    assert "0 inbox messages" in other.content.decode()


# ---------------------------------------------------------------- delivery control (engine)


def test_reviewer_pauses_and_resumes_a_sending_broadcast(login, users, service_account):
    b = services.approve_broadcast(make_pending(service_account, by=users["operator"]), by=users["reviewer"])
    b = services.dispatch_broadcast(b)
    assert b.status == Broadcast.Status.SENDING
    assert login("operator").post(transition_url(b, "pause")).status_code == 403

    client = login("reviewer")
    response = client.post(transition_url(b, "pause"), {"next": change_url(b)}, follow=True)
    assert "“Autumn menu” paused." in messages_of(response)
    b.refresh_from_db()
    assert b.status == Broadcast.Status.PAUSED
    page = response.content.decode()
    assert transition_url(b, "resume") in page and transition_url(b, "pause") not in page

    response = client.post(transition_url(b, "resume"), follow=True)
    assert "“Autumn menu” resumed." in messages_of(response)
    b.refresh_from_db()
    assert b.status == Broadcast.Status.SENDING
    again = client.post(transition_url(b, "resume"), follow=True)  # a second click: refused, not a 500
    assert messages_of(again) == ["Only a paused broadcast can be resumed; “Autumn menu” is sending."]


def test_a_finished_broadcast_shows_its_totals_and_deliveries(admin_client, users, service_account):
    b = services.approve_broadcast(make_pending(service_account, by=users["operator"]), by=users["reviewer"])
    b = services.dispatch_broadcast(b)
    for batch_id in DeliveryBatch.objects.filter(broadcast=b).values_list("id", flat=True):
        services.deliver_batch(batch_id)
    b.refresh_from_db()
    assert b.status == Broadcast.Status.SENT
    page = admin_client.get(change_url(b)).content.decode()
    assert "sent 5 · filtered 0 · failed 0 of 5 (100%)" in page
    deliveries = admin_client.get(reverse("admin:broadcasts_delivery_changelist") + f"?broadcast_id={b.pk}")
    assert "5 deliveries" in deliveries.content.decode()
    follower = service_account.followers.filter(subscribed=True).order_by("id").first()
    inbox = admin_client.get(reverse("admin:broadcasts_inboxmessage_changelist") + f"?follower_id={follower.pk}")
    assert "Autumn menu" in inbox.content.decode() and "in the chat list" in inbox.content.decode()


def test_findings_with_markup_and_braces_are_shown_escaped(admin_client, users, service_account):
    b = make_pending(service_account, by=users["operator"], body="Click now to win {0} <b>mugs</b>!")
    assert b.findings  # the "click now" flag rule matched
    for url in (change_url(b), review_url(b)):
        page = admin_client.get(url)
        assert page.status_code == 200
        text = page.content.decode()
        assert "{0} &lt;b&gt;mugs&lt;/b&gt;" in text and "<b>mugs</b>" not in text


def test_a_blocked_submission_is_rejected_with_the_rules_message(login, users, service_account):
    b = make_draft(service_account, by=users["operator"], body="You are a lottery winner, send your bank details.")
    response = login("operator").post(transition_url(b, "submit"), {"next": change_url(b)}, follow=True)
    assert response.status_code == 200
    [message] = messages_of(response)
    assert message.startswith("“Autumn menu” was rejected: it matches content rule #")
    assert "Acme Service receives 10 violation points." in message
    b.refresh_from_db()
    assert b.status == Broadcast.Status.REJECTED
    assert "Rejected automatically by moderation" in response.content.decode()  # the review note on the page


def test_the_author_is_told_on_the_review_page_that_another_reviewer_must_approve(login, users, service_account):
    b = make_pending(service_account, by=users["reviewer"])
    page = login("reviewer").get(review_url(b)).content.decode()
    assert "You wrote this broadcast: another reviewer must approve it (four eyes)." in page
    assert "You wrote this broadcast" not in login("reviewer2").get(review_url(b)).content.decode()
