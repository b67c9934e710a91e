"""What a fresh pair of eyes found in the console (session 2): each a 500 or a misleading answer before."""

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from broadcasts import services
from broadcasts.models import Broadcast, ContentRule, QuotaPolicy, Violation
from tests.factories import make_account, make_draft, make_followers, make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", ["99999999999999999999999", "²", "-3", "abc"])
def test_a_recipient_that_is_not_a_followers_openid_is_a_form_error(admin_client, value):
    account = make_account()
    fan = make_followers(account, 2)[0]
    response = admin_client.post(reverse("admin:broadcasts_broadcast_add"), {
        "account": account.pk, "title": "List", "message_type": "text", "body": "Hi", "channel": "api",
        "audience": "followers", "recipients": f"{fan.openid}\n{value}",
    })
    assert response.status_code == 200
    assert f"“{value}” (line 2)" in response.content.decode()
    assert not Broadcast.objects.exists()


def test_a_quota_limit_below_one_is_a_sentence_not_a_constraint_name(admin_client):
    response = admin_client.post(reverse("admin:broadcasts_quotapolicy_add"), {
        "kind": "subscription", "scope": "account", "limit": "0", "period": "day",
        "effective_from_0": "2031-01-01", "effective_from_1": "00:00", "note": "",
    })
    text = response.content.decode()
    assert response.status_code == 200 and "A limit is at least 1" in text
    assert "quota_policy_limit_positive" not in text
    assert not QuotaPolicy.objects.filter(effective_from__year=2031).exists()


def test_one_violation_point_is_singular():
    ContentRule.objects.create(pattern="casino", match="keyword", action="block", points=1)
    author = make_user("olga", role="operator")
    b = make_draft(make_account(name="Harbor Bank"), by=author, body="casino night")
    with pytest.raises(Exception) as refused:
        services.submit_broadcast(b, by=author)
    assert str(refused.value).endswith("Harbor Bank receives 1 violation point.")
    assert str(Violation.objects.get()) == "Harbor Bank: 1 point"


def test_the_add_forms_token_is_not_a_change_in_the_history(admin_client):
    account = make_account()
    page = admin_client.get(reverse("admin:broadcasts_broadcast_add"))
    token = page.context["adminform"].form.initial["form_token"]
    admin_client.post(reverse("admin:broadcasts_broadcast_add"), {
        "account": account.pk, "title": "Autumn", "message_type": "text", "body": "Hi", "channel": "console",
        "audience": "all", "form_token": token,
    })
    b = Broadcast.objects.get()
    change = admin_client.get(reverse("admin:broadcasts_broadcast_change", args=[b.pk]))
    data = {**{k: v for k, v in change.context["adminform"].form.initial.items() if v is not None},
            "title": "Autumn menu", "form_token": "something else", "tag": "", "scheduled_at_0": "", "scheduled_at_1": ""}
    data.pop("recipients", None)
    admin_client.post(reverse("admin:broadcasts_broadcast_change", args=[b.pk]), data)
    assert Broadcast.objects.get().title == "Autumn menu"
    history = admin_client.get(reverse("admin:broadcasts_broadcast_history", args=[b.pk])).content.decode()
    assert "form_token" not in history and "form token" not in history.lower()
    assert not LogEntry.objects.filter(change_message__contains="form_token").exists()


def test_a_finished_broadcast_with_no_recipients_does_not_say_yet(admin_client):
    account = make_account()
    b = make_draft(account, by=make_user("olga", role="operator"))
    Broadcast.objects.filter(pk=b.pk).update(status="sent", total_count=0)
    listing = admin_client.get(reverse("admin:broadcasts_broadcast_changelist")).content.decode()
    assert "no recipients" in listing and "no recipients yet" not in listing
