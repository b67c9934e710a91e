"""The accounts admin as an operator uses it: pages, permissions, review actions, lists of big tables."""

import re
from datetime import timedelta
from html import unescape
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import AuditEvent, Certification, Follower, MenuItem, OfficialAccount, Tag

pytestmark = pytest.mark.django_db


# --- helpers -------------------------------------------------------------------------------------


class _FormFields(HTMLParser):
    """Collects what a browser would submit from one <form id=...>: inputs, selected options, textareas."""

    def __init__(self, form_id):
        super().__init__()
        self.form_id, self.inside, self.data = form_id, False, []
        self._select = self._textarea = None
        self._select_has_choice = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type", "text") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.data.append((name, a.get("value", "on" if a.get("type") == "checkbox" else "")))
        elif tag == "select" and name:
            self._select, self._select_has_choice = name, False
        elif tag == "option" and self._select and "selected" in a:
            self.data.append((self._select, a.get("value", "")))
            self._select_has_choice = True
        elif tag == "textarea" and name:
            self._textarea = [name, ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select:
            if not self._select_has_choice:
                self.data.append((self._select, ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.data.append((self._textarea[0], unescape(self._textarea[1]).lstrip("\n")))
            self._textarea = None


def form_data(response, form_id) -> dict:
    parser = _FormFields(form_id)
    parser.feed(response.content.decode())
    return {k: v for k, v in parser.data if "__prefix__" not in k}


def text(response) -> str:
    """The page's visible text, tags stripped and spaces collapsed (for asserting what a person reads)."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def url(name, *args, query=""):
    return reverse(f"admin:accounts_{name}", args=args) + (f"?{query}" if query else "")


def certify_by_review(account, *, by=None, valid_from=None):
    """Certify through the review services (application, approval, audit), as the admin would."""
    cert = services.submit_certification(account, legal_name=f"{account.name} Ltd", registration_number="R-1", by=by)
    return services.approve_certification(cert, by=by, valid_from=valid_from)


@pytest.fixture
def world(make_account, make_followers, django_user_model):
    """One object of every accounts model, so every admin page has something to show."""
    reviewer = django_user_model.objects.create_user("rev", is_staff=True)
    service = make_account(name="Acme Service", kind="service")
    news = make_account(name="Daily News", kind="subscription")
    cert = certify_by_review(service, by=reviewer)
    pending = services.submit_certification(news, legal_name="Daily News Ltd", registration_number="N-1", by=reviewer)
    followers = make_followers(service, 3, prefix="o")  # openids o0000000..o0000002, named by the tests below
    tag = Tag.objects.create(account=service, name="vip")
    followers[0].tags.add(tag)
    top = MenuItem.objects.create(account=service, name="Shop", kind="click", key="SHOP")
    return {
        "officialaccount": service,
        "certification": cert,
        "pending": pending,
        "follower": followers[0],
        "tag": tag,
        "menuitem": top,
        "auditevent": AuditEvent.objects.first(),
        "news": news,
        "reviewer": reviewer,
    }


MODELS = ["officialaccount", "certification", "follower", "tag", "menuitem", "auditevent"]


# --- every page renders for a superuser, and is closed to others ---------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_superuser_sees_every_list_and_change_page(admin_client, world, model):
    obj = world[model]
    assert admin_client.get(url(f"{model}_changelist")).status_code == 200
    response = admin_client.get(url(f"{model}_change", obj.pk))
    assert response.status_code == 200
    assert str(obj) in text(response)


@pytest.mark.parametrize("model", [m for m in MODELS if m != "auditevent"])
def test_superuser_sees_every_add_page(admin_client, world, model):
    assert admin_client.get(url(f"{model}_add")).status_code == 200


def test_audit_log_is_read_only_even_for_a_superuser(admin_client, world):
    event = world["auditevent"]
    assert admin_client.get(url("auditevent_add")).status_code == 403
    page = admin_client.get(url("auditevent_change", event.pk))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert admin_client.post(url("auditevent_delete", event.pk), {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize("model", MODELS)
def test_staff_without_permissions_is_forbidden(client, make_user, world, model):
    client.force_login(make_user("nobody"))
    obj = world[model]
    for page in (url(f"{model}_changelist"), url(f"{model}_add"), url(f"{model}_change", obj.pk)):
        assert client.get(page).status_code == 403, page


def test_staff_without_permissions_cannot_reach_review_pages(client, make_user, world):
    client.force_login(make_user("nobody"))
    cert, account = world["pending"], world["officialaccount"]
    for page in ("approve", "reject", "revoke"):
        assert client.get(url(f"certification_{page}", cert.pk)).status_code == 403
        assert client.post(url(f"certification_{page}", cert.pk), {"apply": "1", "reason": "x"}).status_code == 403
    for page in ("suspend", "reinstate"):
        assert client.post(url(f"officialaccount_{page}", account.pk), {"apply": "1", "reason": "x"}).status_code == 403
    cert.refresh_from_db()
    account.refresh_from_db()
    assert (cert.status, account.status) == ("pending", "active")


def test_anonymous_is_sent_to_login(client, world):
    response = client.get(url("officialaccount_changelist"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


def test_auditor_reads_but_cannot_review(client, make_user, world):
    client.force_login(make_user("audrey", role="auditor"))
    cert = world["pending"]
    page = client.get(url("certification_changelist"))
    assert page.status_code == 200
    assert "approve_selected" not in page.content.decode(), "review actions are offered to reviewers only"
    change = client.get(url("certification_change", cert.pk))
    assert change.status_code == 200 and "Approve…" not in text(change)
    assert client.get(url("certification_approve", cert.pk)).status_code == 403
    response = client.post(
        url("certification_changelist"), {"action": "approve_selected", "_selected_action": [cert.pk], "apply": "1"}
    )
    cert.refresh_from_db()
    assert cert.status == "pending" and response.status_code in (200, 302)


def test_operator_cannot_suspend(client, make_user, world):
    client.force_login(make_user("olga", role="operator"))
    account = world["officialaccount"]
    assert client.get(url("officialaccount_suspend", account.pk)).status_code == 403
    page = client.get(url("officialaccount_changelist"))
    assert page.status_code == 200 and "suspend_accounts" not in page.content.decode()


def test_add_an_account(admin_client):
    add = admin_client.get(url("officialaccount_add"))
    data = form_data(add, "officialaccount_form")
    assert re.fullmatch(r"wx[0-9a-f]{16}", data["app_id"]), "a fresh app id is offered"
    data.update(name="New Shop", kind="service", owner_name="New Shop Ltd")
    response = admin_client.post(url("officialaccount_add"), data, follow=True)
    account = OfficialAccount.objects.get(name="New Shop")
    assert (account.kind, account.status, account.app_id) == ("service", "active", data["app_id"])
    assert response.status_code == 200


def test_menu_item_account_autocomplete_offers_service_accounts_only(admin_client, world):
    query = "app_label=accounts&model_name=menuitem&field_name=account&term="
    results = admin_client.get(reverse("admin:autocomplete") + "?" + query).json()["results"]
    assert [r["text"] for r in results] == ["Acme Service"]
    query = "app_label=accounts&model_name=certification&field_name=account&term="
    results = admin_client.get(reverse("admin:autocomplete") + "?" + query).json()["results"]
    assert sorted(r["text"] for r in results) == ["Acme Service", "Daily News"]


# --- accounts list -------------------------------------------------------------------------------


def test_accounts_list_shows_kind_certified_badge_followers_and_status(admin_client, make_account, make_followers):
    certified = make_account(name="Acme Service", kind="service")
    start = timezone.now() - timedelta(days=1)
    cert = certify_by_review(certified, valid_from=start)
    make_followers(certified, 7)
    make_followers(certified, 2, prefix="gone", subscribed=False)
    plain = make_account(name="Daily News", kind="subscription")
    make_followers(plain, 4)
    services.suspend_account(plain, by=None, until=None, reason="Spam.")

    page = text(admin_client.get(url("officialaccount_changelist")))

    until = timezone.localtime(cert.valid_until).strftime("%Y-%m-%d")
    row = re.search(r"Acme Service .*?(?=Daily News|$)", page).group(0)
    assert "Service account" in row
    assert f"Certified, valid until {until}" in row
    assert " 7 " in f" {row} ", "the count is of subscribed followers"
    assert "Active" in row
    other = re.search(r"Daily News .*", page).group(0)
    assert "Subscription account" in other and "Not certified" in other and "Suspended until reinstated" in other
    assert " 4 " in other


def test_certified_filter_uses_validity_now(admin_client, make_account):
    certify_by_review(make_account(name="Certified Co"))
    certify_by_review(make_account(name="Future Co"), valid_from=timezone.now() + timedelta(days=3))
    make_account(name="Plain Co")
    yes = text(admin_client.get(url("officialaccount_changelist", query="certified=yes")))
    no = text(admin_client.get(url("officialaccount_changelist", query="certified=no")))
    assert "Certified Co" in yes and "Future Co" not in yes and "Plain Co" not in yes
    assert "Certified Co" not in no and "Future Co" in no and "Plain Co" in no


def test_accounts_list_filters_and_search(admin_client, make_account):
    acme = make_account(name="Acme Service", kind="service")
    make_account(name="Daily News", kind="subscription")
    by_kind = text(admin_client.get(url("officialaccount_changelist", query="kind__exact=subscription")))
    assert "Daily News" in by_kind and "Acme Service" not in by_kind
    by_app_id = text(admin_client.get(url("officialaccount_changelist", query=f"q={acme.app_id}")))
    assert "Acme Service" in by_app_id and "Daily News" not in by_app_id
    by_name = text(admin_client.get(url("officialaccount_changelist", query="q=news")))
    assert "Daily News" in by_name and "Acme Service" not in by_name


def _changelist_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url("officialaccount_changelist")).status_code == 200
    return len(ctx.captured_queries)


def _make_accounts(make_account, make_followers, start, n):
    for i in range(start, start + n):
        account = make_account(name=f"Account {i:02d}", kind="service" if i % 2 else "subscription")
        make_followers(account, 2)
        if i % 3 == 0:
            certify_by_review(account)


def test_accounts_list_queries_do_not_grow_with_accounts(
    admin_client, make_account, make_followers, django_assert_max_num_queries
):
    _make_accounts(make_account, make_followers, 0, 3)
    with_three = _changelist_queries(admin_client)
    _make_accounts(make_account, make_followers, 3, 17)
    with django_assert_max_num_queries(with_three):
        response = admin_client.get(url("officialaccount_changelist"))
    assert len(set(re.findall(r"Account \d\d", text(response)))) == 20


# --- certification review ------------------------------------------------------------------------


def test_submit_application_on_the_add_page(admin_client, make_account):
    account = make_account(name="Acme")
    add = admin_client.get(url("certification_add", query=f"account={account.pk}"))
    data = form_data(add, "certification_form")
    assert data["account"] == str(account.pk), "the account's page links here with the account filled in"
    data.update(legal_name="Acme Trading Ltd", registration_number="9131-XYZ")
    response = admin_client.post(url("certification_add"), data, follow=True)
    cert = Certification.objects.get(account=account)
    assert cert.status == "pending" and cert.registration_number == "9131-XYZ"
    assert AuditEvent.objects.filter(verb="submitted", object_id=cert.pk).exists()
    # A second application while the first waits is refused with the service's sentence.
    response = admin_client.post(url("certification_add"), data, follow=True)
    assert response.status_code == 200
    assert "“Acme” already has a certification application waiting for review." in text(response)
    assert Certification.objects.filter(account=account).count() == 1


def test_approve_action_goes_through_a_confirmation_page(admin_client, world):
    cert = world["pending"]
    changelist = url("certification_changelist")
    confirm = admin_client.post(changelist, {"action": "approve_selected", "_selected_action": [cert.pk]})
    assert confirm.status_code == 200 and "Approve certification" in text(confirm)
    cert.refresh_from_db()
    assert cert.status == "pending", "nothing happens before the confirmation"
    response = admin_client.post(
        changelist, {"action": "approve_selected", "_selected_action": [cert.pk], "apply": "1", "valid_from": ""},
        follow=True,
    )
    cert.refresh_from_db()
    assert cert.status == "approved"
    assert cert.reviewed_by.username == "admin"
    assert "Approved 1 certification." in messages_of(response)


def test_approving_a_rejected_application_shows_the_refusal(admin_client, world):
    cert = services.reject_certification(world["pending"], by=None, reason="Wrong number.")
    response = admin_client.post(
        url("certification_changelist"),
        {"action": "approve_selected", "_selected_action": [cert.pk], "apply": "1", "valid_from": ""},
        follow=True,
    )
    assert response.status_code == 200
    page = text(response)
    assert f"Certification #{cert.pk} of “Daily News” is rejected; only pending applications can be approved." in page
    assert "Approved" not in " ".join(messages_of(response))
    cert.refresh_from_db()
    assert cert.status == "rejected"


def test_approve_button_on_the_change_page(admin_client, world):
    cert = world["pending"]
    change = admin_client.get(url("certification_change", cert.pk))
    assert "Approve…" in text(change) and "Reject…" in text(change)
    assert 'name="_save"' not in change.content.decode(), "status and reviewer fields are read-only"
    page = admin_client.get(url("certification_approve", cert.pk))
    assert page.status_code == 200
    start = timezone.localtime() + timedelta(days=2)
    response = admin_client.post(
        url("certification_approve", cert.pk), {"apply": "1", "valid_from": start.strftime("%Y-%m-%dT%H:%M")},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == url("certification_change", cert.pk)
    cert.refresh_from_db()
    assert cert.status == "approved"
    assert timezone.localtime(cert.valid_from).strftime("%Y-%m-%d %H:%M") == start.strftime("%Y-%m-%d %H:%M")
    assert "Revoke…" in text(response) and "Approve…" not in text(response)


def test_approve_button_when_already_certified_shows_the_refusal(admin_client, world):
    account = world["officialaccount"]
    renewal = services.submit_certification(account, legal_name="Acme", registration_number="R-2", by=None)
    response = admin_client.post(url("certification_approve", renewal.pk), {"apply": "1"}, follow=True)
    assert "“Acme Service” already holds certification" in text(response)
    renewal.refresh_from_db()
    assert renewal.status == "pending"


def test_reject_asks_for_a_reason(admin_client, world):
    cert = world["pending"]
    changelist = url("certification_changelist")
    base = {"action": "reject_selected", "_selected_action": [cert.pk]}
    page = admin_client.post(changelist, base)
    assert page.status_code == 200 and "Reason" in text(page)
    empty = admin_client.post(changelist, {**base, "apply": "1", "reason": "  "})
    assert empty.status_code == 200 and "This field is required." in text(empty)
    cert.refresh_from_db()
    assert cert.status == "pending"
    done = admin_client.post(changelist, {**base, "apply": "1", "reason": "Licence scan unreadable."}, follow=True)
    cert.refresh_from_db()
    assert (cert.status, cert.decision_note) == ("rejected", "Licence scan unreadable.")
    assert "Rejected 1 certification." in messages_of(done)


def test_reject_button_and_refusal_for_a_decided_application(admin_client, world):
    cert = world["pending"]
    response = admin_client.post(url("certification_reject", cert.pk), {"apply": "1", "reason": "Not a company."}, follow=True)
    cert.refresh_from_db()
    assert cert.status == "rejected" and "Rejected 1 certification." in messages_of(response)
    again = admin_client.post(url("certification_reject", cert.pk), {"apply": "1", "reason": "Twice."}, follow=True)
    assert "is rejected; only pending applications can be rejected." in text(again)


def test_revoke_with_reason(admin_client, world):
    cert, account = world["certification"], world["officialaccount"]
    assert account.is_certified()
    page = admin_client.get(url("certification_revoke", cert.pk))
    assert page.status_code == 200 and "Revoke" in text(page)
    response = admin_client.post(url("certification_revoke", cert.pk), {"apply": "1", "reason": "Fraud."}, follow=True)
    cert.refresh_from_db()
    assert (cert.status, cert.decision_note) == ("revoked", "Fraud.")
    assert not account.is_certified()
    assert "Revoked 1 certification." in messages_of(response)
    # The list action refuses what is no longer approved, naming it.
    again = admin_client.post(
        url("certification_changelist"),
        {"action": "revoke_selected", "_selected_action": [cert.pk], "apply": "1", "reason": "Again."},
        follow=True,
    )
    assert "is revoked; only approved certifications can be revoked." in text(again)


def test_reviewer_role_can_review(client, world, make_user):
    client.force_login(make_user("rita", role="reviewer"))
    cert = world["pending"]
    response = client.post(url("certification_approve", cert.pk), {"apply": "1"}, follow=True)
    cert.refresh_from_db()
    assert cert.status == "approved" and cert.reviewed_by.username == "rita"
    assert "Approved 1 certification." in messages_of(response)


# --- suspension ----------------------------------------------------------------------------------


def test_suspend_action_with_reason_and_end(admin_client, world):
    account = world["officialaccount"]
    changelist = url("officialaccount_changelist")
    base = {"action": "suspend_accounts", "_selected_action": [account.pk]}
    page = admin_client.post(changelist, base)
    assert page.status_code == 200 and "Suspend “Acme Service”" in text(page)
    until = timezone.localtime() + timedelta(days=7)
    response = admin_client.post(
        changelist, {**base, "apply": "1", "reason": "Junk content.", "until": until.strftime("%Y-%m-%dT%H:%M")},
        follow=True,
    )
    account.refresh_from_db()
    assert account.status == "suspended" and account.suspension_reason == "Junk content."
    assert timezone.localtime(account.suspended_until).strftime("%Y-%m-%d %H:%M") == until.strftime("%Y-%m-%d %H:%M")
    assert "Suspended 1 account." in messages_of(response)
    assert f"Suspended until {until:%Y-%m-%d %H:%M}" in text(response)
    assert AuditEvent.objects.filter(verb="suspended", account=account, by__username="admin").exists()


def test_suspension_in_the_past_shows_the_refusal(admin_client, world):
    account = world["officialaccount"]
    past = timezone.localtime() - timedelta(days=1)
    response = admin_client.post(
        url("officialaccount_changelist"),
        {"action": "suspend_accounts", "_selected_action": [account.pk], "apply": "1", "reason": "Spam.",
         "until": past.strftime("%Y-%m-%dT%H:%M")},
        follow=True,
    )
    assert response.status_code == 200
    assert "A suspension must end in the future" in text(response)
    account.refresh_from_db()
    assert account.status == "active"


def test_suspend_and_reinstate_buttons(admin_client, world):
    account = world["officialaccount"]
    assert "Suspend…" in text(admin_client.get(url("officialaccount_change", account.pk)))
    response = admin_client.post(url("officialaccount_suspend", account.pk), {"apply": "1", "reason": "Court order."}, follow=True)
    account.refresh_from_db()
    assert account.status == "suspended" and account.suspended_until is None
    assert "Reinstate…" in text(response)
    assert admin_client.get(url("officialaccount_reinstate", account.pk)).status_code == 200
    response = admin_client.post(url("officialaccount_reinstate", account.pk), {"apply": "1"}, follow=True)
    account.refresh_from_db()
    assert account.status == "active"
    assert "Reinstated “Acme Service”." in messages_of(response)


def test_reinstate_action_refuses_an_active_account(admin_client, world):
    account = world["officialaccount"]
    response = admin_client.post(
        url("officialaccount_changelist"), {"action": "reinstate_accounts", "_selected_action": [account.pk]}, follow=True
    )
    assert "“Acme Service” is not suspended." in text(response)


def test_status_fields_are_read_only_on_the_account_page(admin_client, world):
    account = world["officialaccount"]
    change = admin_client.get(url("officialaccount_change", account.pk))
    data = form_data(change, "officialaccount_form")
    assert "status" not in data and "suspended_until" not in data and "app_id" not in data
    data.update(status="suspended", name="Acme Renamed")
    response = admin_client.post(url("officialaccount_change", account.pk), data)
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.name, account.status) == ("Acme Renamed", "active")


# --- custom menu ---------------------------------------------------------------------------------


def _menu_post(client, account, items):
    """Submit the account page with `items` (name, parent item or None) added to the menu inline."""
    change = url("officialaccount_change", account.pk)
    data = form_data(client.get(change), "officialaccount_form")
    initial = int(data["menu_items-INITIAL_FORMS"])
    template = {k.split("-", 2)[2]: v for k, v in data.items() if k.startswith(f"menu_items-{initial}-")}
    for i, (name, parent) in enumerate(items, start=initial):
        row = {**template, "name": name, "kind": "click", "key": name.upper(), "url": "", "position": str(i), "id": ""}
        row["parent"] = str(parent.pk) if parent else ""
        data.update({f"menu_items-{i}-{k}": v for k, v in row.items()})
    data["menu_items-TOTAL_FORMS"] = str(initial + len(items))
    return client.post(change, data)


def test_menu_inline_only_on_service_accounts(admin_client, world):
    service_page = admin_client.get(url("officialaccount_change", world["officialaccount"].pk))
    news_page = admin_client.get(url("officialaccount_change", world["news"].pk))
    assert "menu_items-TOTAL_FORMS" in service_page.content.decode()
    assert "menu_items-TOTAL_FORMS" not in news_page.content.decode()
    assert "certifications-TOTAL_FORMS" in news_page.content.decode()


def test_menu_items_added_on_the_account_page(admin_client, world):
    account = world["officialaccount"]  # already has "Shop"
    response = _menu_post(admin_client, account, [("Help", None), ("Sale", world["menuitem"])])
    assert response.status_code == 302
    assert sorted(account.menu_items.values_list("name", flat=True)) == ["Help", "Sale", "Shop"]


def test_four_top_level_items_in_one_submit_are_refused(admin_client, world):
    account = world["officialaccount"]  # already has "Shop"
    response = _menu_post(admin_client, account, [("One", None), ("Two", None), ("Three", None)])
    assert response.status_code == 200
    assert "A menu has at most 3 top-level items; this change would leave 4." in text(response)
    assert account.menu_items.count() == 1


def test_six_children_in_one_submit_are_refused(admin_client, world):
    account, shop = world["officialaccount"], world["menuitem"]
    response = _menu_post(admin_client, account, [(f"Child {i}", shop) for i in range(6)])
    assert response.status_code == 200
    assert "A top-level item has at most 5 sub-items; this change would give “Shop” 6." in text(response)
    assert not shop.children.exists()


def test_menu_item_errors_show_on_the_form(admin_client, world):
    account = world["officialaccount"]
    response = _menu_post(admin_client, account, [("A name far too long for the top level", None)])
    assert response.status_code == 200
    assert "is at most 16 bytes" in text(response)


def test_menu_item_page_refuses_a_subscription_account(admin_client, world):
    news = world["news"]
    data = form_data(admin_client.get(url("menuitem_add")), "menuitem_form")
    data.update(account=str(news.pk), name="Read", kind="click", key="READ", position="0")
    response = admin_client.post(url("menuitem_add"), data)
    assert response.status_code == 200
    assert "Only service accounts have a custom menu; “Daily News” is a subscription account." in text(response)
    assert not MenuItem.objects.filter(account=news).exists()


def test_service_account_with_a_menu_cannot_become_a_subscription(admin_client, world):
    account = world["officialaccount"]
    # The kind changes on its own page, through accounts.services.change_account_kind (tests/test_account_kind.py).
    response = admin_client.post(url("officialaccount_kind", account.pk), {"kind": "subscription"}, follow=True)
    assert response.status_code == 200 and "delete “Acme Service”'s menu" in text(response)
    account.refresh_from_db()
    assert account.kind == "service"


# --- followers: a table of millions --------------------------------------------------------------


def test_followers_list_search_filters_and_tags(admin_client, world, make_account, make_followers):
    other = make_account(name="Other")
    make_followers(other, 2, prefix="x")
    account, follower = world["officialaccount"], world["follower"]
    by_openid = text(admin_client.get(url("follower_changelist", query=f"q={follower.openid}")))
    assert follower.openid in by_openid and "x0000000" not in by_openid
    by_account = text(admin_client.get(url("follower_changelist", query=f"account={account.pk}")))
    assert "o0000002" in by_account and "x0000000" not in by_account and "Acme Service" in by_account
    unsub = admin_client.get(url("follower_changelist", query="subscribed__exact=0"))
    assert unsub.status_code == 200 and "o0000000" not in text(unsub)
    page = admin_client.get(url("follower_change", follower.pk)).content.decode()
    assert 'class="vForeignKeyRawIdAdminField"' in page and 'class="vManyToManyRawIdAdminField"' in page


def test_follower_tags_must_belong_to_its_account(admin_client, world, make_account):
    follower = world["follower"]
    foreign = Tag.objects.create(account=make_account(name="Other"), name="foreign")
    data = form_data(admin_client.get(url("follower_change", follower.pk)), "follower_form")
    data["tags"] = f"{world['tag'].pk},{foreign.pk}"
    response = admin_client.post(url("follower_change", follower.pk), data)
    assert response.status_code == 200 and "foreign belong to another account" in text(response)


def test_big_followers_list_estimates_instead_of_counting(admin_client, make_account):
    """120,000 followers: the unfiltered list shows PostgreSQL's estimate and runs no COUNT(*) over the
    table; a filtered list counts at most 100,000 rows and says so."""
    account = make_account(name="Huge")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_follower (account_id, openid, nickname, subscribed, subscribed_at)"
            " SELECT %s, 'h' || g, '', true, now() FROM generate_series(1, 120000) g",
            [account.pk],
        )
        cursor.execute("ANALYZE accounts_follower")
    with CaptureQueriesContext(connection) as ctx:
        response = admin_client.get(url("follower_changelist"))
    assert response.status_code == 200
    assert re.search(r"about 1[12]\d{4} followers", text(response)), text(response)[-300:]
    full_counts = [
        q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper() and "accounts_follower" in q["sql"]
    ]
    assert full_counts == []

    filtered = admin_client.get(url("follower_changelist", query=f"account={account.pk}"))
    assert "more than 100000 followers" in text(filtered)
    assert Follower.objects.count() == 120000


def test_user_list_still_plain(admin_client):
    """The paginator override is the accounts app's alone: other lists keep exact counts."""
    User.objects.create_user("someone")
    assert "2 users" in text(admin_client.get(reverse("admin:auth_user_changelist")))
