"""The broadcast form's audience picker in headless Chromium: tag and recipients show only for their audience."""

import pytest
from playwright.sync_api import expect

from tests.browser import chromium_page
from tests.factories import PASSWORD


@pytest.mark.browser
# serialized_rollback: the flush after this test must not lose the data migrations seeded.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_tag_and_recipient_fields_follow_the_audience(live_server, make_user):
    make_user("ops", superuser=True)
    with chromium_page() as page:
        errors = []
        page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(f"{live_server.url}/admin/login/?next=/admin/broadcasts/broadcast/add/")
        page.fill("#id_username", "ops")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        tag_row, recipients_row = page.locator(".form-row.field-tag"), page.locator(".form-row.field-recipients")
        expect(page.locator("#id_audience")).to_have_value("all")
        expect(tag_row).to_be_hidden()
        expect(recipients_row).to_be_hidden()
        page.select_option("#id_audience", "tag")
        expect(tag_row).to_be_visible()
        expect(recipients_row).to_be_hidden()
        page.select_option("#id_audience", "followers")
        expect(tag_row).to_be_hidden()
        expect(recipients_row).to_be_visible()
        assert errors == []
