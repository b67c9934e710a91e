"""A follower-list audience given as openids: the one rule the admin's audience picker and the
API's targeted send (`mass/send`) apply. Openids, never database ids, name the followers.

The list is folded (an openid listed twice counts once, first place kept), holds 2 to 10,000
openids (`check_list_size`, the same refusal validate_draft gives), and every openid must be a
follower of the account: another account's follower or an unknown openid is refused naming how
many and the first few, with where each was given. The console's picker also refuses a follower
who unfollowed (the operator can take the line out); the API accepts one, as the platform does
(integrations send to lists they kept, and a follower who left meanwhile is skipped at delivery:
`sql.audience` counts subscribed followers only), so a list is not refused for one unfollow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import selectors as account_selectors
from accounts.exceptions import FollowerNotFound
from accounts.models import OfficialAccount
from operator_console.text import printable

from .drafts import check_list_size

NAMED = 5  # the openids a refusal names; the count says how many more there are


def _named(openid: str, where: Mapping[str, str] | None) -> str:
    text = f"“{printable(openid)}”"
    place = where.get(openid) if where else None
    return _("%(openid)s (%(place)s)") % {"openid": text, "place": place} if place else text


def recipients_by_openid(
    account: OfficialAccount,
    openids: Sequence[str],
    *,
    where: Mapping[str, str] | None = None,
    subscribed_only: bool = True,
) -> list[int]:
    """The follower ids of `openids` (folded, in the order given) for a follower-list audience.

    `where`: openid -> where it was given ("line 3"), named in the refusal. `subscribed_only`: refuse a
    follower who unfollowed too (the admin's picker); the API passes False.
    Raises invalid_audience (fewer than 2 or more than 10,000 openids), follower_not_found (context
    `openid`: the first openid refused; `missing`: how many).
    """
    wanted = list(dict.fromkeys(openids))
    check_list_size(len(wanted))
    found = account_selectors.follower_ids_by_openid(account, wanted, subscribed_only=subscribed_only)
    missing = [o for o in wanted if o not in found]
    if missing:
        named = ", ".join(_named(o, where) for o in missing[:NAMED])
        if len(missing) > NAMED:
            named = _("%(named)s and %(more)s more") % {"named": named, "more": f"{len(missing) - NAMED:,}"}
        if not subscribed_only:
            message = ngettext(
                "%(n)s of the %(total)s listed openids is not a follower of %(name)s: %(named)s.",
                "%(n)s of the %(total)s listed openids are not followers of %(name)s: %(named)s.",
                len(missing),
            )
        else:
            message = ngettext(
                "%(n)s of the %(total)s listed openids is not a subscribed follower of %(name)s: %(named)s.",
                "%(n)s of the %(total)s listed openids are not subscribed followers of %(name)s: %(named)s.",
                len(missing),
            )
        raise FollowerNotFound(
            message % {"n": f"{len(missing):,}", "total": f"{len(wanted):,}", "name": account.name, "named": named},
            openid=missing[0],
            missing=len(missing),
            field="recipients",
        )
    return [found[o] for o in wanted]
