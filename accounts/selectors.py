"""Reads of accounts that are more than a one-line filter: admin lists, counts, estimates,
and look-ups that refuse with a domain error when nothing matches."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from .exceptions import AccountNotFound
from .models import Certification, Follower, OfficialAccount


def get_account_by_app_id(app_id: str) -> OfficialAccount:
    """The account with this app_id. Raises account_not_found."""
    try:
        return OfficialAccount.objects.get(app_id=app_id)
    except OfficialAccount.DoesNotExist:
        raise AccountNotFound(f"No official account with app_id {app_id}.", app_id=app_id) from None


def valid_certifications(at: datetime | None = None) -> QuerySet[Certification]:
    """Approved certifications whose validity covers `at` (default now): [valid_from, valid_until)."""
    return Certification.objects.valid_at(at)


def certified_now(at: datetime | None = None) -> Exists:
    """An Exists() for OfficialAccount querysets: the account holds a certification valid at `at`.

    Served by the index cert_account_status_idx (account, status, valid_until).
    """
    return Exists(valid_certifications(at).filter(account=OuterRef("pk")))


def accounts_for_list(qs: QuerySet[OfficialAccount], at: datetime | None = None) -> QuerySet[OfficialAccount]:
    """Accounts with `follower_count` (subscribed followers) and `certified_until` (None when not
    certified at `at`), computed in the list's one query rather than once per row.

    The follower count is an index-only count over follower_audience_idx (partial on subscribed).
    """
    at = at or timezone.now()
    followers = (
        Follower.objects.filter(account=OuterRef("pk"), subscribed=True)
        .order_by()
        .values("account")
        .annotate(n=Count("*"))
        .values("n")
    )
    certified_until = (
        valid_certifications(at).filter(account=OuterRef("pk")).order_by("-valid_until").values("valid_until")[:1]
    )
    return qs.annotate(
        follower_count=Coalesce(Subquery(followers, output_field=IntegerField()), Value(0)),
        certified_until=Subquery(certified_until),
    )
