"""What both admins share: the draft form writes nothing while validating, every time is shown
(and read) in the platform's zone whatever TIME_ZONE says, one service-action report (capped
refusals, each naming its object), one id filter."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import AuditEvent, Certification, OfficialAccount
from broadcasts import services
from broadcasts.exceptions import InvalidState
from broadcasts.forms import BroadcastForm
from broadcasts.models import Broadcast
from operator_console.admin_actions import MAX_REFUSAL_MESSAGES
from tests.factories import certify, make_draft

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def draft_data(account, **overrides) -> dict:
    data = {"account": account.pk, "title": "Winter sale", "message_type": "text", "body": "Half price.",
            "channel": "console", "audience": "all"}
    data.update(overrides)
    return data


# --- is_valid() writes nothing ---------------------------------------------------------------------


def test_validating_a_new_draft_writes_no_broadcast_and_no_audit_event(make_account):
    account = make_account(name="Acme Service")
    events = AuditEvent.objects.count()
    form = BroadcastForm(data=draft_data(account))
    assert form.is_valid(), form.errors
    assert not Broadcast.objects.exists()
    assert AuditEvent.objects.count() == events


def test_validating_an_edit_writes_nothing(make_account, make_user):
    account = make_account(name="Acme Service")
    b = make_draft(account, by=make_user("olga", role="operator"), title="Autumn menu")
    events = AuditEvent.objects.count()
    form = BroadcastForm(data=draft_data(account, title="Autumn menu, revised"), instance=b)
    assert form.is_valid(), form.errors
    b.refresh_from_db()
    assert b.title == "Autumn menu"
    assert AuditEvent.objects.count() == events


def test_a_refusal_of_validate_draft_lands_on_the_field_it_names(make_account):
    account = make_account(name="Daily News", kind=OfficialAccount.Kind.SUBSCRIPTION)
    form = BroadcastForm(data=draft_data(account, message_type="article", body=""))
    assert not form.is_valid()
    assert form.errors["url"] == ["An article message needs the article's link."]
    assert not Broadcast.objects.exists()


def test_a_refusal_while_saving_is_a_message_not_a_500(client, make_user, make_account, monkeypatch):
    # A race between validation and saving (here: the service refuses at save time).
    def refuse(*args, **kwargs):
        raise InvalidState("Only drafts can be edited; “Winter sale” is pending review.")

    monkeypatch.setattr(services, "create_broadcast", refuse)
    client.force_login(make_user("olga", role="operator"))
    account = make_account(name="Acme Service")
    response = client.post(reverse("admin:broadcasts_broadcast_add"), {**draft_data(account), "_save": "Save"},
                           follow=True)
    assert response.status_code == 200
    assert messages_of(response) == ["Only drafts can be edited; “Winter sale” is pending review."]
    assert not Broadcast.objects.exists()


# --- every time in the platform's zone, also when TIME_ZONE is UTC ---------------------------------


@pytest.fixture
def utc_server(settings):
    settings.TIME_ZONE = "UTC"
    settings.PLATFORM_TIME_ZONE = "Asia/Shanghai"
    # 20:30 UTC is 04:30 the next day in Shanghai: date and hour both differ.
    day = (timezone.now() + timedelta(days=40)).astimezone(UTC).date()
    return datetime(day.year, day.month, day.day, 20, 30, tzinfo=UTC)


def shanghai(moment, fmt="%Y-%m-%d %H:%M:%S") -> str:
    return moment.astimezone(SHANGHAI).strftime(fmt)


def test_certification_validity_is_shown_in_platform_time(admin_client, make_account, utc_server):
    account = make_account(name="Acme Service")
    start = utc_server - timedelta(days=60)
    cert = certify(account, valid_from=start, valid_until=utc_server)
    listing = admin_client.get(reverse("admin:accounts_certification_changelist")).content.decode()
    assert f"{shanghai(start, '%Y-%m-%d')} – {shanghai(utc_server, '%Y-%m-%d')}" in listing
    page = admin_client.get(reverse("admin:accounts_certification_change", args=[cert.pk])).content.decode()
    assert f"from {shanghai(start)} until {shanghai(utc_server)} (Asia/Shanghai)" in page
    accounts = admin_client.get(reverse("admin:accounts_officialaccount_changelist")).content.decode()
    assert f"Certified, valid until {shanghai(utc_server, '%Y-%m-%d')}" in accounts
    assert Certification.objects.get().valid_until == utc_server


def test_suspension_end_is_shown_and_typed_in_platform_time(admin_client, make_account, utc_server):
    account = make_account(name="Acme Service")
    suspend_url = reverse("admin:accounts_officialaccount_suspend", args=[account.pk])
    assert "Time in Asia/Shanghai" in admin_client.get(suspend_url).content.decode()
    typed = utc_server.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
    page = admin_client.post(suspend_url, {"apply": "1", "reason": "Spam.", "until": typed}, follow=True)
    account.refresh_from_db()
    assert account.suspended_until == utc_server  # the typed time was read in Asia/Shanghai
    # Django's own read-only field on the account page, and the list's badge.
    assert date_format(utc_server.astimezone(SHANGHAI), "DATETIME_FORMAT") in page.content.decode()
    listing = admin_client.get(reverse("admin:accounts_officialaccount_changelist")).content.decode()
    assert f"until {shanghai(utc_server)}" in listing


def test_broadcast_send_time_is_shown_in_platform_time(admin_client, make_account, make_user, utc_server):
    account = make_account(name="Acme Service")
    b = make_draft(account, by=make_user("olga", role="operator"), scheduled_at=utc_server)
    listing = admin_client.get(reverse("admin:broadcasts_broadcast_changelist")).content.decode()
    assert shanghai(utc_server) in listing and utc_server.strftime("%Y-%m-%d %H:%M") not in listing
    review = admin_client.get(reverse("admin:broadcasts_broadcast_review", args=[b.pk])).content.decode()
    assert f"{shanghai(utc_server)} (Asia/Shanghai)" in review


# --- one report for every service action -----------------------------------------------------------


def test_refusals_are_capped_and_summed_up(admin_client, make_account):
    accounts = [make_account(name=f"Shop {i:02d}") for i in range(MAX_REFUSAL_MESSAGES + 2)]
    response = admin_client.post(
        reverse("admin:accounts_officialaccount_changelist"),
        {"action": "reinstate_accounts", "_selected_action": [a.pk for a in accounts]},
        follow=True,
    )
    shown = messages_of(response)
    assert shown[:MAX_REFUSAL_MESSAGES] == [f"“Shop {i:02d}” is not suspended." for i in range(MAX_REFUSAL_MESSAGES)]
    assert shown[MAX_REFUSAL_MESSAGES:] == ["…and 2 more refused."]


def test_a_bulk_refusal_names_its_object(admin_client, make_account):
    a, b = make_account(name="Acme Service"), make_account(name="Daily News")
    past = timezone.localtime() - timedelta(days=1)
    response = admin_client.post(
        reverse("admin:accounts_officialaccount_changelist"),
        {"action": "suspend_accounts", "_selected_action": [a.pk, b.pk], "apply": "1", "reason": "Spam.",
         "until": past.strftime("%Y-%m-%dT%H:%M")},
        follow=True,
    )
    shown = messages_of(response)
    assert [m.split(":")[0] for m in shown] == ["“Acme Service”", "“Daily News”"]
    assert all("A suspension must end in the future" in m for m in shown)


def test_bulk_broadcast_refusals_are_capped_too(client, make_user, make_account):
    reviewer = make_user("rita", role="reviewer")
    account = make_account(name="Acme Service")
    own = [services.submit_broadcast(make_draft(account, by=reviewer), by=reviewer) for _ in range(MAX_REFUSAL_MESSAGES + 1)]
    client.force_login(reviewer)
    response = client.post(
        reverse("admin:broadcasts_pendingbroadcast_changelist"),
        {"action": "approve_selected", "_selected_action": [b.pk for b in own], "apply": "1"},
        follow=True,
    )
    shown = messages_of(response)
    assert len(shown) == MAX_REFUSAL_MESSAGES + 1 and shown[-1] == "…and 1 more refused."
    assert all("(four eyes)" in m for m in shown[:-1])


# --- one id filter ---------------------------------------------------------------------------------


def test_an_id_filter_given_no_id_matches_nothing(admin_client, make_account, make_followers):
    account = make_account(name="Acme Service")
    make_followers(account, 2, prefix="o")
    followers = admin_client.get(reverse("admin:accounts_follower_changelist") + "?account=abc")
    assert followers.status_code == 200 and "o0000000" not in followers.content.decode()
    named = admin_client.get(reverse("admin:accounts_follower_changelist") + f"?account={account.pk}")
    assert "o0000000" in named.content.decode() and 'name="account"' in named.content.decode()
    deliveries = admin_client.get(reverse("admin:broadcasts_delivery_changelist") + "?broadcast_id=abc")
    assert deliveries.status_code == 200 and "0 deliveries" in deliveries.content.decode()
