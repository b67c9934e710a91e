"""Every change made by hand in the admin of accounts, content rules, quota policies, menus, tags and
followers writes an audit event naming what changed (field: old → new) — and no admin of the console's
own models writes without one."""

import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.models import AuditEvent, Follower, MenuItem, OfficialAccount, Tag
from broadcasts.models import Broadcast, ContentRule, QuotaPolicy
from operator_console.admin_actions import AuditedChangesMixin
from operator_console.admin_tools import ReadOnlyAdmin
from tests.factories import make_account, make_followers, make_tag, make_user
from tests.test_admin_accounts import form_data

pytestmark = pytest.mark.django_db


def admin_url(model, name, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{name}", args=args)


def events(obj, verb):
    return list(AuditEvent.objects.filter(object_type=obj._meta.model_name, object_id=obj.pk, verb=verb)
                .values_list("by__username", "note"))


@pytest.fixture
def ops(client):
    client.force_login(make_user("ops", superuser=True))
    return client


@pytest.fixture
def shop():
    return make_account(name="Acme Coffee")


def _account(shop):
    return shop, {"name": "Acme Coffee Roasters"}, "name: Acme Coffee → Acme Coffee Roasters"


def _content_rule(shop):
    rule = ContentRule.objects.create(pattern="cheap watches", match="keyword", action="flag", points=5)
    return rule, {"action": "block", "points": "20"}, "action: Flag for the reviewer → Block (reject at once); points: 5 → 20"


def _quota_policy(shop):
    policy = QuotaPolicy.objects.filter(kind="subscription", scope="account").first()
    return policy, {"note": "Checked against the 2014 rules"}, f"note: {policy.note} → Checked against the 2014 rules"


def _menu_item(shop):
    top = MenuItem.objects.create(account=shop, name="Shop", kind="click", key="SHOP")
    return top, {"name": "Store", "key": "STORE"}, "name: Shop → Store; key: SHOP → STORE"


def _tag(shop):
    return make_tag(shop, "vip"), {"name": "gold"}, "name: vip → gold"


def _follower(shop):
    follower = make_followers(shop, 1, prefix="o")[0]
    gold = make_tag(shop, "gold")
    return follower, {"nickname": "Lily", "tags": str(gold.pk)}, "nickname: fan 0 → Lily; tags: — → gold"


CHANGES = [_account, _content_rule, _quota_policy, _menu_item, _tag, _follower]


@pytest.mark.parametrize("make", CHANGES, ids=lambda f: f.__name__.strip("_"))
def test_a_change_in_the_admin_is_audited_with_old_and_new_values(ops, shop, make):
    obj, changes, note = make(shop)
    model = type(obj)
    data = form_data(ops.get(admin_url(model, "change", obj.pk)), f"{model._meta.model_name}_form")
    data.update(changes, _save="Save")

    response = ops.post(admin_url(model, "change", obj.pk), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert events(obj, "edited") == [("ops", note)]
    event = AuditEvent.objects.get(object_type=model._meta.model_name, object_id=obj.pk, verb="edited")
    assert event.account_id == (shop.pk if hasattr(obj, "account") or obj == shop else None)


@pytest.mark.parametrize("make", CHANGES, ids=lambda f: f.__name__.strip("_"))
def test_saving_without_a_change_writes_nothing(ops, shop, make):
    obj, _changes, _note = make(shop)
    model = type(obj)
    data = form_data(ops.get(admin_url(model, "change", obj.pk)), f"{model._meta.model_name}_form")

    assert ops.post(admin_url(model, "change", obj.pk), {**data, "_save": "Save"}).status_code == 302
    assert events(obj, "edited") == []


def test_an_addition_lists_its_values_and_a_deletion_names_what_went(ops, shop):
    response = ops.post(admin_url(Tag, "add"), {"account": shop.pk, "name": "vip", "_save": "Save"})
    assert response.status_code == 302
    tag = Tag.objects.get(name="vip")
    assert events(tag, "created") == [("ops", "account: Acme Coffee; name: vip")]

    pk = tag.pk
    assert ops.post(admin_url(Tag, "delete", pk), {"post": "yes"}).status_code == 302
    assert not Tag.objects.filter(pk=pk).exists()
    assert list(AuditEvent.objects.filter(object_type="tag", object_id=pk, verb="deleted")
                .values_list("by__username", "note", "account")) == [("ops", "“vip”", shop.pk)]


def test_bulk_deletes_are_audited_one_by_one(ops, shop):
    followers = make_followers(shop, 3, prefix="o")
    response = ops.post(admin_url(Follower, "changelist"), {
        "action": "delete_selected", "_selected_action": [f.pk for f in followers], "post": "yes",
    })
    assert response.status_code == 302
    assert not Follower.objects.filter(account=shop).exists()
    assert sorted(AuditEvent.objects.filter(object_type="follower", verb="deleted").values_list("note", flat=True)) == [
        "“fan 0”", "“fan 1”", "“fan 2”",
    ]


def test_an_accounts_log_outlives_the_account(ops):
    account = make_account(name="Short-lived")
    data = form_data(ops.get(admin_url(OfficialAccount, "change", account.pk)), "officialaccount_form")
    ops.post(admin_url(OfficialAccount, "change", account.pk), {**data, "name": "Short-lived Ltd", "_save": "Save"})
    pk = account.pk

    assert ops.post(admin_url(OfficialAccount, "delete", pk), {"post": "yes"}).status_code == 302

    assert not OfficialAccount.objects.filter(pk=pk).exists()
    assert sorted(AuditEvent.objects.filter(object_type="officialaccount", object_id=pk).values_list("verb", "note")) == [
        ("deleted", "“Short-lived Ltd”"), ("edited", "name: Short-lived → Short-lived Ltd"),
    ]


def test_menu_rows_added_and_deleted_on_the_account_page_are_audited(ops, shop):
    old = MenuItem.objects.create(account=shop, name="Old", kind="click", key="OLD")
    page = ops.get(admin_url(OfficialAccount, "change", shop.pk))
    data = form_data(page, "officialaccount_form")
    first = int(data["menu_items-INITIAL_FORMS"])
    assert data["menu_items-0-id"] == str(old.pk)
    data["menu_items-0-DELETE"] = "on"
    data.update({f"menu_items-{first}-{k}": v for k, v in
                 {"name": "Order", "parent": "", "kind": "click", "key": "ORDER", "url": "", "position": "1"}.items()})
    data["menu_items-TOTAL_FORMS"] = str(first + 1)

    assert ops.post(admin_url(OfficialAccount, "change", shop.pk), {**data, "_save": "Save"}).status_code == 302

    order = MenuItem.objects.get(account=shop, name="Order")
    assert events(order, "created") == [
        ("ops", "name: Order; kind: Click (sends a key); key: ORDER; position: 1; account: Acme Coffee")
    ]
    assert list(AuditEvent.objects.filter(object_type="menuitem", object_id=old.pk, verb="deleted")
                .values_list("note", flat=True)) == ["“Old”"]
    assert events(shop, "edited") == []  # the account's own fields did not change


# Admins that write through services which audit each change themselves (create/update_broadcast,
# submit_certification); every other admin of the console's models is read-only or audited here.
SERVICE_BACKED = {Broadcast: "create_broadcast / update_broadcast", "accounts.Certification": "submit_certification"}


def test_no_admin_of_the_consoles_models_writes_without_an_audit_event():
    unaudited = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in ("accounts", "broadcasts")
        and not isinstance(model_admin, AuditedChangesMixin | ReadOnlyAdmin)
        and model not in SERVICE_BACKED and model._meta.label not in SERVICE_BACKED
    ]
    assert unaudited == []
