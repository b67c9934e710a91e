"""The Content-Security-Policy in a real headless Chromium: every console page carries it, and none of
them needs an inline script or on…= handler that the policy would refuse."""

import pytest
from django_celery_beat.models import PeriodicTask
from playwright.sync_api import expect

from accounts.models import MenuItem
from tests.browser import chromium_page
from tests.factories import PASSWORD, make_account, make_followers, make_pending, make_tag, make_user

# Seeded quota policies and beat rows must survive the flush of a transactional test.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# An address on this machine where nothing listens: the cover image fails to load at once.
BROKEN_IMAGE = "http://127.0.0.1:9/cover.jpg"


def watch_csp(page) -> list[str]:
    """Every CSP refusal Chromium reports on the page's console, as it happens."""
    refusals = []
    page.on("console", lambda msg: refusals.append(msg.text) if "Content Security Policy" in msg.text else None)
    return refusals


def test_key_admin_pages_carry_the_policy_and_break_none_of_it(live_server):
    make_user("ops", superuser=True)
    operator = make_user("olga", role="operator")
    shop = make_account(name="Acme Coffee")
    make_followers(shop, 3)
    make_tag(shop, "vip")
    top = MenuItem.objects.create(account=shop, name="Menu", kind="view", url="https://acme.example/menu")
    MenuItem.objects.create(account=shop, parent=top, name="Seasonal", kind="click", key="SEASONAL")
    article = make_pending(shop, by=operator, title="Pumpkin latte", message_type="article",
                           url="https://acme.example/p", cover_url=BROKEN_IMAGE)
    image = make_pending(shop, by=operator, title="Latte art", message_type="image", cover_url=BROKEN_IMAGE)
    task = PeriodicTask.objects.first()
    assert task is not None  # seeded by the migrations
    pages = [
        "/admin/",
        "/admin/accounts/officialaccount/",
        f"/admin/accounts/officialaccount/{shop.pk}/change/",
        "/admin/accounts/follower/",
        "/admin/accounts/menuitem/add/",
        "/admin/accounts/auditevent/",
        "/admin/broadcasts/broadcast/",
        "/admin/broadcasts/broadcast/add/",
        f"/admin/broadcasts/broadcast/{article.pk}/change/",
        f"/admin/broadcasts/broadcast/{article.pk}/do/approve/",
        "/admin/broadcasts/pendingbroadcast/",
        "/admin/broadcasts/contentrule/add/",
        "/admin/broadcasts/quotapolicy/add/",
        f"/admin/django_celery_beat/periodictask/{task.pk}/change/",
        "/admin/password_change/",
    ]

    with chromium_page() as page:
        refusals = watch_csp(page)
        login = page.goto(f"{live_server.url}/admin/login/?next=/admin/")
        assert "script-src 'self'" in login.headers["content-security-policy"]
        page.fill("#id_username", "ops")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        expect(page.locator("#user-tools")).to_contain_text("ops")

        for path in pages:
            response = page.goto(f"{live_server.url}{path}", wait_until="load")
            assert response.status == 200, path
            policy = response.headers.get("content-security-policy", "")
            assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
            assert "frame-ancestors 'none'" in policy, path

        # The review page's preview: a cover that does not load is hidden, an image becomes its alt text
        # (static/console/image_fallback.js, instead of inline onerror= handlers).
        page.goto(f"{live_server.url}/admin/broadcasts/broadcast/{article.pk}/review/", wait_until="load")
        expect(page.locator(".bc-cover img")).to_be_hidden()
        page.goto(f"{live_server.url}/admin/broadcasts/broadcast/{image.pk}/review/", wait_until="load")
        expect(page.locator(".bc-image")).to_have_text(f"Image: {BROKEN_IMAGE}")
        expect(page.locator(".bc-image img")).to_have_count(0)

    assert refusals == []


def test_an_inline_script_would_be_refused_and_reported(live_server):
    """The check above can fail: the console's policy refuses a script written into a page, and
    Chromium says so on the console."""
    make_user("ops", superuser=True)
    with chromium_page() as page:
        refusals = watch_csp(page)
        page.goto(f"{live_server.url}/admin/login/")
        page.evaluate("""() => {
            const s = document.createElement("script");
            s.textContent = "document.title = 'injected'";
            document.head.appendChild(s);
        }""")
        page.wait_for_timeout(200)
        assert page.title() != "injected"
    assert any("script-src" in text for text in refusals), refusals
