"""tags/get and user/get: the account's tags with their counts, and its followers' openids 10,000 a
page by keyset (one index range per page), never another account's."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Follower
from tests.api import refused
from tests.factories import make_api_account, make_followers, make_tag

pytestmark = pytest.mark.django_db


def test_tags_get_lists_the_accounts_tags_with_subscribed_counts(api):
    account, secret = make_api_account()
    fans = make_followers(account, 4)
    vip, new = make_tag(account, "vip", fans[:3]), make_tag(account, "新客", [fans[3]])
    Follower.objects.filter(pk=fans[0].pk).update(subscribed=False)
    other, _ = make_api_account()
    make_tag(other, "theirs", make_followers(other, 1))

    answer = api.get("tags/get", api.token(account.app_id, secret))

    assert answer == {"tags": [{"id": vip.pk, "name": "vip", "count": 2}, {"id": new.pk, "name": "新客", "count": 1}]}


def test_user_get_pages_10000_openids_by_keyset_to_the_end(api):
    account, secret = make_api_account()
    fans = make_followers(account, 10_003)
    Follower.objects.filter(pk=fans[5].pk).update(subscribed=False)
    make_followers(make_api_account()[0], 3)  # another account's followers never show
    token = api.token(account.app_id, secret)
    subscribed = [f.openid for f in fans if f.pk != fans[5].pk]

    first = api.get("user/get", token)
    second = api.get("user/get", token, next_openid=first["next_openid"])
    last = api.get("user/get", token, next_openid=second["next_openid"])

    assert (first["total"], first["count"], first["next_openid"]) == (10_002, 10_000, subscribed[9_999])
    assert first["data"]["openid"] == subscribed[:10_000]
    assert (second["count"], second["data"]["openid"], second["next_openid"]) == (2, subscribed[10_000:], subscribed[-1])
    assert (last["total"], last["count"], last["data"], last["next_openid"]) == (10_002, 0, {"openid": []}, "")


def test_a_user_get_page_is_a_fixed_number_of_queries_anywhere_in_the_list(api):
    account, secret = make_api_account()
    fans = make_followers(account, 30)
    token = api.token(account.app_id, secret)

    with CaptureQueriesContext(connection) as first:
        api.get("user/get", token)
    with CaptureQueriesContext(connection) as later:
        api.get("user/get", token, next_openid=fans[20].openid)

    # first: the account (token check), the page, the total; later: the account, the keyset's
    # look-up of next_openid, the page (the total is reused for API_FOLLOWER_TOTAL_TTL)
    assert (len(first), len(later)) == (3, 3)
    assert not any("COUNT(*)" in q["sql"] for q in later.captured_queries)
    page = next(q["sql"] for q in later.captured_queries if "LIMIT 10000" in q["sql"])
    assert '"id" >' in page and "ORDER BY" in page


@pytest.mark.parametrize("next_openid", ["o-nobody", "THEIRS"])
def test_a_next_openid_that_is_not_the_accounts_follower_is_refused(api, next_openid):
    account, secret = make_api_account()
    make_followers(account, 2)
    theirs = make_followers(make_api_account()[0], 1)[0]
    next_openid = theirs.openid if next_openid == "THEIRS" else next_openid

    answer = api.get("user/get", api.token(account.app_id, secret), next_openid=next_openid)

    assert refused(answer, 40003, "follower_not_found")
