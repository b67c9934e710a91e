"""seed_demo: the demo a newcomer sees after `make run` — and that running it again adds nothing."""

import io
import os
import re
import subprocess
import sys

from django.contrib.auth.models import Group, User
from django.core.management import call_command

from accounts.demo import ACCOUNTS
from accounts.models import AuditEvent, Certification, Follower, MenuItem, OfficialAccount, Tag
from tests.conftest import ROOT

DEMO_APP_IDS = [spec.app_id for spec in ACCOUNTS]


def seed(*args) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def counts() -> dict:
    return {
        "accounts": OfficialAccount.objects.count(),
        "followers": Follower.objects.count(),
        "tags": Tag.objects.count(),
        "tag links": Follower.tags.through.objects.count(),
        "certifications": Certification.objects.count(),
        "menu items": MenuItem.objects.count(),
        "users": User.objects.count(),
        "group members": User.groups.through.objects.count(),
        "audit events": AuditEvent.objects.count(),
    }


def test_seed_demo_creates_both_kinds_certified_and_not_with_staff_roles(db):
    out = seed("--followers", "500")

    accounts = OfficialAccount.objects.filter(app_id__in=DEMO_APP_IDS)
    assert sorted(accounts.values_list("kind", flat=True)) == ["service"] * 3 + ["subscription"] * 2
    by_name = {a.name: a for a in accounts}
    acme = by_name["Acme Coffee"]
    assert acme.is_certified()  # submitted and approved through the services
    assert acme.certifications.get().reviewed_by.username == "reviewer"
    assert list(by_name["Harbor Bank"].certifications.values_list("status", flat=True)) == ["pending"]
    assert not by_name["Northwind Travel"].is_certified() and not by_name["Northwind Travel"].certifications.exists()
    assert not any(a.is_certified() for a in accounts if a.kind == "subscription")

    # Followers: 500 in all, every account has some, and tags on some of them.
    assert Follower.objects.filter(account__in=accounts).count() == 500
    assert all(a.followers.exists() and a.tags.exists() for a in accounts)
    assert Follower.tags.through.objects.filter(follower__account=acme).exists()
    assert Follower.objects.filter(account__in=accounts, subscribed=False).exists()  # some have unfollowed (R8)

    # A custom menu for the certified service account only, valid by the platform's rules.
    assert MenuItem.objects.filter(account=acme, parent=None).count() == 3
    assert set(MenuItem.objects.values_list("account__kind", flat=True)) == {"service"}

    for role in ("operator", "reviewer", "auditor"):
        user = User.objects.get(username=role)
        assert user.is_staff and not user.is_superuser
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert Group.objects.get(name=role).permissions.exists()
    # The operator's password is generated and printed once (tests/test_login_security.py has the rest).
    password = re.search(r"operator / ([^\s,]+)", out).group(1)
    assert User.objects.get(username="operator").check_password(password)
    assert "certified until" in out and "certification pending" in out


def test_second_run_adds_nothing(db):
    seed("--followers", "300")
    before = counts()

    out = seed("--followers", "300")

    assert counts() == before
    assert "nothing to add" in out


def test_larger_followers_tops_up(db):
    seed("--followers", "200")
    first_ids = set(Follower.objects.values_list("id", flat=True))

    out = seed("--followers", "1000")

    assert Follower.objects.filter(account__app_id__in=DEMO_APP_IDS).count() == 1000
    assert first_ids < set(Follower.objects.values_list("id", flat=True))  # earlier followers kept
    assert "added 800 followers" in out
    assert OfficialAccount.objects.filter(app_id__in=DEMO_APP_IDS).count() == 5


def test_staff_log_in_with_the_demo_password(db, client, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "s3cret-demo-pw")
    out = seed("--followers", "0")

    assert "reviewer / s3cret-demo-pw" in out
    assert client.login(username="reviewer", password="s3cret-demo-pw")
    assert client.get("/admin/accounts/certification/").status_code == 200
    # A password changed after seeding is kept, and not printed.
    user = User.objects.get(username="auditor")
    user.set_password("changed-by-ops")
    user.save()
    out = seed("--followers", "0")
    assert "auditor / (password changed since it was set)" in out
    assert client.login(username="auditor", password="changed-by-ops")


def test_seed_demo_runs_on_sqlite_twice(tmp_path):
    """The first-run default (`make run` on SQLite): seeds, then a second run adds nothing."""
    env = dict(os.environ)
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'first-run.sqlite3'}", DJANGO_SETTINGS_MODULE="operator_console.settings")
    env.pop("DEMO_PASSWORD", None)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    runs = [
        subprocess.run([*manage, "seed_demo", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        for args in ([], [], ["--followers", "4000"])
    ]
    assert [r.returncode for r in runs] == [0, 0, 0], [r.stderr for r in runs]
    first, second, third = (next(line for line in r.stdout.splitlines() if line.startswith("Demo data ready")) for r in runs)
    assert first.startswith("Demo data ready (added 5 accounts, 17 tags, 3,000 followers, ")
    assert first.endswith(", 2 certifications, 8 menu items, 3 staff users).")
    assert second == "Demo data ready (nothing to add)."
    assert third.startswith("Demo data ready (added 1,000 followers, ")
    assert "Acme Coffee" in runs[0].stdout and "certified until" in runs[0].stdout
