"""Making test data: accounts, followers, tags, users, broadcasts, and reading back what a delivery did.

One helper per idea, each with valid, minimal defaults; pass keyword overrides for what a test is about.
Broadcasts go through the lifecycle services (`broadcasts.services`), so they are what an operator would
make. Nothing here touches the database on import; call the helpers from a test with database access.
(Test delivery backends live in tests/backends.py, the local HTTP push gateway in tests/gateway.py.)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Group, User
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Certification, Follower, OfficialAccount, Tag
from broadcasts import services
from broadcasts.models import Broadcast, Delivery, DeliveryBatch, InboxMessage

SHANGHAI = ZoneInfo("Asia/Shanghai")
PASSWORD = "pw-Secret-123"
_seq = count(1)


def local(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    """An aware moment on the platform's wall clock (Asia/Shanghai); noon unless told."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


# --- hostile text ------------------------------------------------------------------------------------

# Text every input path refuses (operator_console.text), by what is wrong with it.
HOSTILE_TEXT = {
    "terminal escape": "Sale\x1b[2J\x1b[1;31mnow",
    "C1 escape": "Sale\x9b2J",
    "bell": "Sale\x07",
    "NUL": "Sale\x00",
    "bidi override": "Sale\u202egnp.exe",
    "bidi isolate": "\u2067Sale\u2069",
    "invisible only": "\u200b\u2060\u00ad",
    "blank-looking letters only": "\u3164\u3164",
    "lone surrogate": "Sale\ud800",
}
# Refused in one-line text (openids, nicknames, tag names, titles); a body keeps them.
LINE_BREAKS = {"newline": "Sale\nnow", "tab": "Sale\tnow", "line separator": "Sale\u2028now"}


# --- people ------------------------------------------------------------------------------------------


def make_user(name: str | None = None, *, role: str | None = None, superuser: bool = False,
              password: str = PASSWORD) -> User:
    """A staff user (name `user<n>` unless given) in group `role` if given; a superuser if `superuser`."""
    name = name or f"user{next(_seq)}"
    if superuser:
        return User.objects.create_superuser(name, f"{name}@example.com", password)
    user = User.objects.create_user(name, f"{name}@example.com", password, is_staff=True)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def make_people() -> tuple[User, User]:
    """Two fresh staff users, (author, reviewer): enough for the four-eyes rule."""
    n = next(_seq)
    return make_user(f"author{n}"), make_user(f"reviewer{n}")


# --- accounts, followers, tags -----------------------------------------------------------------------


def make_account(*, kind: str = OfficialAccount.Kind.SERVICE, certified: bool = False, **overrides) -> OfficialAccount:
    """An active account (a service account named `Acme <n>` unless told); `certified`: certified now."""
    fields = {"name": f"Acme {next(_seq)}", "kind": kind, "owner_name": "Acme Ltd"}
    fields.update(overrides)
    account = OfficialAccount.objects.create(**fields)
    if certified:
        certify(account)
    return account


def certify(account: OfficialAccount, *, valid_from: datetime | None = None, valid_until: datetime | None = None,
            status: str = Certification.Status.APPROVED) -> Certification:
    """A certification row written directly (no review, no audit); valid from 30 days ago for a year unless told."""
    now = timezone.now()
    return Certification.objects.create(
        account=account, status=status, legal_name=f"{account.name} Ltd", registration_number="91310000X",
        valid_from=valid_from if valid_from is not None else now - timedelta(days=30),
        valid_until=valid_until if valid_until is not None else now + timedelta(days=335),
    )


def make_api_account(*, certified: bool = True, **overrides) -> tuple[OfficialAccount, str]:
    """An account as make_account (certified unless told) with an app secret (reset_app_secret); returns both."""
    account = make_account(certified=certified, **overrides)
    return account, account_services.reset_app_secret(account, by=None)


def make_followers(account: OfficialAccount, n: int, *, prefix: str | None = None,
                   subscribed: bool = True) -> list[Follower]:
    """`n` followers with openids `<prefix>0000000`, `<prefix>0000001`, … (prefix `o<account id>-` unless given),
    nicknames `fan <i>`; returns the account's followers whose openid starts with the prefix, in id order."""
    prefix = prefix if prefix is not None else f"o{account.pk}-"
    Follower.objects.bulk_create(
        [Follower(account=account, openid=f"{prefix}{i:07d}", nickname=f"fan {i}", subscribed=subscribed)
         for i in range(n)]
    )
    return list(Follower.objects.filter(account=account, openid__startswith=prefix).order_by("id"))


