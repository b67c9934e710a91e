"""Styled 403 and 404 pages inside the admin's frame; no traceback logged for a permission refusal; the
header's platform clock."""

import logging

import pytest
from django.urls import reverse

from tests.factories import make_account, make_approved, make_user

pytestmark = pytest.mark.django_db


def test_a_refused_action_answers_the_styled_403_and_logs_no_traceback(client, caplog):
    client.force_login(make_user("aldo", role="auditor"))
    b = make_approved(make_account())
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(reverse("admin:broadcasts_broadcast_transition", args=[b.pk, "cancel"]))
    page = response.content.decode()
    assert response.status_code == 403
    assert 'id="header"' in page and 'id="bc-error-title">Not allowed<' in page and "Broadcast Console" in page
    assert "Your role does not allow this page or this action." in page
    refusals = [r for r in caplog.records if r.name == "django.request" and r.status_code == 403]
    assert refusals and all(r.exc_info is None and r.exc_text is None for r in refusals)
    assert "Traceback" not in caplog.text


def test_an_unknown_admin_page_answers_the_styled_404(client):
    client.force_login(make_user("olga", role="operator"))
    response = client.get("/admin/broadcasts/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert 'id="bc-error-title">Not found<' in page and "There is no page at /admin/broadcasts/no-such-page/" in page


def test_every_admin_page_header_shows_the_platform_time(client, settings):
    settings.PLATFORM_TIME_ZONE = "Asia/Shanghai"
    client.force_login(make_user("aldo", role="auditor"))
    page = client.get(reverse("admin:broadcasts_broadcast_changelist")).content.decode()
    assert '<div id="bc-platform-clock" class="bc-sub">Platform time: ' in page and "(Asia/Shanghai)</div>" in page


def test_a_nul_byte_answers_the_styled_400_naming_what_was_refused(client):
    client.force_login(make_user("olga", role="operator"))
    response = client.get(reverse("admin:broadcasts_broadcast_changelist") + "?q=a%00b")
    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="header"' in page and 'id="bc-error-title">Bad request<' in page
    assert "<title>Bad request | Broadcast Console</title>" in page and "Django" not in page
    assert "This request contains a NUL character (%00), which the console never accepts." in page
    assert "Back to the console" in page
