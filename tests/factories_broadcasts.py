"""Plain helpers for broadcast tests: valid, minimal defaults; override what a test is about."""

from __future__ import annotations

from datetime import datetime
from itertools import count
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User

from accounts.models import Certification, OfficialAccount
from broadcasts import services
from broadcasts.models import Broadcast

SHANGHAI = ZoneInfo("Asia/Shanghai")
_seq = count(1)


def local(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    """An aware moment on the platform's wall clock (Asia/Shanghai)."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def user(name: str | None = None) -> User:
    return User.objects.create_user(name or f"user{next(_seq)}", password="pw-Secret-123", is_staff=True)


def account(**overrides) -> OfficialAccount:
    fields = {"name": f"Acme {next(_seq)}", "kind": OfficialAccount.Kind.SERVICE, "owner_name": "Acme Ltd"}
    fields.update(overrides)
    return OfficialAccount.objects.create(**fields)


def certify(acc: OfficialAccount, *, valid_from: datetime, valid_until: datetime,
            status: str = Certification.Status.APPROVED) -> Certification:
    return Certification.objects.create(
        account=acc, status=status, legal_name=f"{acc.name} Ltd", registration_number="91310000X",
        valid_from=valid_from, valid_until=valid_until,
    )


def draft(acc: OfficialAccount, *, by: User, **overrides) -> Broadcast:
    fields = {"title": f"News {next(_seq)}", "message_type": "text", "body": "Our autumn menu is here."}
    fields.update(overrides)
    return services.create_broadcast(acc, by=by, **fields)


def pending(acc: OfficialAccount, *, by: User, **overrides) -> Broadcast:
    return services.submit_broadcast(draft(acc, by=by, **overrides), by=by)


def approved(acc: OfficialAccount, *, by: User, reviewer: User, send_at: datetime, **overrides) -> Broadcast:
    return services.approve_broadcast(pending(acc, by=by, **overrides), by=reviewer, send_at=send_at)
