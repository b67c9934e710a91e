"""Logging in: repeated wrong passwords lock that login out (django-axes), and demo staff never share
a published password."""

import io
import re

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command

from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

LOGIN_URL = "/admin/login/?next=/admin/"
LOCKED = "Too many failed logins"


def log_in(client, username, password, **headers):
    return client.post(LOGIN_URL, {"username": username, "password": password}, headers=headers)


def is_logged_in(client) -> bool:
    return client.get("/admin/").status_code == 200


def test_many_wrong_passwords_then_the_right_one_is_refused_with_a_clear_message(client):
    make_user("ops", superuser=True)
    for _ in range(100):
        log_in(client, "ops", "guess")

    response = log_in(client, "ops", PASSWORD)

    assert response.status_code == 429
    text = response.content.decode()
    assert f"{LOCKED} for “ops”" in text
    assert f"locked for {int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)} minutes" in text
    assert not is_logged_in(client)


def test_the_lock_starts_at_the_failure_limit_not_before(client):
    make_user("ops", superuser=True)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, "ops", "guess").status_code == 200  # the login form again, with its error

    assert log_in(client, "ops", PASSWORD).status_code == 302
    assert is_logged_in(client)


def test_a_successful_login_forgets_earlier_typos(client):
    make_user("ops", superuser=True)
    for _ in range(2):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            log_in(client, "ops", "typo")
        assert log_in(client, "ops", PASSWORD).status_code == 302
        client.logout()
    assert log_in(client, "ops", PASSWORD).status_code == 302


def test_a_different_user_is_unaffected(client):
    make_user("ops", superuser=True)
    make_user("olga", role="operator")
    for _ in range(settings.AXES_FAILURE_LIMIT + 3):
        log_in(client, "ops", "guess")

    assert log_in(client, "olga", PASSWORD).status_code == 302
    assert is_logged_in(client)


def test_a_made_up_forwarded_address_does_not_escape_the_lock(client):
    make_user("ops", superuser=True)
    for i in range(settings.AXES_FAILURE_LIMIT + 3):
        log_in(client, "ops", "guess", x_forwarded_for=f"203.0.113.{i}")

    response = log_in(client, "ops", PASSWORD, x_forwarded_for="198.51.100.7")

    assert response.status_code == 429
    assert not is_logged_in(client)


def test_the_administrator_can_lift_a_lock_as_the_page_says(client):
    make_user("ops", superuser=True)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "ops", "guess")
    assert log_in(client, "ops", PASSWORD).status_code == 429

    call_command("axes_reset_username", "ops", stdout=io.StringIO())

    assert log_in(client, "ops", PASSWORD).status_code == 302


# --- demo staff passwords ----------------------------------------------------------------------------


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", "--followers", "0", stdout=out)
    return out.getvalue()


def printed_passwords(out: str) -> dict[str, str]:
    return dict(re.findall(r"(operator|reviewer|auditor) / ([^\s,]+)", out))


def test_demo_staff_get_their_own_generated_passwords_printed_once(client, monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)

    out = seed()

    passwords = printed_passwords(out)
    assert sorted(passwords) == ["auditor", "operator", "reviewer"]
    assert len(set(passwords.values())) == 3  # the operator cannot log in as the reviewer
    assert all(len(p) >= 16 for p in passwords.values())
    for username, password in passwords.items():
        assert User.objects.get(username=username).check_password(password)
        assert not User.objects.get(username=username).check_password("demo-console-2024")  # the old published one
    assert log_in(client, "reviewer", passwords["reviewer"]).status_code == 302

    again = seed()

    assert not any(p in again for p in passwords.values())
    assert "reviewer / (shown when the user was made; reset with: python manage.py changepassword reviewer)" in again
    assert User.objects.get(username="reviewer").check_password(passwords["reviewer"])  # never reset


def test_demo_password_from_the_environment_is_used_for_all(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "shared-demo-pw-1")

    out = seed()

    assert printed_passwords(out) == dict.fromkeys(("operator", "reviewer", "auditor"), "shared-demo-pw-1")
    assert "shown this once" not in out