def make_tag(account: OfficialAccount, name: str, members=()) -> Tag:
    """A tag of the account holding `members` (followers or their ids)."""
    tag = Tag.objects.create(account=account, name=name)
    tag.followers.add(*members)
    return tag


# --- broadcasts, through the lifecycle services --------------------------------------------------------


def make_draft(account: OfficialAccount, *, by: User, **overrides) -> Broadcast:
    """A draft written by `by`: a text message titled “Autumn menu” to all followers unless told (create_broadcast)."""
    fields = {"title": "Autumn menu", "message_type": "text", "body": "Our autumn menu is here."}
    fields.update(overrides)
    return services.create_broadcast(account, by=by, **fields)


def make_pending(account: OfficialAccount, *, by: User, **overrides) -> Broadcast:
    """A draft as make_draft, submitted for review by its author `by` (submit_broadcast)."""
    return services.submit_broadcast(make_draft(account, by=by, **overrides), by=by)


def make_approved(account: OfficialAccount, *, by: User | None = None, reviewer: User | None = None,
                  send_at: datetime | None = None, **overrides) -> Broadcast:
    """A pending broadcast as make_pending, approved by `reviewer` for `send_at` (None: now) (approve_broadcast);
    the author `by` and the reviewer are fresh users when not given."""
    if by is None or reviewer is None:
        author, other = make_people()
        by, reviewer = by or author, reviewer or other
    return services.approve_broadcast(make_pending(account, by=by, **overrides), by=reviewer, send_at=send_at)


def make_dispatched(account: OfficialAccount, **overrides) -> Broadcast:
    """A broadcast as make_approved, due now and dispatched (batches made; no task sent, as nothing commits)."""
    b = make_approved(account, **overrides)
    assert services.dispatch_due_broadcasts(now=timezone.now() + timedelta(seconds=1)) >= 1
    b.refresh_from_db()
    return b


# --- reading back what delivery did ------------------------------------------------------------------


def batch_ids(b: Broadcast, **filters) -> list[int]:
    """Ids of the broadcast's batches (narrowed by `filters` on DeliveryBatch), in batch order."""
    return list(DeliveryBatch.objects.filter(broadcast=b, **filters).order_by("number").values_list("id", flat=True))


def deliver_all(b: Broadcast) -> list[str]:
    """Run every batch of the broadcast in this process, in order (deliver_batch); returns each outcome."""
    outcomes = [services.deliver_batch(batch_id) for batch_id in batch_ids(b)]
    b.refresh_from_db()
    return outcomes


def statuses(b: Broadcast) -> dict[int, str]:
    """The broadcast's deliveries: follower id -> delivery status."""
    return dict(Delivery.objects.filter(broadcast=b).values_list("follower_id", "status"))


def inbox_of(b: Broadcast) -> dict[int, bool]:
    """The broadcast's inbox messages: follower id -> folded."""
    return dict(InboxMessage.objects.filter(broadcast=b).values_list("follower_id", "folded"))


# --- a sent broadcast's history, written directly (over-marketing insight, R8) ------------------------


def make_sent(account: OfficialAccount, *, at: datetime, followers, title: str = "Weekly offer",
              status: str = Broadcast.Status.SENT) -> Broadcast:
    """A broadcast of `account` already sent at `at`: one sent Delivery per follower, delivered at `at`
    (written directly, as a finished delivery leaves them; no review, no audit)."""
    followers = list(followers)
    b = Broadcast.objects.create(
        account=account, title=title, body="Offer", status=status, scheduled_at=at, started_at=at,
        finished_at=at + timedelta(minutes=1), total_count=len(followers), sent_count=len(followers),
        batch_count=1, batches_done=1,
    )
    Delivery.objects.bulk_create(
        [Delivery(broadcast=b, follower=f, status=Delivery.Status.SENT, delivered_at=at) for f in followers]
    )
    return b
