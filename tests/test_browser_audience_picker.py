"""The broadcast form's audience picker in headless Chromium: tag and openids show only for their
audience; the account's tags, the audience size as the form changes, a list saved as openids.
Screenshots are saved under test-artifacts/ (git-ignored)."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from broadcasts.models import Broadcast
from tests.browser import chromium_page
from tests.factories import PASSWORD, make_account, make_followers, make_tag, make_user


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


ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_operator_picks_an_audience_by_openids(live_server):
    acme = make_account(name="Acme Coffee", certified=True)
    fans = make_followers(acme, 5)
    make_tag(acme, "espresso lovers", fans[:2])
    other = make_account(name="Other Tea")
    make_tag(other, "tea people", make_followers(other, 2))
    make_user("olga", role="operator")
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_page(width=1400, height=1200) as page:
        problems = []
        # Chromium asks for /favicon.ico, which the console does not serve: not a problem of this page.
        page.on("console", lambda m: problems.append(m.text)
                if m.type == "error" and "favicon" not in m.location.get("url", "") else None)
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.goto(f"{live_server.url}/admin/login/?next=/admin/broadcasts/broadcast/add/")
        page.fill("#id_username", "olga")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        size = page.locator("#bc-audience-size")
        expect(size).to_have_text("Choose an account to see the audience size.")

        # The account is a select2 autocomplete: type, then pick.
        page.click(".form-row.field-account .select2-selection")
        page.fill(".select2-search__field", "Acme")
        page.click(".select2-results__option:has-text('Acme Coffee')")
        expect(size).to_have_text("Audience: 5 followers")
        page.select_option("#id_audience", "tag")
        expect(page.locator("#id_tag option")).to_have_text(["---------", "espresso lovers"])
        page.select_option("#id_tag", label="espresso lovers")
        expect(size).to_have_text("Audience: 2 followers")

        page.fill("#id_title", "Beans for a few")
        page.fill("#id_body", "Fresh beans today.")
        page.select_option("#id_channel", "api")
        page.select_option("#id_audience", "followers")
        expect(page.locator(".form-row.field-tag")).to_be_hidden()
        page.fill("#id_recipients", f"{fans[1].openid}\n{fans[3].openid}\n\n{fans[1].openid}\n")
        expect(size).to_have_text("Audience: 2 followers")
        page.locator("#id_recipients").press_sequentially(f"{fans[4].openid}\n", delay=5)
        expect(size).to_have_text("Audience: 3 followers")
        page.screenshot(path=str(ARTIFACTS / "audience-picker.png"), full_page=True)

        page.click("input[name=_continue]")
        expect(page.locator("#id_recipients")).to_have_value("\n".join(f.openid for f in (fans[1], fans[3], fans[4])))
        expect(size).to_have_text("Audience: 3 followers")
        page.screenshot(path=str(ARTIFACTS / "audience-picker-saved.png"), full_page=True)
        assert problems == []
    b = Broadcast.objects.get()
    assert sorted(b.recipients.values_list("openid", flat=True)) == [fans[1].openid, fans[3].openid, fans[4].openid]
