"""The ops dashboard and the over-marketing charts in a real headless Chromium: a reviewer sees the
panels and the charts drawn by the vendored ECharts (no CSP refusal, no script error); a staff user
without the permission is refused the charts. Screenshots are saved under test-artifacts/ (git-ignored)
for people to look at."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from broadcasts.models import Broadcast
from tests.browser import chromium_page
from tests.factories import PASSWORD, make_user
from tests.test_dashboard import ops_day  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def log_in(page, live_server, username: str):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text(username)


def watch_problems(page) -> list[str]:
    problems = []
    # Chromium asks for /favicon.ico, which the console does not serve: not a problem of these pages.
    page.on("console", lambda msg: problems.append(msg.text)
            if msg.type == "error" and "favicon" not in msg.location.get("url", "") else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return problems


def test_a_reviewer_sees_the_dashboard_and_the_charts(live_server, ops_day):  # noqa: F811
    loud, _quiet = ops_day
    mega = Broadcast.objects.get(title="Mega sale")
    make_user("rita", role="reviewer")
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_page(width=1400, height=1000) as page:
        problems = watch_problems(page)
        log_in(page, live_server, "rita")
        expect(page.locator("#panel-flagged")).to_contain_text("Loud Shop")
        expect(page.locator("#panel-review .bc-count")).to_have_text("1")
        expect(page.locator("#panel-penalty")).to_contain_text("Quiet Cafe")
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

        page.click("#panel-flagged li a >> nth=0")  # the account's chart
        expect(page.locator("#account-chart")).to_have_attribute("data-drawn", "yes")
        expect(page.locator("#account-chart canvas")).to_have_count(1)
        expect(page.locator("#account-broadcasts")).to_contain_text("25.00%")
        page.screenshot(path=str(ARTIFACTS / "account-chart.png"), full_page=True)

        page.goto(f"{live_server.url}/admin/broadcasts/unfollowflag/broadcast/{mega.pk}/curve/")
        expect(page.locator("#curve-chart")).to_have_attribute("data-drawn", "yes")
        page.screenshot(path=str(ARTIFACTS / "unfollow-curve.png"), full_page=True)
        assert loud.name in page.locator(".breadcrumbs").inner_text()
    assert problems == []
    for name in ("dashboard.png", "account-chart.png", "unfollow-curve.png"):
        assert (ARTIFACTS / name).stat().st_size > 10_000


def test_the_charts_are_forbidden_without_the_permission(live_server, ops_day):  # noqa: F811
    loud, _quiet = ops_day
    make_user("nobody")
    with chromium_page() as page:
        log_in(page, live_server, "nobody")
        expect(page.locator("#ops-dashboard section")).to_have_count(0)
        answer = page.goto(f"{live_server.url}/admin/broadcasts/unfollowflag/account/{loud.pk}/chart/")
        assert answer.status == 403
        expect(page.locator("#account-chart")).to_have_count(0)
