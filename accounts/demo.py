"""Demo data for a first run: accounts of both kinds, tags, followers, staff users.

`seed_demo()` is idempotent: everything is found by a natural key (app_id, tag name,
openid, username) and only what is missing is added, so a second run adds nothing and
a run with more followers tops the demo accounts up.

Staff logins: users `operator`, `reviewer` and `auditor` in the groups of the same
names. Each gets its own generated password, shown once by the run that makes the user
(like `ensure_superuser`'s), unless the environment variable DEMO_PASSWORD sets one for all
three. A password is set when a user is made, never reset afterwards.

Other apps add their own demo data after this one: an installed app with a module
`<app>/demo.py` defining `seed_demo(demo: DemoData, *, stdout)` is called by the
`seed_demo` command with what was seeded here (the broadcasts app can seed demo
broadcasts that way, since `accounts` never imports `broadcasts`).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone

from .imports import can_skip_row_triggers
from .models import Follower, MenuItem, OfficialAccount, Tag
from .roles import sync_roles
from .services import approve_certification, save_menu_item, submit_certification

DEFAULT_FOLLOWERS = 3_000
# Rows per bulk_create on SQLite: bounded memory, few statements.
SQLITE_CHUNK = 5_000
# Demo subscriptions are spread over the last two years (minutes), one in 25 has unsubscribed.
SPREAD_MINUTES = 2 * 365 * 24 * 60
UNSUBSCRIBED_EVERY = 25
NICKNAMES = ["小明", "Lily", "阿强", "Mei", "Tom", "晓雯", "Chen", "Anna", "王芳", "Leo", "Yuki", "李雷"]

STAFF = (
    # username, first name, group
    ("operator", "Olivia", "operator"),
    ("reviewer", "Ravi", "reviewer"),
    ("auditor", "Aiko", "auditor"),
)


@dataclass(frozen=True)
class DemoAccountSpec:
    app_id: str
    name: str
    kind: str
    owner_name: str
    share: float  # of the demo followers
    tags: tuple[str, ...]
    certification: str = "none"  # "approved" | "pending" | "none"
    menu: tuple = ()  # ((name, kind, key or url, ((child name, kind, key or url), ...)), ...)

    @property
    def openid_prefix(self) -> str:
        return f"oDEMO{self.app_id[-2:]}_"


SUB, SVC = OfficialAccount.Kind.SUBSCRIPTION, OfficialAccount.Kind.SERVICE
ACCOUNTS = (
    DemoAccountSpec("wxde00000000000001", "Daily Tea Digest", SUB, "Leaf & Cup Media", 0.15,
                    ("oolong", "green-tea", "newcomer")),
    DemoAccountSpec("wxde00000000000002", "City Weather Notes", SUB, "Skyline Studio", 0.10,
                    ("beijing", "shanghai", "alerts")),
    DemoAccountSpec(
        "wxde00000000000003", "Acme Coffee", SVC, "Acme Coffee Co., Ltd.", 0.40,
        ("vip", "beijing", "shanghai", "newcomer", "weekly-digest"),
        certification="approved",
        menu=(
            ("Menu", "view", "https://coffee.example.com/menu", ()),
            ("Order", "click", "ORDER", (("Pick up", "click", "ORDER_PICKUP"), ("Delivery", "click", "ORDER_DELIVERY"),
                                    ("My orders", "view", "https://coffee.example.com/orders"))),
            ("Me", "click", "ME", (("Membership", "view", "https://coffee.example.com/member"),
                                 ("Help", "click", "HELP"))),
        ),
    ),
    DemoAccountSpec("wxde00000000000004", "Harbor Bank", SVC, "Harbor Bank Corporation", 0.20,
                    ("retail", "business", "vip"), certification="pending"),
    DemoAccountSpec("wxde00000000000005", "Northwind Travel", SVC, "Northwind Travel Ltd.", 0.15,
                    ("family", "solo", "asia")),
)


@dataclass
class DemoData:
    """What the demo holds after seeding, and what this run added."""

    accounts: dict[str, OfficialAccount] = field(default_factory=dict)  # by app_id
    staff: dict[str, object] = field(default_factory=dict)  # username -> User
    password: str | None = None  # DEMO_PASSWORD, for every demo user; None: one generated per user
    new_passwords: dict[str, str] = field(default_factory=dict)  # username -> password set by this run
    password_kept: dict[str, bool] = field(default_factory=dict)  # username -> still `password`
    added: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("accounts", "tags", "followers", "tag links", "certifications", "menu items", "staff users"), 0))


def demo_password() -> str | None:
    """DEMO_PASSWORD, or None: each demo user then gets a password of its own, generated."""
    return os.environ.get("DEMO_PASSWORD") or None


def seed_demo(*, followers: int = DEFAULT_FOLLOWERS, password: str | None = None) -> DemoData:
    """Make sure the demo accounts, tags, staff users and at least `followers` demo followers exist."""
    if followers < 0:
        raise ValueError("followers must be zero or more")
    demo = DemoData(password=password or demo_password())
    sync_roles()  # the groups normally come from post_migrate; harmless twice
    with transaction.atomic():
        seed_staff(demo)
        for spec in ACCOUNTS:
            seed_account(demo, spec)
    for spec, target in zip(ACCOUNTS, follower_targets(followers), strict=True):
        with transaction.atomic():
            seed_followers(demo, demo.accounts[spec.app_id], spec, target)
    return demo


def follower_targets(total: int) -> list[int]:
    """Each demo account's share of `total` followers (the rounding goes to the largest)."""
    targets = [int(total * spec.share) for spec in ACCOUNTS]
    largest = max(range(len(ACCOUNTS)), key=lambda i: ACCOUNTS[i].share)
    targets[largest] += total - sum(targets)
    return targets


