"""Issue 13, "The operator's day": the broadcast change, read-only and review pages show what a person
needs once, in words (the clientmsgid of API sends only, one warning box, the audience's own field,
a follower list's openids, the history's verbs as labels)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import OfficialAccount
from broadcasts import services
from broadcasts.models import Broadcast
from tests.factories import make_draft, make_pending, make_tag
from tests.test_admin_accounts import form_data, messages_of, text

pytestmark = pytest.mark.django_db


def change_url(b: Broadcast) -> str:
    return reverse("admin:broadcasts_broadcast_change", args=[b.pk])


def review_url(b: Broadcast) -> str:
    return reverse("admin:broadcasts_broadcast_review", args=[b.pk])


@pytest.fixture
def people(make_user):
    return {"op": make_user("olga", role="operator"), "rev": make_user("rita", role="reviewer")}


@pytest.fixture
def shop(make_account, make_followers):
    acc = make_account(name="Acme Coffee", kind=OfficialAccount.Kind.SERVICE, certified=True)
    make_followers(acc, 30)
    return acc


def add_draft(client, account, **fields):
    """The add form as an operator posts it; returns the response after its redirect."""
    data = form_data(client.get(reverse("admin:broadcasts_broadcast_add")), "broadcast_form")
    data.update({"account": account.pk, "message_type": "text", "body": "Hi", "channel": "console", "audience": "all"})
    data.update(fields)
    return client.post(reverse("admin:broadcasts_broadcast_add"), data, follow=True)


def fields_of(response) -> set[str]:
    """The form rows a change page shows, by field name."""
    return set(re.findall(r'class="form-row[^"]*\bfield-(\w+)', response.content.decode()))


# ---------------------------------------------------------------- the clientmsgid


def test_a_console_broadcast_does_not_show_the_add_forms_token(client, people, shop):
    client.force_login(people["op"])
    add_draft(client, shop, title="Autumn menu")
    b = Broadcast.objects.get(title="Autumn menu")
    assert b.client_msg_id  # the form's one-time token, kept to refuse a second Save of the same form
    page = client.get(change_url(b))
    assert page.status_code == 200
    assert "client_msg_id" not in fields_of(page)
    assert b.client_msg_id not in text(page) and "Clientmsgid" not in text(page)


def test_an_api_broadcast_shows_the_integrations_clientmsgid(client, people, shop):
    b = make_draft(shop, by=people["op"], channel="api", client_msg_id="crm-send-42")
    client.force_login(people["op"])
    assert "Clientmsgid: crm-send-42" in text(client.get(change_url(b)))


# ---------------------------------------------------------------- a warning said once


def test_a_saved_drafts_warning_is_shown_once_in_the_box(client, people, make_account, make_followers):
    uncertified = make_account(name="Corner Shop", kind=OfficialAccount.Kind.SERVICE)
    tag = make_tag(uncertified, "vip", make_followers(uncertified, 3))
    client.force_login(people["op"])
    page = add_draft(client, uncertified, title="To VIPs", audience="tag", tag=tag.pk, _continue="1")
    b = Broadcast.objects.get(title="To VIPs")
    assert page.request["PATH_INFO"] == change_url(b)
    [warning] = services.eligibility_report(b).warnings
    assert "has no certification valid" in warning.message
    said = "has no certification valid"  # the message names the time of the check: compare a part
    assert text(page).count(said) == 1
    assert 'id="bc-eligibility-warnings"' in page.content.decode()
    assert "Saved, with 1 warning: see below." in messages_of(page)

    # Saved again from its change page: still once.
    data = form_data(client.get(change_url(b)), "broadcast_form")
    page = client.post(change_url(b), {**data, "title": "To our VIPs", "_continue": "1"}, follow=True)
    assert text(page).count(said) == 1
    assert "Saved, with 1 warning: see below." in messages_of(page)


def test_a_warning_saved_to_the_list_is_told_in_full(client, people, make_account, make_followers):
    """Plain Save lands on the list, which has no warnings box: the message says what is wrong."""
    uncertified = make_account(name="Corner Shop", kind=OfficialAccount.Kind.SERVICE)
    tag = make_tag(uncertified, "vip", make_followers(uncertified, 3))
    client.force_login(people["op"])
    page = add_draft(client, uncertified, title="To VIPs", audience="tag", tag=tag.pk)
    assert any("has no certification valid" in m for m in messages_of(page))


# ---------------------------------------------------------------- the read-only page's audience


@pytest.mark.parametrize("audience", ["all", "tag", "followers"])
def test_the_read_only_page_shows_only_the_audiences_own_field(client, people, shop, audience):
    fans = list(shop.followers.order_by("id"))
    extra = {
        "all": {},
        "tag": {"channel": "api", "tag": make_tag(shop, "vip", fans[:5])},
        "followers": {"channel": "api", "recipients": fans[:3]},
    }[audience]
    b = make_pending(shop, by=people["op"], audience=audience, **extra)  # pending: nobody edits it
    client.force_login(people["rev"])
    page = client.get(change_url(b))
    shown = fields_of(page) & {"tag", "recipients", "recipient_openids"}
    assert shown == {"all": set(), "tag": {"tag"}, "followers": {"recipient_openids"}}[audience]
    if audience == "tag":
        assert "Tag: vip" in text(page)
    if audience == "followers":
        assert all(f.openid in text(page) for f in fans[:3])


# ---------------------------------------------------------------- the review page's follower list


def test_the_review_page_names_a_follower_lists_openids(client, people, shop):
    fans = list(shop.followers.order_by("id"))
    b = make_pending(shop, by=people["op"], channel="api", audience="followers", recipients=fans[:25])
    client.force_login(people["rev"])
    page = text(client.get(review_url(b)))
    assert "25 openids on the list:" in page
    assert all(f.openid in page for f in fans[:20])
    assert not any(f.openid in page for f in fans[20:])
    assert "and 5 more" in page


def test_the_review_page_of_a_short_list_names_them_all(client, people, shop):
    fans = list(shop.followers.order_by("id"))
    b = make_pending(shop, by=people["op"], channel="api", audience="followers", recipients=fans[:2])
    client.force_login(people["rev"])
    page = text(client.get(review_url(b))).replace(" ,", ",")  # text() spaces out the <code> tags
    assert f"2 openids on the list: {fans[0].openid}, {fans[1].openid}" in page
    assert "more" not in page.split("openids on the list:")[1].split("Audience size")[0]


def test_the_review_page_of_an_all_followers_broadcast_names_no_list(client, people, shop):
    b = make_pending(shop, by=people["op"])
    client.force_login(people["rev"])
    assert "on the list" not in text(client.get(review_url(b)))


# ---------------------------------------------------------------- the history's verbs


def test_the_history_shows_each_verbs_label(client, people, shop):
    b = make_pending(shop, by=people["op"])
    services.withdraw_broadcast(b, by=people["op"])
    client.force_login(people["op"])
    for url in (change_url(b), review_url(b)):
        history = text(client.get(url)).split("History", 1)[1]
        assert "olga withdrawn to draft" in history
        assert re.search(r"\bolga withdrawn\b(?! to draft)", history) is None
