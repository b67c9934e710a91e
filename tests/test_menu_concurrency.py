"""Custom menus under concurrency and moves (R6): the limits of 3 top-level items and 5 sub-items hold when
people add items at the same moment, and an item's account never diverges from its parent's."""

import threading

import pytest
from django.db import connection
from django.db.models import F
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import AuditEvent, MenuItem
from operator_console.errors import DomainError
from tests.factories import make_account, make_user

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

THREADS = 8


def all_at_once(work, n=THREADS) -> list:
    """Run work(i) in n threads, each with its own database connection, released together."""
    barrier = threading.Barrier(n)
    outcomes = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=30)
            outcomes[i] = work(i)
        except DomainError as exc:
            outcomes[i] = exc.code
        except Exception as exc:  # noqa: BLE001 - reported in the assertions
            outcomes[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


def item(account, name, *, parent=None):
    return MenuItem(account=account, parent=parent, name=name, kind="click", key=name.upper())


def test_concurrent_top_level_adds_stop_at_three():
    account = make_account(name="Acme Coffee")
    user = make_user("rita")

    outcomes = all_at_once(lambda i: services.save_menu_item(item(account, f"Top {i}"), by=user) and "saved")

    assert sorted(outcomes) == ["invalid_menu"] * (THREADS - 3) + ["saved"] * 3, outcomes
    assert MenuItem.objects.filter(account=account, parent=None).count() == 3


def test_concurrent_sub_item_adds_stop_at_five():
    account = make_account(name="Acme Coffee")
    top = MenuItem.objects.create(account=account, name="Shop", kind="click", key="SHOP")

    outcomes = all_at_once(lambda i: services.save_menu_item(item(account, f"Sub {i}", parent=top), by=None) and "saved")

    assert sorted(outcomes) == ["invalid_menu"] * (THREADS - 5) + ["saved"] * 5, outcomes
    assert top.children.count() == 5


def test_concurrent_adds_through_the_admin_page_stop_at_three():
    """The issue's case: several people press Save on the menu item page at the same moment."""
    account = make_account(name="Acme Coffee")
    make_user("ops", superuser=True)
    clients = []
    for _ in range(THREADS):
        client = Client()
        client.login(username="ops", password="pw-Secret-123")
        clients.append(client)
    add_url = reverse("admin:accounts_menuitem_add")

    changelist = reverse("admin:accounts_menuitem_changelist")

    def post(i):
        response = clients[i].post(add_url, {"account": account.pk, "name": f"Top {i}", "kind": "click",
                                             "key": f"TOP{i}", "url": "", "position": i, "_save": "Save"})
        # Saved: back to the list. Refused: the form again with its error, or (the race) the add page
        # again with the refusal as a message.
        return "saved" if response.status_code == 302 and response.url == changelist else "refused"

    outcomes = all_at_once(post)

    assert sorted(outcomes) == ["refused"] * (THREADS - 3) + ["saved"] * 3, outcomes
    assert MenuItem.objects.filter(account=account, parent=None).count() == 3


# --- moves between accounts ----------------------------------------------------------------------------


@pytest.fixture
def two_shops():
    first, second = make_account(name="Acme Coffee"), make_account(name="Acme Tea")
    shop = MenuItem.objects.create(account=first, name="Shop", kind="click", key="SHOP")
    for name in ("Beans", "Mugs"):
        MenuItem.objects.create(account=first, parent=shop, name=name, kind="click", key=name.upper())
    return first, second, shop


def change(client, menu_item, **fields):
    data = {"account": menu_item.account_id, "parent": menu_item.parent_id or "", "name": menu_item.name,
            "kind": menu_item.kind, "key": menu_item.key, "url": menu_item.url, "position": menu_item.position,
            "_save": "Save"}
    data.update(fields)
    return client.post(reverse("admin:accounts_menuitem_change", args=[menu_item.pk]), data)


def test_moving_a_top_level_item_to_another_account_takes_its_sub_items_along(admin_client, two_shops):
    first, second, shop = two_shops

    response = change(admin_client, shop, account=second.pk)

    assert response.status_code == 302
    assert sorted(second.menu_items.values_list("name", flat=True)) == ["Beans", "Mugs", "Shop"]
    assert not first.menu_items.exists()
    assert AuditEvent.objects.filter(account=second, object_type="menuitem", verb="edited",
                                     note__contains="Acme Coffee → Acme Tea").count() == 3  # the item and both sub-items


def test_a_move_into_a_full_menu_is_refused(admin_client, two_shops):
    first, second, shop = two_shops
    for name in ("One", "Two", "Three"):
        MenuItem.objects.create(account=second, name=name, kind="click", key=name.upper())

    response = change(admin_client, shop, account=second.pk)

    assert response.status_code == 200
    assert "A menu has at most 3 top-level items; “Acme Tea” already has 3." in response.content.decode()
    assert first.menu_items.count() == 3 and second.menu_items.count() == 3


def test_a_sub_item_cannot_leave_for_another_account_without_its_parent(admin_client, two_shops):
    first, second, shop = two_shops
    beans = shop.children.get(name="Beans")

    response = change(admin_client, beans, account=second.pk)

    assert response.status_code == 200
    assert "The parent item belongs to another account&#x27;s menu." in response.content.decode()
    beans.refresh_from_db()
    assert beans.account == first


def test_every_menu_keeps_to_its_own_account(two_shops):
    """Whatever moved, no item's account differs from its parent's."""
    first, second, shop = two_shops
    shop.account = second
    services.save_menu_item(shop, by=None)

    assert second.menu_items.count() == 3
    assert not MenuItem.objects.exclude(parent=None).exclude(account_id=F("parent__account_id")).exists()