def seed_staff(demo: DemoData) -> None:
    User = get_user_model()
    for username, first_name, group_name in STAFF:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first_name, "email": f"{username}@example.com", "is_staff": True},
        )
        if created:
            # Never one shared or published password: the operator must not know the reviewer's (four eyes).
            password = demo.password or secrets.token_urlsafe(12)
            user.set_password(password)
            user.save(update_fields=["password"])
            demo.added["staff users"] += 1
            demo.new_passwords[username] = password
            demo.password_kept[username] = True
        elif demo.password:
            demo.password_kept[username] = user.check_password(demo.password)
        user.groups.add(Group.objects.get(name=group_name))
        demo.staff[username] = user


def seed_account(demo: DemoData, spec: DemoAccountSpec) -> OfficialAccount:
    account, created = OfficialAccount.objects.get_or_create(
        app_id=spec.app_id,
        defaults={
            "name": spec.name,
            "kind": spec.kind,
            "owner_name": spec.owner_name,
            "contact_email": f"ops@{spec.name.split()[0].lower()}.example.com",
        },
    )
    demo.added["accounts"] += created
    demo.accounts[spec.app_id] = account
    before = Tag.objects.filter(account=account).count()
    Tag.objects.bulk_create([Tag(account=account, name=name) for name in spec.tags], ignore_conflicts=True)
    demo.added["tags"] += Tag.objects.filter(account=account).count() - before

    # Certification through the services, as ops would do it: only if the account never applied.
    if spec.certification != "none" and not account.certifications.exists():
        cert = submit_certification(
            account, legal_name=spec.owner_name, registration_number=f"91310000{spec.app_id[-6:]}X", by=demo.staff["operator"]
        )
        if spec.certification == "approved":
            approve_certification(cert, by=demo.staff["reviewer"])
        demo.added["certifications"] += 1

    if spec.menu and not account.menu_items.exists():
        demo.added["menu items"] += seed_menu(account, spec.menu)
    return account


def seed_menu(account: OfficialAccount, menu) -> int:
    """A service account's custom menu, each item saved as the admin does (save_menu_item)."""
    made = 0
    for position, (name, kind, target, children) in enumerate(menu):
        top = MenuItem(account=account, name=name, kind=kind, position=position,
                       **({"url": target} if kind == "view" else {"key": target}))
        save_menu_item(top, by=None)
        made += 1
        for child_position, (child_name, child_kind, child_target) in enumerate(children):
            child = MenuItem(account=account, parent=top, name=child_name, kind=child_kind, position=child_position,
                             **({"url": child_target} if child_kind == "view" else {"key": child_target}))
            save_menu_item(child, by=None)
            made += 1
    return made


def seed_followers(demo: DemoData, account: OfficialAccount, spec: DemoAccountSpec, target: int) -> None:
    """Demo followers 1..target of the account (openids `oDEMOnn_000000001`…), and their tags.

    Set-based: PostgreSQL generates the rows with generate_series and links the new
    followers to about a quarter of the account's tags in the same statement; SQLite gets
    chunked bulk_create. Followers that exist are left alone, so a larger target tops up
    and an equal one adds nothing. Run inside a transaction.
    """
    prefix = spec.openid_prefix
    existing = Follower.objects.filter(account=account, openid__startswith=prefix).count()
    if existing >= target:
        return
    if connection.vendor == "postgresql":
        followers, links = _seed_followers_postgres(account, prefix, target)
    else:
        followers, links = _seed_followers_chunked(account, prefix, target)
    demo.added["followers"] += followers
    demo.added["tag links"] += links


