"""Reads of accounts that are more than a one-line filter: admin lists, counts, estimates,
and look-ups that refuse with a domain error when nothing matches."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from operator_console.platform_time import format_moment

from . import credentials
from .exceptions import (
    AccessTokenExpired,
    AccessTokenMissing,
    AccountNotFound,
    ApiSuspended,
    FollowerNotFound,
    InvalidCredential,
)
from .models import Certification, Follower, OfficialAccount, Tag


def get_account_by_app_id(app_id: str) -> OfficialAccount:
    """The account with this app_id. Raises account_not_found."""
    try:
        return OfficialAccount.objects.get(app_id=app_id)
    except OfficialAccount.DoesNotExist:
        raise AccountNotFound(_("No official account with app_id %(app_id)s.") % {"app_id": app_id}, app_id=app_id) from None


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


# --- the advanced mass interface: who is calling, and the account's tags and followers ---------------


@dataclass(frozen=True)
class ApiCaller:
    """An account calling through the advanced mass interface with one access token.

    `label` names the credential in the audit trail without revealing it.
    """

    account: OfficialAccount
    token_label: str

    is_authenticated = True  # what Django REST framework asks of request.user

    @property
    def label(self) -> str:
        return _("API credential of %(app_id)s (access token %(token)s…)") % {
            "app_id": self.account.app_id, "token": self.token_label,
        }


def refuse_if_suspended(account: OfficialAccount) -> None:
    """Raises api_suspended while the account is suspended (R7): every API call is refused."""
    if account.is_suspended():
        if account.suspended_until:
            message = _(
                "%(name)s is suspended until %(moment)s; its calls to the advanced mass interface are refused."
            ) % {"name": account.name, "moment": format_moment(account.suspended_until)}
        else:
            message = _(
                "%(name)s is suspended until reinstated; its calls to the advanced mass interface are refused."
            ) % {"name": account.name}
        raise ApiSuspended(message, account=account.pk)


def caller_for_token(token: str) -> ApiCaller:
    """The account an access token was issued to, fresh from the database.

    Raises access_token_missing, invalid_credential (never issued, or revoked by a secret
    reset), access_token_expired, api_suspended.
    """
    if not token:
        raise AccessTokenMissing(_("The call carries no access_token; get one from /cgi-bin/token."))
    entry = credentials.api_cache().get(credentials.token_key(token))
    if not isinstance(entry, dict):
        raise InvalidCredential(_("The access token is not valid; get a new one from /cgi-bin/token."))
    if entry["expires_at"] <= timezone.now().timestamp():
        raise AccessTokenExpired(_("The access token has expired; get a new one from /cgi-bin/token."))
    account = OfficialAccount.objects.filter(pk=entry["account"]).first()
    if account is None or credentials.generation(account.app_secret_set_at) != entry["generation"]:
        raise InvalidCredential(
            _("The access token was revoked when the app secret was reset; get a new one with the new secret.")
        )
    refuse_if_suspended(account)
    return ApiCaller(account=account, token_label=credentials.token_label(token))


def follower_ids_by_openid(
    account: OfficialAccount, openids: list[str], *, subscribed_only: bool = False
) -> dict[str, int]:
    """openid -> follower id for those of `openids` that are the account's followers (subscribed
    or not; only subscribed ones with `subscribed_only`). The list travels as one parameter (an array on PostgreSQL, JSON on SQLite), so
    10,000 openids cost one index probe each, not 10,000 bound parameters; served by the unique
    index (account_id, openid)."""
    if not openids:
        return {}
    if connection.vendor == "postgresql":
        wanted, param = "SELECT unnest(%s::text[])", list(openids)
    else:
        wanted, param = "SELECT value FROM json_each(%s)", json.dumps(list(openids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT openid, id FROM {Follower._meta.db_table} WHERE account_id = %s AND openid IN ({wanted})"
            + (" AND subscribed" if subscribed_only else ""),
            [account.pk, param],
        )
        return dict(cursor.fetchall())


def tags_with_counts(account: OfficialAccount) -> list[dict]:
    """The account's tags with how many subscribed followers hold each: [{"id", "name", "count"}]."""
    return list(
        Tag.objects.filter(account=account)
        .annotate(count=Count("followers", filter=Q(followers__subscribed=True)))
        .order_by("id")
        .values("id", "name", "count")
    )


def subscribed_count(account: OfficialAccount) -> int:
    """Subscribed followers of the account, as `user/get` reports them: an index-only count over
    follower_audience_idx, kept API_FOLLOWER_TOTAL_TTL seconds in the api cache. At a million
    followers the count is most of a page's database time, and a client paging through them asks
    for it a hundred times in a row; a total a minute old is what the platform shows too."""
    key = f"follower-total:{account.pk}"
    total = credentials.api_cache().get(key)
    if total is None:
        total = Follower.objects.filter(account=account, subscribed=True).count()
        credentials.api_cache().set(key, total, timeout=settings.API_FOLLOWER_TOTAL_TTL)
    return total


def follower_page(account: OfficialAccount, *, after_openid: str = "", size: int) -> list[str]:
    """Up to `size` openids of the account's subscribed followers, in follow order (follower id),
    after the follower `after_openid` (keyset: one index look-up, then a range scan of
    follower_audience_idx, as fast on the last page of millions as on the first).

    Raises follower_not_found when `after_openid` is not a follower of the account.
    """
    qs = Follower.objects.filter(account=account, subscribed=True)
    if after_openid:
        after = Follower.objects.filter(account=account, openid=after_openid).values_list("id", flat=True).first()
        if after is None:
            raise FollowerNotFound(
                _("“%(openid)s” is not a follower of %(name)s.") % {"openid": after_openid, "name": account.name}
            )
        qs = qs.filter(id__gt=after)
    return list(qs.order_by("id").values_list("openid", flat=True)[:size])


def subscribed_follower_count(account_id: int, *, cap: int) -> int:
    """How many followers of the account are subscribed, counted up to `cap` (a bounded count,
    served by follower_audience_idx): cap means "cap or more"."""
    return Follower.objects.filter(account_id=account_id, subscribed=True).values("pk")[:cap].count()
