"""Bad input an ops person can type, found by a QA pass over the admin and the commands:
each gets a form error or a command error, never a 500 or a traceback."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts import services as account_services
from accounts.models import Certification, Follower, OfficialAccount
from broadcasts import services as broadcast_services
from broadcasts.models import Broadcast, QuotaPolicy
from tests.factories import make_pending

pytestmark = pytest.mark.django_db

OUT_OF_RANGE = "Enter a date between 1970 and 2999."


def form_errors(response) -> str:
    return response.content.decode()


@pytest.fixture
def root(client, make_user):
    user = make_user("root", superuser=True)
    client.force_login(user)
    return user


# --- Dates outside the console's range -----------------------------------------------------------


@pytest.mark.parametrize("valid_from", ["0001-01-01T00:00", "9999-12-31T23:59"])
def test_certification_approved_from_year_1_or_9999_is_a_form_error(client, root, make_account, valid_from):
    # Year 1 in Asia/Shanghai was stored as year 0 BC in UTC, and every page showing the
    # certification then failed to read it back; year 9999 overflowed the one-year validity.
    account = make_account(name="Harbor Bank")
    cert = account_services.submit_certification(account, legal_name="Harbor Bank Corp", registration_number="913100", by=root)
    url = reverse("admin:accounts_certification_approve", args=[cert.pk])

    response = client.post(url, {"apply": "1", "valid_from": valid_from})

    assert response.status_code == 200
    assert OUT_OF_RANGE in form_errors(response)
    cert.refresh_from_db()
    assert cert.status == Certification.Status.PENDING
    assert client.get(reverse("admin:accounts_certification_changelist")).status_code == 200


def test_suspension_until_year_1_is_a_form_error(client, root, make_account):
    account = make_account(name="Harbor Bank")
    url = reverse("admin:accounts_officialaccount_suspend", args=[account.pk])

    response = client.post(url, {"apply": "1", "reason": "Spam", "until": "0001-01-01T00:00"})

    assert response.status_code == 200
    assert OUT_OF_RANGE in form_errors(response)
    account.refresh_from_db()
    assert account.status == OfficialAccount.Status.ACTIVE


def test_approving_for_a_send_time_in_year_9999_is_a_form_error(client, root, make_account, make_user):
    # The quota window of December 9999 ends in year 10000: an OverflowError, a 500.
    account = make_account(name="Acme Coffee")
    b = make_pending(account, by=make_user("olga", role="operator"))
    url = reverse("admin:broadcasts_broadcast_transition", args=[b.pk, "approve"])

    response = client.post(url, {"send_at_0": "9999-12-31", "send_at_1": "23:59"})

    assert response.status_code == 200
    assert OUT_OF_RANGE in form_errors(response)
    b.refresh_from_db()
    assert b.status == Broadcast.Status.PENDING_REVIEW


def test_draft_scheduled_in_year_1_is_a_form_error(client, root, make_account):
    account = make_account(name="Acme Coffee")
    data = {
        "account": account.pk, "title": "Year one", "message_type": "text", "body": "Hello",
        "channel": "console", "audience": "all", "scheduled_at_0": "0001-01-01", "scheduled_at_1": "00:00",
    }

    response = client.post(reverse("admin:broadcasts_broadcast_add"), data)

    assert response.status_code == 200
    assert OUT_OF_RANGE in form_errors(response)
    assert not Broadcast.objects.filter(title="Year one").exists()


def test_quota_policy_from_year_1_is_a_form_error(client, root):
    # A policy stored as year 0 BC would break every quota check that reads the policies.
    before = QuotaPolicy.objects.count()
    data = {
        "kind": "subscription", "scope": "account", "limit": "1", "period": "month",
        "effective_from_0": "0001-01-01", "effective_from_1": "00:00",
        "effective_until_0": "0001-01-02", "effective_until_1": "00:00",
    }

    response = client.post(reverse("admin:broadcasts_quotapolicy_add"), data)

    assert response.status_code == 200
    assert OUT_OF_RANGE in form_errors(response)
    assert QuotaPolicy.objects.count() == before


@pytest.mark.parametrize("at", ["9999-12-31", "0001-01-01T00:00"])
def test_quota_report_at_an_out_of_range_date_is_a_command_error(at):
    with pytest.raises(CommandError, match="outside the years 1970–2999"):
        call_command("quota_report", "--at", at, stdout=io.StringIO())


# --- Actions on rows that are gone ---------------------------------------------------------------


def test_suspend_action_on_accounts_that_no_longer_exist_says_so(client, root):
    response = client.post(
        reverse("admin:accounts_officialaccount_changelist"),
        {"action": "suspend_accounts", "_selected_action": ["999999"], "index": 0},
        follow=True,
    )

    assert response.status_code == 200
    assert "None of the selected accounts exists any more." in [str(m) for m in response.context["messages"]]


# --- import_followers into an account that already has followers --------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"openid,foo\n", "must be the header openid,nickname,tags,subscribed_at"),
        (b"", "is empty"),
        (b"\xff\xfe garbage\n", "not valid UTF-8"),
    ],
)
def test_reimport_of_a_bad_file_names_the_problem(tmp_path, make_account, make_followers, content, message):
    # The re-import path copies into a staging table; a bad file aborted the COPY and the
    # clean-up statement after it then failed, hiding the real message behind a traceback.
    account = make_account(name="Acme Coffee", app_id="wxqa0000000000001")
    make_followers(account, 3)
    path = tmp_path / "bad.csv"
    path.write_bytes(content)

    with pytest.raises(CommandError, match=message):
        call_command("import_followers", account.app_id, str(path), stdout=io.StringIO(), stderr=io.StringIO())

    assert Follower.objects.filter(account=account).count() == 3


# --- A certification approved from a start so old that it is already over ----------------------


def test_certification_approved_from_a_start_over_a_year_ago_is_refused(client, root, make_account):
    # It used to be approved with a validity that had already ended, and then blocked the
    # account's next approval ("already holds certification ...") until someone revoked it.
    account = make_account(name="Northwind Travel")
    cert = account_services.submit_certification(account, legal_name="Northwind Ltd", registration_number="913100", by=root)

    response = client.post(
        reverse("admin:accounts_certification_approve", args=[cert.pk]),
        {"apply": "1", "valid_from": "2001-01-01T00:00"},
        follow=True,
    )

    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert any("would have expired on 2002-01-01" in m for m in shown), shown
    cert.refresh_from_db()
    assert cert.status == Certification.Status.PENDING


# --- send_broadcast options that cannot work --------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"), [("--interval", "-1"), ("--interval", "inf"), ("--stall-warning", "nan"), ("--timeout", "-5")]
)
def test_send_broadcast_with_a_bad_wait_option_refuses_before_dispatching(make_account, make_user, option, value):
    # --interval -1 used to dispatch the broadcast and then fail in time.sleep with a traceback.
    account = make_account(name="Acme Coffee")
    b = make_pending(account, by=make_user("olga", role="operator"))
    b = broadcast_services.approve_broadcast(b, by=make_user("rita", role="reviewer"))

    with pytest.raises(CommandError, match=f"{option} takes a number of seconds"):
        call_command("send_broadcast", str(b.pk), option, value, stdout=io.StringIO(), stderr=io.StringIO())

    b.refresh_from_db()
    assert b.status == Broadcast.Status.APPROVED


# --- Buttons a role cannot use are not shown -------------------------------------------------------


@pytest.mark.parametrize(("role", "shown"), [("operator", True), ("reviewer", False), ("auditor", False)])
def test_new_certification_button_only_for_roles_that_may_apply(client, make_user, make_account, role, shown):
    # Reviewers and auditors saw the button and got a 403 page when they clicked it.
    account = make_account(name="Harbor Bank")
    user = make_user(f"{role}1", role=role)
    client.force_login(user)
    add_url = reverse("admin:accounts_certification_add") + f"?account={account.pk}"

    page = client.get(reverse("admin:accounts_officialaccount_change", args=[account.pk])).content.decode()

    assert (add_url in page) is shown
    assert (client.get(add_url).status_code == 200) is shown
