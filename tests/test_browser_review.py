"""The review queue in a real headless Chromium: a reviewer approves a broadcast with the button."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import MenuItem, OfficialAccount
from broadcasts.models import Broadcast
from tests.browser import chromium_page
from tests.factories import make_account, make_followers, make_pending, make_user

PASSWORD = "pw-Secret-123"

# Seeded quota policies must survive the flush of a transactional test.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/", wait_until="domcontentloaded")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text(username)


def test_reviewer_approves_from_the_review_queue(live_server):
    operator = make_user("olga", role="operator", password=PASSWORD)
    make_user("rita", role="reviewer", password=PASSWORD)
    account = make_account(name="Acme Coffee", kind=OfficialAccount.Kind.SERVICE)
    make_followers(account, 3)
    b = make_pending(account, by=operator, title="Pumpkin latte is back")

    with chromium_page(height=1000) as page:
        log_in(page, live_server, "rita")
        page.get_by_role("link", name="Broadcasts awaiting review").first.click()
        expect(page.locator("#result_list")).to_contain_text("Pumpkin latte is back")
        page.get_by_role("link", name="Pumpkin latte is back").click()

        expect(page.locator("#bc-status")).to_have_text("Pending review")
        expect(page.locator("#bc-quota")).to_contain_text("Would be 1 of 4 for")
        page.get_by_role("button", name="Approve", exact=True).click()

        expect(page.locator(".messagelist .success")).to_contain_text("“Pumpkin latte is back” approved; it will be sent")
        expect(page.locator("#bc-status")).to_have_text("Approved")
    b.refresh_from_db()
    assert b.status == Broadcast.Status.APPROVED and b.reviewed_by.username == "rita"


def test_review_page_screenshots_for_both_account_kinds(live_server):
    operator = make_user("olga", role="operator", password=PASSWORD)
    make_user("rita", role="reviewer", password=PASSWORD)
    news = make_account(name="Daily News", kind=OfficialAccount.Kind.SUBSCRIPTION)
    make_followers(news, 4)
    shop = make_account(name="Acme Coffee", kind=OfficialAccount.Kind.SERVICE)
    make_followers(shop, 6)
    top = MenuItem.objects.create(account=shop, name="Menu", kind="view", url="https://acme.example/menu")
    MenuItem.objects.create(account=shop, parent=top, name="Seasonal", kind="click", key="SEASONAL")
    MenuItem.objects.create(account=shop, name="Order", kind="view", url="https://acme.example/order")
    MenuItem.objects.create(account=shop, name="Me", kind="click", key="ME")
    folded = make_pending(news, by=operator, title="Evening edition: the harbour bridge reopens",
                          body="Top stories tonight, with photos from the opening.",
                          scheduled_at=timezone.now() + timedelta(days=1))
    article = make_pending(shop, by=operator, title="Pumpkin latte is back", message_type="article",
                           url="https://acme.example/p/pumpkin", cover_url="https://cdn.acme.example/pumpkin.jpg",
                           body="Share now to win a free mug! Details at https://bit.ly/acme-mug")

    with chromium_page(height=1000) as page:
        log_in(page, live_server, "rita")

        page.goto(f"{live_server.url}/admin/broadcasts/broadcast/{folded.pk}/review/", wait_until="domcontentloaded")
        expect(page.locator("#bc-folder-entry")).to_be_visible()
        expect(page.locator("#bc-folder-entry")).to_contain_text("Daily News: Evening edition")
        expect(page.locator("#bc-menu")).to_have_count(0)
        page.screenshot(path="/tmp/d-review-subscription.png", full_page=True)

        page.goto(f"{live_server.url}/admin/broadcasts/broadcast/{article.pk}/review/", wait_until="domcontentloaded")
        expect(page.locator("#bc-chat-entry")).to_contain_text("Acme Coffee")
        expect(page.locator("#bc-menu")).to_contain_text("Order")
        expect(page.locator("#bc-findings")).to_contain_text("Shortened links hide the destination")
        expect(page.locator("#bc-audience-size")).to_contain_text("6 subscribed followers")
        page.screenshot(path="/tmp/d-review-service.png", full_page=True)
