"""The advanced mass interface's credentials: the app secret (reset by a reviewer, shown once, only
its hash kept), /cgi-bin/token, tokens that expire, a reset that revokes them at once, and a
suspended account's calls refused."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import AuditEvent, OfficialAccount
from tests.api import refused
from tests.factories import make_account, make_api_account, make_user

pytestmark = pytest.mark.django_db


def test_reset_app_secret_returns_the_secret_once_and_keeps_only_its_hash():
    account = make_account(name="Acme")
    reviewer = make_user("rita", role="reviewer")

    secret = services.reset_app_secret(account, by=reviewer)

    assert re.fullmatch(r"[0-9a-f]{32}", secret)
    account.refresh_from_db()
    assert secret not in account.app_secret_hash and account.app_secret_hash.startswith("sha256$")
    assert account.app_secret_set_at is not None
    event = AuditEvent.objects.get(verb=AuditEvent.Verb.SECRET_RESET)
    assert (event.by, event.account, event.object_id) == (reviewer, account, account.pk)
    assert secret not in event.note
    assert services.reset_app_secret(account, by=reviewer) != secret


def test_token_answers_as_the_platform_and_the_token_opens_the_other_calls(api):
    account, secret = make_api_account()

    answer = api.get("token", grant_type="client_credential", appid=account.app_id, secret=secret)

    assert set(answer) == {"access_token", "expires_in"} and answer["expires_in"] == 7200
    assert api.get("tags/get", answer["access_token"]) == {"tags": []}


@pytest.mark.parametrize(
    ("params", "errcode", "code"),
    [
        ({"grant_type": "password"}, 40002, "invalid_grant_type"),
        ({"appid": "wx0000000000000000"}, 40013, "invalid_app_id"),
        ({"appid": None}, 40013, "invalid_app_id"),
        ({"secret": "0" * 32}, 40001, "invalid_credential"),
        ({"secret": None}, 40001, "invalid_credential"),
        ({"appid": "wx\x00"}, 47001, "invalid_request"),
    ],
)
def test_token_refusals(api, params, errcode, code):
    account, secret = make_api_account()
    query = {"grant_type": "client_credential", "appid": account.app_id, "secret": secret, **params}

    assert refused(api.get("token", **query), errcode, code)


def test_an_account_without_a_secret_gets_no_token_and_is_told_how_to_get_one(api):
    account = make_account(name="Fresh Coffee")

    answer = api.get("token", grant_type="client_credential", appid=account.app_id, secret="anything")

    assert refused(answer, 40001, "invalid_credential")
    assert "resets it on the account's page" in answer["errmsg"]


@pytest.mark.parametrize(
    ("token", "errcode", "code"),
    [(None, 41001, "access_token_missing"), ("made-up", 40001, "invalid_credential")],
)
def test_calls_without_a_valid_token_are_refused(api, token, errcode, code):
    assert refused(api.get("tags/get", token), errcode, code)
    assert refused(api.post("message/mass/get", {"msg_id": 1}, token), errcode, code)


def test_a_token_expires(api, settings):
    settings.API_TOKEN_TTL = 1
    account, secret = make_api_account()
    token = api.token(account.app_id, secret)
    assert api.get("tags/get", token) == {"tags": []}

    time.sleep(1.1)

    assert refused(api.get("tags/get", token), 42001, "access_token_expired")


def test_resetting_the_secret_revokes_every_token_at_once(api):
    account, secret = make_api_account()
    tokens = [api.token(account.app_id, secret) for _ in range(2)]

    new_secret = services.reset_app_secret(account, by=make_user(role="reviewer"))

    for token in tokens:
        assert refused(api.get("tags/get", token), 40001, "invalid_credential")
    assert refused(api.get("token", grant_type="client_credential", appid=account.app_id, secret=secret),
                   40001, "invalid_credential")
    assert api.get("tags/get", api.token(account.app_id, new_secret)) == {"tags": []}


def test_a_suspended_account_is_refused_on_every_call_until_reinstated(api):
    account, secret = make_api_account()
    token = api.token(account.app_id, secret)
    reviewer = make_user(role="reviewer")

    services.suspend_account(account, by=reviewer, until=timezone.now() + timedelta(days=7), reason="Spam")

    assert refused(api.get("tags/get", token), 48004, "api_suspended")
    assert refused(api.post("message/mass/sendall", {"msgtype": "text"}, token), 48004, "api_suspended")
    answer = api.get("token", grant_type="client_credential", appid=account.app_id, secret=secret)
    assert refused(answer, 48004, "api_suspended") and "suspended until" in answer["errmsg"]
    services.reinstate_account(account, by=reviewer)
    assert api.get("tags/get", token) == {"tags": []}


# --- the reset in the admin -------------------------------------------------------------------------


def test_a_reviewer_resets_the_secret_on_the_account_page_and_sees_it_once(client, api):
    account = make_account(name="Harbor Bank")
    client.force_login(make_user("rita", role="reviewer"))
    url = reverse("admin:accounts_officialaccount_reset_secret", args=[account.pk])
    page = client.get(reverse("admin:accounts_officialaccount_change", args=[account.pk]))
    assert url in page.content.decode()
    assert "None yet" in page.content.decode()

    confirm = client.get(url)
    assert confirm.status_code == 200 and "stop working at once" in confirm.content.decode()
    response = client.post(url, {}, follow=True)

    shown = [str(m) for m in response.context["messages"]]
    secret = re.search(r"“Harbor Bank”: ([0-9a-f]{32})", shown[0]).group(1)
    assert api.token(account.app_id, secret)
    again = client.get(reverse("admin:accounts_officialaccount_change", args=[account.pk])).content.decode()
    assert secret not in again and "Set on" in again


def test_an_operator_may_not_reset_a_secret(client):
    account = make_account(name="Harbor Bank")
    client.force_login(make_user("olga", role="operator"))

    response = client.post(reverse("admin:accounts_officialaccount_reset_secret", args=[account.pk]), {})

    assert response.status_code == 403
    assert OfficialAccount.objects.get(pk=account.pk).app_secret_hash == ""
