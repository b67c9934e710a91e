"""Hostile input in the admin answers a page or a message, never a 500 (issue 9, section 4).

The sweep walks every registered admin (admin.site._registry, ours and other apps') as a
superuser and as each role: every list with every filter parameter, search, ordering and page
number set to hostile values; every bulk action with hostile selections; every autocomplete
field with hostile terms; every add page with hostile values in the address and in its
relation fields. The examples of the issue are tests of their own below.
"""

from __future__ import annotations

from collections import Counter

import pytest
from django.contrib import admin
from django.contrib.admin import helpers
from django.test import RequestFactory
from django.urls import reverse

from broadcasts.models import Broadcast, Delivery
from tests.factories import (
    deliver_all,
    make_account,
    make_dispatched,
    make_draft,
    make_followers,
    make_pending,
    make_tag,
    make_user,
)

HOSTILE = {
    "NUL": "\x00",
    "unicode digit": "²",
    "huge": "9" * 5000,
    "empty": "",
    "negative": "-1",
    "non-numeric": "abc",
}
ROLES = ["superuser", "operator", "reviewer", "auditor"]


def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def staff(role: str):
    return make_user(superuser=True) if role == "superuser" else make_user(role=role)


@pytest.fixture
def world(db):
    """One of everything the lists show: accounts, followers, tags, drafts, a pending and a sent broadcast."""
    author = make_user(role="operator")
    account = make_account(name="Acme Service", certified=True)
    fans = make_followers(account, 3)
    make_tag(account, "vip", fans[:2])
    make_draft(account, by=author)
    make_pending(account, by=author, title="Pending one")
    deliver_all(make_dispatched(account, title="Sent one"))
    return account


def filter_parameters(model_admin, request) -> list[str]:
    """Every query parameter the admin's list filters read (those shown now, and those shown only when narrowed)."""
    names = set()
    for spec in model_admin.get_changelist_instance(request).filter_specs:
        names.update(spec.expected_parameters())
    for entry in model_admin.get_list_filter(request):
        if isinstance(entry, type) and getattr(entry, "parameter_name", None):
            names.add(entry.parameter_name)
    return sorted(names)


def relation_fields(form_class) -> list[str]:
    return [name for name, field in form_class.base_fields.items() if hasattr(field, "queryset")]


class Sweep:
    """Sends the requests and remembers every answer by kind, and every 500."""

    def __init__(self, client):
        self.client = client
        self.client.raise_request_exception = False
        self.statuses: dict[str, Counter] = {}
        self.failures: list[str] = []

    def record(self, kind: str, what: str, response) -> None:
        self.statuses.setdefault(kind, Counter())[response.status_code] += 1
        if response.status_code >= 500:
            self.failures.append(f"{response.status_code} {kind}: {what}")

    def get(self, kind: str, url: str, params: dict) -> None:
        self.record(kind, f"GET {url} {params!r:.120}", self.client.get(url, params))

    def post(self, kind: str, url: str, data: dict) -> None:
        self.record(kind, f"POST {url} {data!r:.120}", self.client.post(url, data))


def sweep_admin(sweep: Sweep, model, model_admin, request) -> None:
    info = f"{model._meta.app_label}_{model._meta.model_name}"
    changelist = reverse(f"admin:{info}_changelist")
    params = filter_parameters(model_admin, request) + ["o", "p"]
    if model_admin.get_search_fields(request):
        params.append("q")
    for name in params:
        for value in HOSTILE.values():
            sweep.get("list", changelist, {name: value})
    for action in model_admin.get_actions(request):
        for value in HOSTILE.values():
            sweep.post("action", changelist, {"action": action, helpers.ACTION_CHECKBOX_NAME: value, "index": "0"})
        sweep.post("action", changelist, {"action": action, helpers.ACTION_CHECKBOX_NAME: "²", "index": "²"})
    for field in model_admin.get_autocomplete_fields(request):
        for value in HOSTILE.values():
            sweep.get("autocomplete", reverse("admin:autocomplete"), {
                "term": value, "app_label": model._meta.app_label, "model_name": model._meta.model_name,
                "field_name": field,
            })
    if model_admin.has_add_permission(request):
        # Every field at once: each is read (address) or validated and re-rendered (form) on its own.
        add = reverse(f"admin:{info}_add")
        form_class = model_admin.get_form(request)
        for value in HOSTILE.values():
            sweep.get("add page", add, dict.fromkeys(form_class.base_fields, value))
            sweep.post("add form", add, dict.fromkeys(relation_fields(form_class), value))