def _seed_followers_postgres(account: OfficialAccount, prefix: str, target: int) -> tuple[int, int]:
    with connection.cursor() as cur:
        # Lock what the new rows refer to; then, where the role may, skip the per-row
        # foreign-key triggers (they would double the time): the followers linked are the
        # ones this statement inserts (see accounts.imports.postgres.PostgresWriter).
        cur.execute("SELECT id FROM accounts_officialaccount WHERE id = %s FOR UPDATE", [account.pk])
        cur.execute("SELECT count(*) FROM (SELECT 1 FROM accounts_tag WHERE account_id = %s FOR KEY SHARE) t", [account.pk])
        skip_triggers = can_skip_row_triggers(cur)
        if skip_triggers:
            cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute(
            f"""
            WITH new AS (
                INSERT INTO accounts_follower (account_id, openid, nickname, subscribed, subscribed_at, unsubscribed_at)
                SELECT %(account)s, %(prefix)s || lpad(g::text, 9, '0'),
                       (%(names)s::text[])[1 + g %% %(n_names)s] || ' ' || g,
                       g %% {UNSUBSCRIBED_EVERY} <> 0,
                       %(now)s - ((g * 7919) %% {SPREAD_MINUTES}) * interval '1 minute',
                       CASE WHEN g %% {UNSUBSCRIBED_EVERY} = 0
                            THEN %(now)s - ((g * 7919) %% {SPREAD_MINUTES}) * interval '30 seconds' END
                FROM generate_series(1::bigint, %(target)s) AS g  -- bigint: g * 7919 outgrows integer
                -- An anti-join rather than ON CONFLICT: a quarter faster (no speculative insertion).
                WHERE NOT EXISTS (SELECT 1 FROM accounts_follower f
                                  WHERE f.account_id = %(account)s AND f.openid = %(prefix)s || lpad(g::text, 9, '0'))
                RETURNING id
            ), links AS (
                -- About one in four of the account's tags, by id arithmetic (stable across runs).
                INSERT INTO accounts_follower_tags (follower_id, tag_id)
                SELECT new.id, t.id FROM new JOIN accounts_tag t ON t.account_id = %(account)s
                WHERE (new.id + t.id) %% 4 = 0
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM new), (SELECT count(*) FROM links)
            """,
            {"account": account.pk, "prefix": prefix, "names": NICKNAMES, "n_names": len(NICKNAMES),
             "now": timezone.now(), "target": target},
        )
        followers, links = cur.fetchone()
        if skip_triggers:
            cur.execute("SET LOCAL session_replication_role = DEFAULT")
    return followers, links


def _seed_followers_chunked(account: OfficialAccount, prefix: str, target: int) -> tuple[int, int]:
    before = Follower.objects.filter(account=account, openid__startswith=prefix).count()
    last_id = Follower.objects.filter(account=account).order_by("-id").values_list("id", flat=True).first() or 0
    now = timezone.now()
    for start in range(1, target + 1, SQLITE_CHUNK):
        rows = [_follower(account, prefix, g, now) for g in range(start, min(start + SQLITE_CHUNK, target + 1))]
        Follower.objects.bulk_create(rows, ignore_conflicts=True)
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO accounts_follower_tags (follower_id, tag_id)
            SELECT f.id, t.id
            FROM accounts_follower f JOIN accounts_tag t ON t.account_id = f.account_id
            WHERE f.account_id = %s AND f.id > %s AND f.openid LIKE %s ESCAPE '\\' AND (f.id + t.id) %% 4 = 0
            ON CONFLICT DO NOTHING
            """,
            [account.pk, last_id, prefix.replace("_", "\\_") + "%"],
        )
        links = cur.rowcount
    return Follower.objects.filter(account=account, openid__startswith=prefix).count() - before, links


def _follower(account: OfficialAccount, prefix: str, g: int, now: datetime) -> Follower:
    minutes = (g * 7919) % SPREAD_MINUTES
    unsubscribed = g % UNSUBSCRIBED_EVERY == 0
    return Follower(
        account=account,
        openid=f"{prefix}{g:09d}",
        nickname=f"{NICKNAMES[g % len(NICKNAMES)]} {g}",
        subscribed=not unsubscribed,
        subscribed_at=now - timedelta(minutes=minutes),
        unsubscribed_at=now - timedelta(seconds=minutes * 30) if unsubscribed else None,
    )
