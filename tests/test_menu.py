"""Custom menus (R6): service accounts only, 3 top-level items of at most 5 sub-items, byte limits."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import MenuItem

pytestmark = pytest.mark.django_db


def item(account, name="Shop", *, parent=None, kind="click", key="K", url="", position=0):
    return MenuItem(account=account, parent=parent, name=name, kind=kind, key=key, url=url, position=position)


def saved(account, name="Shop", **kw):
    menu_item = item(account, name, **kw)
    menu_item.full_clean()
    menu_item.save()
    return menu_item


def errors_of(menu_item) -> dict:
    with pytest.raises(ValidationError) as info:
        menu_item.full_clean()
    return info.value.message_dict


def all_messages(errors: dict) -> str:
    return " ".join(m for ms in errors.values() for m in ms)


def test_a_valid_two_level_menu_is_accepted(make_account):
    account = make_account()
    top = saved(account, "Shop")
    saved(account, "New arrivals", parent=top, kind="view", key="", url="https://shop.example.com/new")
    assert account.menu_items.count() == 2


def test_subscription_account_has_no_menu(make_account):
    account = make_account(name="Daily News", kind="subscription")
    errors = errors_of(item(account))
    message = all_messages(errors)
    assert "service accounts" in message.lower()
    assert "Daily News" in message


def test_fourth_top_level_item_is_refused(make_account):
    account = make_account()
    for name in ("One", "Two", "Three"):
        saved(account, name)
    errors = errors_of(item(account, "Four"))
    assert "at most 3 top-level" in all_messages(errors)


def test_sixth_child_is_refused(make_account):
    account = make_account()
    top = saved(account, "Shop")
    for i in range(5):
        saved(account, f"Child {i}", parent=top)
    errors = errors_of(item(account, "Child 6", parent=top))
    assert "at most 5 sub-items" in all_messages(errors)
    # Another top-level item still takes children of its own.
    other = saved(account, "Help")
    saved(account, "FAQ", parent=other)


def test_a_grandchild_is_refused(make_account):
    account = make_account()
    child = saved(account, "Child", parent=saved(account, "Top"))
    errors = errors_of(item(account, "Grandchild", parent=child))
    assert "two levels" in all_messages(errors)


def test_parent_from_another_account_is_refused(make_account):
    mine, theirs = make_account(name="Mine"), make_account(name="Theirs")
    errors = errors_of(item(mine, "Child", parent=saved(theirs, "Top")))
    assert "another account" in all_messages(errors)


def test_top_level_name_is_at_most_16_bytes(make_account):
    account = make_account()
    saved(account, "A" * 16)
    errors = errors_of(item(account, "B" * 17))
    assert "16 bytes" in " ".join(errors["name"])
    # Four CJK characters are 12 bytes: fine; six are 18 bytes: too long.
    saved(account, "微信支付")
    assert "name" in errors_of(item(account, "微信支付服务"))


def test_child_name_is_at_most_60_bytes(make_account):
    account = make_account()
    top = saved(account, "Top")
    saved(account, "c" * 60, parent=top)
    errors = errors_of(item(account, "c" * 61, parent=top))
    assert "60 bytes" in " ".join(errors["name"])
    # 21 CJK characters = 63 bytes, although only 21 characters.
    assert "name" in errors_of(item(account, "服" * 21, parent=top))


def test_click_item_needs_a_key(make_account):
    errors = errors_of(item(make_account(), kind="click", key=""))
    assert "key" in errors


def test_view_item_needs_a_url(make_account):
    account = make_account()
    errors = errors_of(item(account, kind="view", key="", url=""))
    assert "url" in errors
    saved(account, kind="view", key="", url="https://example.com/")


def test_a_top_level_item_with_children_needs_no_key(make_account):
    account = make_account()
    top = saved(account, "Shop", key="SHOP")
    saved(account, "Sale", parent=top)
    top.key = ""
    top.full_clean()
