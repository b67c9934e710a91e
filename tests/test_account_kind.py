"""An account's kind (R1) decides its quota (R2/R3): it changes only through change_account_kind, with its
own permission and an audit event, never as a side effect of the account's edit form."""

import pytest
from django.urls import reverse

from accounts import services
from accounts.exceptions import InvalidInput, InvalidState
from accounts.models import AuditEvent, MenuItem, OfficialAccount
from broadcasts import services as broadcast_services
from broadcasts.exceptions import QuotaExceeded
from tests.factories import local, make_account, make_followers, make_pending, make_user
from tests.test_admin_accounts import form_data, messages_of, text

pytestmark = pytest.mark.django_db

SUBSCRIPTION, SERVICE = OfficialAccount.Kind.SUBSCRIPTION, OfficialAccount.Kind.SERVICE


def change_url(account):
    return reverse("admin:accounts_officialaccount_change", args=[account.pk])


def kind_url(account):
    return reverse("admin:accounts_officialaccount_kind", args=[account.pk])


def kind_events(account):
    return list(AuditEvent.objects.filter(account=account, verb=AuditEvent.Verb.KIND_CHANGED).values_list("by__username", "note"))


def test_the_edit_form_cannot_switch_the_kind(client):
    account = make_account(name="Daily News", kind=SUBSCRIPTION)
    client.force_login(make_user("rita", role="reviewer"))
    data = form_data(client.get(change_url(account)), "officialaccount_form")
    assert "kind" not in data  # shown, not editable

    data.update(kind=SERVICE, name="Daily News (renamed)")
    response = client.post(change_url(account), data)

    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.name, account.kind) == ("Daily News (renamed)", SUBSCRIPTION)


def test_a_reviewer_switches_the_kind_on_its_page_and_the_audit_log_says_so(client):
    account = make_account(name="Daily News", kind=SUBSCRIPTION)
    client.force_login(make_user("rita", role="reviewer"))
    page = client.get(change_url(account))
    assert kind_url(account) in page.content.decode()

    response = client.post(kind_url(account), {"kind": SERVICE, "reason": "Contract upgraded (ticket 4711)"}, follow=True)

    assert messages_of(response) == ["“Daily News” is now a service account."]
    account.refresh_from_db()
    assert account.kind == SERVICE
    assert kind_events(account) == [
        ("rita", "kind: Subscription account → Service account; reason: Contract upgraded (ticket 4711)")
    ]


@pytest.mark.parametrize("role", ["operator", "auditor"])
def test_other_roles_may_not_switch_the_kind(client, role):
    account = make_account(name="Daily News", kind=SUBSCRIPTION)
    client.force_login(make_user("someone", role=role))

    assert client.get(kind_url(account)).status_code == 403
    assert client.post(kind_url(account), {"kind": SERVICE}).status_code == 403
    assert kind_url(account) not in client.get(change_url(account)).content.decode()
    account.refresh_from_db()
    assert account.kind == SUBSCRIPTION and kind_events(account) == []


def test_refusals_name_the_problem():
    news = make_account(name="Daily News", kind=SUBSCRIPTION)
    shop = make_account(name="Acme Coffee", kind=SERVICE)
    MenuItem.objects.create(account=shop, name="Order", kind="click", key="ORDER")

    with pytest.raises(InvalidState) as same:
        services.change_account_kind(news, by=None, kind=SUBSCRIPTION)
    with pytest.raises(InvalidInput) as unknown:
        services.change_account_kind(news, by=None, kind="premium")
    with pytest.raises(InvalidState) as menu:
        services.change_account_kind(shop, by=None, kind=SUBSCRIPTION)

    assert str(same.value) == "“Daily News” is already a subscription account."
    assert (unknown.value.code, unknown.value.context["field"]) == ("invalid_input", "kind")
    assert "delete “Acme Coffee”'s menu before making it a subscription account" in str(menu.value)
    assert kind_events(news) == [] and kind_events(shop) == []


def test_the_form_page_shows_a_refusal_and_changes_nothing(admin_client):
    news = make_account(name="Daily News", kind=SUBSCRIPTION)
    response = admin_client.post(kind_url(news), {"kind": SUBSCRIPTION}, follow=True)
    assert "“Daily News” is already a subscription account." in text(response)
    response = admin_client.post(kind_url(news), {"kind": ""})
    assert response.status_code == 200 and "This field is required." in text(response)


def test_the_quota_follows_the_new_kind():
    """One a day as a subscription account (R2); four a month once it is a service account (R3)."""
    author, reviewer = make_user("olga"), make_user("rita")
    account = make_account(name="Daily News", kind=SUBSCRIPTION)
    make_followers(account, 2)
    day = local(2031, 5, 10, 9)
    broadcast_services.approve_broadcast(make_pending(account, by=author), by=reviewer, send_at=day)
    second = make_pending(account, by=author)
    with pytest.raises(QuotaExceeded):
        broadcast_services.approve_broadcast(second, by=reviewer, send_at=day.replace(hour=18))

    services.change_account_kind(account, by=reviewer, kind=SERVICE)

    assert broadcast_services.approve_broadcast(second, by=reviewer, send_at=day.replace(hour=18)).status == "approved"
