"""The everyday lists: broadcasts by account, send date, "mine" and account name; deliveries by status
across broadcasts; followers by nickname prefix and by tag within an account; the account page's
follower count and links; the follower page's links and its R5 count — each on an index."""

import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import OfficialAccount
from tests.factories import (
    deliver_all,
    local,
    make_account,
    make_approved,
    make_dispatched,
    make_draft,
    make_followers,
    make_tag,
    make_user,
)

pytestmark = pytest.mark.django_db


def listed(client, name: str, **params) -> list:
    response = client.get(reverse(f"admin:{name}_changelist"), params)
    assert response.status_code == 200 and "?e=1" not in response.get("Location", "")
    return list(response.context["cl"].result_list)


def plan(sql: str, params=()) -> str:
    """The query plan with sequential scans priced out: which index the query can use."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_broadcasts_by_account_mine_account_name_and_send_date(client):
    olga, otto = make_user("olga", role="operator"), make_user("otto", role="operator")
    acme, news = make_account(name="Acme Coffee"), make_account(name="Daily News")
    mine = make_draft(acme, by=olga, title="Mine", scheduled_at=local(2031, 5, 2))
    theirs = make_draft(news, by=otto, title="Theirs", scheduled_at=local(2031, 6, 2))
    client.force_login(olga)
    assert listed(client, "broadcasts_broadcast", mine="1") == [mine]
    assert listed(client, "broadcasts_broadcast", account=news.pk) == [theirs]
    assert listed(client, "broadcasts_broadcast", q="daily") == [theirs]
    assert listed(client, "broadcasts_broadcast", scheduled_at__year=2031, scheduled_at__month=5) == [mine]


def test_deliveries_by_status_without_a_broadcast_id(admin_client, settings):
    settings.BROADCAST_DELIVERY_BACKEND = "tests.backends.HalfFailingBackend"
    for name in ("A", "B"):
        acc = make_account(name=name)
        make_followers(acc, 4)
        deliver_all(make_dispatched(acc))
    failed = listed(admin_client, "broadcasts_delivery", status="failed")
    assert len(failed) == 4 and {d.status for d in failed} == {"failed"}
    assert len({d.broadcast_id for d in failed}) == 2
    page = admin_client.get(reverse("admin:broadcasts_delivery_changelist")).content.decode()
    assert "?status=failed" in page  # offered without a broadcast id
    assert "delivery_failed_idx" in plan(
        "SELECT id FROM broadcasts_delivery WHERE status = 'failed' ORDER BY id DESC LIMIT 100"
    )


def test_followers_by_nickname_prefix_and_by_tag_within_an_account(admin_client):
    acc, other = make_account(), make_account()
    fans = make_followers(acc, 3)  # nicknames "fan 0".. "fan 2"
    make_followers(other, 2, prefix="x-")
    vip = make_tag(acc, "vip", [fans[1]])
    assert {f.nickname for f in listed(admin_client, "accounts_follower", q="FAN ", account=acc.pk)} == {
        "fan 0", "fan 1", "fan 2"}
    assert listed(admin_client, "accounts_follower", q='"fan 1"', account=acc.pk) == [fans[1]]  # a quoted phrase is one term
    assert listed(admin_client, "accounts_follower", account=acc.pk, tag=vip.pk) == [fans[1]]
    assert listed(admin_client, "accounts_follower", tag="junk") == []
    unfiltered = admin_client.get(reverse("admin:accounts_follower_changelist")).content.decode()
    assert f"?tag={vip.pk}" not in unfiltered  # tags are offered within an account only
    within = admin_client.get(reverse("admin:accounts_follower_changelist"), {"account": acc.pk}).content.decode()
    assert f"tag={vip.pk}" in within
    assert "follower_nickname_prefix_idx" in plan(
        "SELECT id FROM accounts_follower WHERE UPPER(nickname::text) LIKE UPPER(%s) LIMIT 100", ["fan%"]
    )


def test_account_page_counts_followers_and_links_its_lists(admin_client):
    acc = make_account(name="Acme")
    make_followers(acc, 3)
    make_followers(acc, 2, prefix="gone-", subscribed=False)
    page = admin_client.get(reverse("admin:accounts_officialaccount_change", args=[acc.pk])).content.decode()
    assert "Followers (3 followers)" in page
    assert reverse("admin:broadcasts_broadcast_changelist") + f"?account={acc.pk}" in page


def test_follower_page_links_inbox_and_deliveries_and_the_inbox_shows_r5(admin_client):
    acc = make_account(name="Acme Service", kind=OfficialAccount.Kind.SERVICE)
    fan = make_followers(acc, 1)[0]
    for title in ("One", "Two"):
        deliver_all(make_dispatched(acc, title=title))
    page = admin_client.get(reverse("admin:accounts_follower_change", args=[fan.pk])).content.decode()
    inbox = reverse("admin:broadcasts_inboxmessage_changelist") + f"?follower_id={fan.pk}"
    assert inbox in page and reverse("admin:broadcasts_delivery_changelist") + f"?follower_id={fan.pk}" in page
    inbox_page = admin_client.get(inbox).content.decode()
    assert "2 of 4 broadcasts from Acme Service in this window (R5)." in inbox_page
    sub = make_account(name="Daily", kind=OfficialAccount.Kind.SUBSCRIPTION)
    reader = make_followers(sub, 1)[0]
    text = admin_client.get(reverse("admin:broadcasts_inboxmessage_changelist"), {"follower_id": reader.pk})
    assert "No per-follower cap applies to Daily now (R5)." in text.content.decode()


def test_approved_broadcast_list_still_renders_with_every_new_filter(admin_client):
    make_approved(make_account())
    assert listed(admin_client, "broadcasts_broadcast", mine="1", status="approved") == []