@pytest.mark.parametrize("role", ROLES)
def test_every_admin_list_filter_search_action_and_add_page_survives_hostile_values(role, client, world):
    user = staff(role)
    client.force_login(user)
    request = RequestFactory().get("/")
    request.user = user
    sweep = Sweep(client)
    visible = 0
    for model, model_admin in admin.site._registry.items():
        if not model_admin.has_view_or_change_permission(request):
            continue
        visible += 1
        sweep_admin(sweep, model, model_admin, request)

    assert sweep.failures == []
    assert visible >= 14  # every role reads the console's own lists
    assert sweep.statuses["list"][400]
    assert set(sweep.statuses["list"]) <= {200, 302, 400}  # shown, sent back to the list (?e=1), or NUL refused
    if role != "auditor":  # the auditor has no action
        # Not an id: back to the list with a message; "-1" is an id that matches nothing (an empty confirm page).
        assert sweep.statuses["action"][302] and set(sweep.statuses["action"]) <= {200, 302, 400}
    if role in ("superuser", "operator"):
        assert sweep.statuses["add form"][200]  # the form came back with its errors


# --- the examples ------------------------------------------------------------------------


@pytest.fixture
def operator_client(client, db):
    client.force_login(make_user(role="operator"))
    return client


def test_a_nul_byte_in_a_list_filter_is_a_400_that_says_why(operator_client, world):
    response = operator_client.get(reverse("admin:broadcasts_broadcast_changelist") + "?status__exact=%00")

    assert response.status_code == 400
    assert "NUL character (%00)" in response.content.decode()


def test_a_nul_byte_in_an_autocomplete_term_is_a_400(operator_client, world):
    response = operator_client.get(
        reverse("admin:autocomplete") + "?term=%00&app_label=broadcasts&model_name=broadcast&field_name=account"
    )

    assert response.status_code == 400


def test_a_non_integer_selection_runs_no_action_and_says_nothing_was_selected(client, world):
    client.force_login(make_user(role="reviewer"))
    pending = Broadcast.objects.get(title="Pending one")

    response = client.post(
        reverse("admin:broadcasts_broadcast_changelist"),
        {"action": "reject_selected", helpers.ACTION_CHECKBOX_NAME: "abc", "index": "0"},
    )

    assert response.status_code == 302
    assert any("Items must be selected" in m for m in messages_of(response))
    pending.refresh_from_db()
    assert pending.status == Broadcast.Status.PENDING_REVIEW


def test_a_selection_mixing_ids_and_junk_acts_on_the_ids_and_says_what_was_left_out(client, world):
    client.force_login(make_user(role="reviewer"))
    pending = Broadcast.objects.get(title="Pending one")

    response = client.post(
        reverse("admin:broadcasts_broadcast_changelist"),
        {"action": "cancel_selected", helpers.ACTION_CHECKBOX_NAME: [str(pending.pk), "²", ""], "index": "0"},
    )

    assert response.status_code == 302
    assert "2 selected values are not ids of this list; they were left out." in messages_of(response)
    pending.refresh_from_db()
    assert pending.status == Broadcast.Status.CANCELLED


@pytest.mark.parametrize(
    "changelist, parameter",
    [
        ("admin:broadcasts_delivery_changelist", "broadcast_id"),
        ("admin:broadcasts_inboxmessage_changelist", "follower_id"),
        ("admin:accounts_follower_changelist", "account"),
    ],
)
def test_a_unicode_digit_in_an_id_filter_matches_nothing_and_says_it_is_not_an_id(
    operator_client, world, changelist, parameter
):
    assert Delivery.objects.exists()

    response = operator_client.get(reverse(changelist) + f"?{parameter}=%C2%B2")

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
    assert "Not an id: nothing matches." in response.content.decode()


def test_an_id_filter_still_finds_by_an_ascii_id(operator_client, world):
    response = operator_client.get(reverse("admin:accounts_follower_changelist") + f"?account={world.pk}")

    assert len(response.context["cl"].result_list) == 3
    assert "Not an id" not in response.content.decode()


@pytest.mark.parametrize("value", ["abc", "²", "-1"])
def test_an_invalid_autocomplete_value_comes_back_as_a_form_error(operator_client, world, value):
    add = reverse("admin:broadcasts_broadcast_add")

    response = operator_client.post(add, {"account": value, "title": "Sale", "message_type": "text", "body": "Hi",
                                          "channel": "console", "audience": "all"})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["account"]
    assert not Broadcast.objects.filter(title="Sale").exists()
    assert operator_client.get(add, {"account": value, "tag": value}).status_code == 200


def test_a_readable_value_in_the_address_still_fills_the_add_page(operator_client, world):
    response = operator_client.get(reverse("admin:broadcasts_broadcast_add"), {
        "account": world.pk, "scheduled_at": "2031-05-10 12:00", "title": "From a link",
    })

    form = response.context["adminform"].form
    assert (form.initial["account"], form.initial["title"]) == (str(world.pk), "From a link")
    assert form.initial["scheduled_at"].year == 2031


def test_a_nul_in_the_session_cookie_is_ignored_like_a_missing_one(client, db):
    response = client.get(reverse("admin:index"), HTTP_COOKIE='sessionid="' + "\\000" * 10 + '"')

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
