"""The admin in a real headless Chromium (Debian's /usr/bin/chromium driven by Playwright)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts import services
from tests.browser import chromium_page


@pytest.mark.browser
# serialized_rollback: the flush after this test must not lose the data migrations seeded.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_log_in_and_see_the_accounts_list(live_server, make_user, make_account, make_followers):
    make_user("ops", superuser=True, password="pw-Secret-123")
    account = make_account(name="Browser Test Service", kind="service")
    make_followers(account, 5)
    start = timezone.now() - timedelta(days=1)
    cert = services.submit_certification(account, legal_name="Browser Ltd", registration_number="B-1", by=None)
    cert = services.approve_certification(cert, by=None, valid_from=start)
    make_account(name="Browser Test News", kind="subscription")

    until = timezone.localtime(cert.valid_until).strftime("%Y-%m-%d")

    with chromium_page() as page:
        page.goto(f"{live_server.url}/admin/")
        page.fill("#id_username", "ops")
        page.fill("#id_password", "pw-Secret-123")
        page.click("input[type=submit]")
        expect(page.locator("#user-tools")).to_contain_text("ops")

        # The dashboard lists the model under its app: the row's link opens the accounts list.
        page.locator("#content-main a[href='/admin/accounts/officialaccount/']").first.click()
        expect(page).to_have_url(f"{live_server.url}/admin/accounts/officialaccount/")

        row = page.locator("#result_list tbody tr", has_text="Browser Test Service")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("Service account")
        expect(row.locator(".bc-badge-ok").first).to_have_text(f"Certified, valid until {until}")
        expect(row.locator("td.field-followers")).to_have_text("5")

        other = page.locator("#result_list tbody tr", has_text="Browser Test News")
        expect(other).to_contain_text("Subscription account")
        expect(other).to_contain_text("Not certified")
