"""Two saves of the same thing make one thing and no 500 (issue 9, section 4).

Two operators adding the same tag name or follower openid at the same moment: the second
gets the form back saying it exists (the unique constraint's IntegrityError used to be a 500).
A double click on Save of the broadcast add form: one draft, and the second click shows it.
"""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from accounts.models import Follower, OfficialAccount, Tag
from broadcasts.models import Broadcast
from tests.conftest import wait_for
from tests.factories import make_account, make_user

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _someone_waits_for_a_row_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0] > 0


def _stored_by_another_request_meanwhile(create) -> threading.Thread:
    """Another request's transaction stores `create()`'s row and commits only once this one's
    insert of the same unique value is waiting for it: both passed validation, one must lose."""
    stored = threading.Event()

    def other_request():
        try:
            with transaction.atomic():
                create()
                stored.set()
                wait_for(_someone_waits_for_a_row_lock, timeout=20, what="the admin's insert to wait")
        finally:
            connection.close()

    thread = threading.Thread(target=other_request)
    thread.start()
    assert stored.wait(20)
    return thread


CASES = {
    "tag name": (
        "admin:accounts_tag_add", "operator",
        lambda account: {"account": account.pk, "name": "vip"},
        lambda account: Tag.objects.create(account=account, name="vip"),
        lambda account: Tag.objects.filter(account=account, name="vip").count(),
        "Tag with this Account and Name already exists.",
    ),
    "follower openid": (
        "admin:accounts_follower_add", "operator",
        lambda account: {"account": account.pk, "openid": "o-42", "nickname": "Ann"},
        lambda account: Follower.objects.create(account=account, openid="o-42"),
        lambda account: Follower.objects.filter(account=account, openid="o-42").count(),
        "Follower with this Account and Openid already exists.",
    ),
    "account app_id": (
        "admin:accounts_officialaccount_add", "superuser",
        lambda account: {"name": "Copycat", "app_id": "wx00000000000000ab", "kind": "service"},
        lambda account: OfficialAccount.objects.create(name="First", app_id="wx00000000000000ab", kind="service"),
        lambda account: OfficialAccount.objects.filter(app_id="wx00000000000000ab").count(),
        "Official account with this AppID already exists.",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_two_simultaneous_adds_of_one_unique_value_store_one_and_say_so(client, case):
    url, role, form_data, create, count, message = case
    account = make_account(name="Acme Service")
    client.force_login(make_user(superuser=True) if role == "superuser" else make_user(role=role))

    other = _stored_by_another_request_meanwhile(lambda: create(account))
    response = client.post(reverse(url), {**form_data(account), "_save": "Save"})
    other.join(20)

    assert response.status_code == 200
    assert message in str(response.context["adminform"].form.errors)
    assert count(account) == 1


# --- the broadcast add form -------------------------------------------------------------------------


def _add_form(client) -> dict:
    """What the add page's form posts: its one-time token and a valid draft."""
    page = client.get(reverse("admin:broadcasts_broadcast_add")).content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    account = OfficialAccount.objects.get(name="Acme Service")
    return {"form_token": token, "account": account.pk, "title": "Winter sale", "message_type": "text",
            "body": "Half price.", "channel": "console", "audience": "all", "_save": "Save"}


def test_saving_the_add_form_twice_makes_one_draft_and_the_second_save_shows_it(client):
    make_account(name="Acme Service")
    client.force_login(make_user(role="operator"))
    data = _add_form(client)

    first = client.post(reverse("admin:broadcasts_broadcast_add"), data)
    second = client.post(reverse("admin:broadcasts_broadcast_add"), data, follow=True)

    draft = Broadcast.objects.get()
    assert first.status_code == 302
    assert second.redirect_chain[0][0] == reverse("admin:broadcasts_broadcast_change", args=[draft.pk])
    assert "This form was already saved as “Winter sale”; saving it again made no second draft." in [
        str(m) for m in second.context["messages"]
    ]


def test_a_double_click_posting_at_the_same_moment_makes_one_draft():
    make_account(name="Acme Service")
    operator = make_user(role="operator")
    clients = [Client(), Client()]
    for c in clients:
        c.force_login(operator)
    data = _add_form(clients[0])
    barrier = threading.Barrier(2)
    statuses = []

    def click(c):
        try:
            barrier.wait(10)
            statuses.append(c.post(reverse("admin:broadcasts_broadcast_add"), data).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert statuses == [302, 302]
    assert Broadcast.objects.count() == 1


def test_each_add_page_is_a_new_draft(client):
    make_account(name="Acme Service")
    client.force_login(make_user(role="operator"))
    first, second = _add_form(client), _add_form(client)
    tampered = client.get(reverse("admin:broadcasts_broadcast_add"), {"form_token": first["form_token"]})

    assert first["form_token"] != second["form_token"]
    assert first["form_token"] not in tampered.content.decode()  # never a token given in the address
    client.post(reverse("admin:broadcasts_broadcast_add"), first)
    client.post(reverse("admin:broadcasts_broadcast_add"), second)
    assert Broadcast.objects.count() == 2
