"""In headless Chromium: a double click on a transition's confirmation button, then the Back button and
the stale confirmation submitted again. One effect, and each page a person sees is a sensible one (the
operator's second click on Cancel of a draft used to be a 403 page)."""

import pytest
from playwright.sync_api import expect

from accounts.models import AuditEvent
from broadcasts.models import Broadcast
from tests.browser import chromium_page
from tests.factories import PASSWORD, make_account, make_draft, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_double_click_on_cancel_and_a_resubmit_after_back_cancel_once_and_say_why(live_server):
    operator = make_user("olga", role="operator")
    b = make_draft(make_account(name="Acme Service"), by=operator)
    url = f"{live_server.url}/admin/broadcasts/broadcast/{b.pk}/do/cancel/"

    with chromium_page() as page:
        page.goto(f"{live_server.url}/admin/login/?next={url}", wait_until="domcontentloaded")
        page.fill("#id_username", "olga")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.locator(".submit-row input[type=submit]").dblclick()
        page.wait_for_load_state("domcontentloaded")
        expect(page.locator(".field-status_display .readonly")).to_have_text("Cancelled")
        expect(page.locator("body")).not_to_contain_text("403")

        page.go_back()
        page.locator(".submit-row input[type=submit]").click()
        expect(page.locator(".messagelist")).to_contain_text(
            "“Autumn menu” is cancelled; only broadcasts not yet finished can be cancelled."
        )

    assert Broadcast.objects.get(pk=b.pk).status == Broadcast.Status.CANCELLED
    assert AuditEvent.objects.filter(object_type="broadcast", object_id=str(b.pk), verb="cancelled").count() == 1
