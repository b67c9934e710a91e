"""Follows and unfollows through accounts.services: the single-follower contract (follow / unfollow) and
batches of platform events (apply_follower_events): newest wins, idempotent, one statement, history kept."""

import random
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accounts import services, sql
from accounts.exceptions import TimeInFuture
from accounts.models import Follower, FollowerEvent
from accounts.services import FollowerEventIn as Event
from tests.factories import make_account, make_followers

pytestmark = pytest.mark.django_db

T0 = timezone.now() - timedelta(days=3)


def at(minutes: int):
    return T0 + timedelta(minutes=minutes)


def state(follower):
    follower.refresh_from_db()
    return follower.subscribed, follower.subscribed_at, follower.unsubscribed_at


def history(follower):
    return list(FollowerEvent.objects.filter(follower=follower).order_by("at").values_list("kind", "at"))


def statuses(results):
    return [r.status if r.error is None else f"{r.status}:{r.error.code}" for r in results]


@pytest.fixture
def acc():
    return make_account()


@pytest.fixture
def fan(acc):
    (fan,) = make_followers(acc, 1)
    Follower.objects.filter(pk=fan.pk).update(subscribed_at=at(0))
    fan.refresh_from_db()
    return fan


# --- the single-follower contract (issue 12) ------------------------------------------------------


def test_follow_unfollow_follow_again_is_kept_and_unfollowing_twice_changes_nothing(fan):
    assert services.unfollow(fan, at=at(10)) is fan
    assert state(fan) == (False, at(0), at(10))

    services.unfollow(fan, at=at(20))  # already unfollowed: nothing changes, not even the time
    assert state(fan) == (False, at(0), at(10))

    services.follow(fan, at=at(30))
    assert state(fan) == (True, at(30), at(10))
    services.follow(fan, at=at(40))
    assert state(fan) == (True, at(30), at(10))
    assert history(fan) == [("unsubscribe", at(10)), ("subscribe", at(30))]


def test_the_time_defaults_to_now_and_a_time_in_the_future_is_refused(fan):
    before = timezone.now()
    services.unfollow(fan)
    subscribed, _, unsubscribed_at = state(fan)
    assert subscribed is False and before <= unsubscribed_at <= timezone.now()

    with pytest.raises(TimeInFuture) as refused:
        services.follow(fan, at=timezone.now() + timedelta(minutes=5))
    assert refused.value.code == "time_in_future"
    assert state(fan)[0] is False and len(history(fan)) == 1


def test_an_event_older_than_the_followers_last_change_changes_nothing(fan):
    services.unfollow(fan, at=at(10))
    services.follow(fan, at=at(5))  # happened before the unfollow we know of
    assert state(fan) == (False, at(0), at(10))
    assert history(fan) == [("unsubscribe", at(10))]


# --- batches of platform events -------------------------------------------------------------------


def test_a_batch_updates_known_followers_makes_new_ones_and_refuses_unknown_accounts_per_event(acc, fan):
    other = make_account()
    results = services.apply_follower_events([
        Event(acc.app_id, fan.openid, "unsubscribe", at(10)),
        Event(acc.app_id, "o-new", "subscribe", at(11)),
        Event("wx-nobody", "o-x", "subscribe", at(12)),
        Event(acc.app_id, "o-ghost", "unsubscribe", at(13)),
        Event(other.app_id, fan.openid, "subscribe", at(14)),  # the same openid at another account is another person
    ])
    assert statuses(results) == [
        "applied", "applied", "refused:account_not_found", "refused:follower_not_found", "applied"]
    assert "wx-nobody" in results[2].error.message
    assert state(fan) == (False, at(0), at(10))
    new = Follower.objects.get(account=acc, openid="o-new")
    assert (new.subscribed, new.subscribed_at, new.unsubscribed_at, new.nickname) == (True, at(11), None, "")
    assert Follower.objects.get(account=other, openid=fan.openid).subscribed_at == at(14)
    assert not Follower.objects.filter(openid__in=["o-x", "o-ghost"]).exists()


def test_the_same_batch_twice_changes_nothing_the_second_time(acc, fan):
    batch = [
        Event(acc.app_id, fan.openid, "unsubscribe", at(10)),
        Event(acc.app_id, "o-new", "subscribe", at(11)),
        Event(acc.app_id, "o-new", "unsubscribe", at(12)),
        Event(acc.app_id, "o-new", "subscribe", at(13)),
    ]
    assert statuses(services.apply_follower_events(batch)) == ["applied"] * 4
    before = sorted(Follower.objects.filter(account=acc).values_list("openid", "subscribed", "subscribed_at",
                                                                     "unsubscribed_at"))
    events_before = FollowerEvent.objects.count()

    assert statuses(services.apply_follower_events(batch)) == ["unchanged"] * 4
    after = sorted(Follower.objects.filter(account=acc).values_list("openid", "subscribed", "subscribed_at",
                                                                    "unsubscribed_at"))
    assert after == before and FollowerEvent.objects.count() == events_before == 4
    new = Follower.objects.get(account=acc, openid="o-new")
    assert state(new) == (True, at(13), at(12))
    assert history(new) == [("subscribe", at(11)), ("unsubscribe", at(12)), ("subscribe", at(13))]


def test_within_a_batch_the_newest_event_wins_whatever_the_order(acc, fan):
    results = services.apply_follower_events([
        Event(acc.app_id, fan.openid, "subscribe", at(30)),
        Event(acc.app_id, fan.openid, "unsubscribe", at(20)),
        Event(acc.app_id, fan.openid, "unsubscribe", at(25)),  # a repeat: the follower was already gone
    ])
    assert statuses(results) == ["applied", "applied", "unchanged"]
    assert state(fan) == (True, at(30), at(20))


def test_events_dated_in_the_future_are_refused_and_the_others_applied(acc, fan):
    results = services.apply_follower_events([
        Event(acc.app_id, fan.openid, "unsubscribe", timezone.now() + timedelta(hours=1)),
        Event(acc.app_id, "o-new", "subscribe", None),  # no time: now
    ])
    assert statuses(results) == ["refused:time_in_future", "applied"]
    assert state(fan)[0] is True
    assert Follower.objects.get(openid="o-new").subscribed


def test_a_batch_of_1000_events_is_one_statement(acc, django_assert_max_num_queries):
    fans = make_followers(acc, 500)
    Follower.objects.filter(account=acc).update(subscribed_at=at(0))
    batch = [Event(acc.app_id, f.openid, "unsubscribe", at(10)) for f in fans]
    batch += [Event(acc.app_id, f"o-new-{i}", "subscribe", at(11)) for i in range(500)]
    with django_assert_max_num_queries(1):
        results = services.apply_follower_events(batch)
    assert statuses(results) == ["applied"] * 1000
    assert Follower.objects.filter(account=acc, subscribed=False).count() == 500
    assert Follower.objects.filter(account=acc, openid__startswith="o-new-", subscribed=True).count() == 500
    assert FollowerEvent.objects.filter(account=acc).count() == 1000


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_batches_making_the_same_new_follower_at_once_make_it_once():
    acc = make_account()
    first_holds_it = threading.Event()
    results = {}

    def first():
        try:
            with transaction.atomic():
                results["first"] = services.apply_follower_events([Event(acc.app_id, "o-both", "subscribe", at(1))])
                first_holds_it.set()
                time.sleep(0.5)  # the second batch's insert waits on this uncommitted row
        finally:
            connection.close()

    def second():
        try:
            first_holds_it.wait(10)
            started = time.monotonic()
            results["second"] = services.apply_follower_events([
                Event(acc.app_id, "o-both", "subscribe", at(1)), Event(acc.app_id, "o-both", "unsubscribe", at(2)),
            ])
            results["waited"] = time.monotonic() - started
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    # The second batch's insert met the first's uncommitted row and waited for it; its events were run again.
    assert results["waited"] > 0.3
    assert statuses(results["first"]) == ["applied"]
    assert statuses(results["second"]) == ["unchanged", "applied"]
    (both,) = Follower.objects.filter(account=acc, openid="o-both")
    assert state(both) == (False, at(1), at(2))
    assert history(both) == [("subscribe", at(1)), ("unsubscribe", at(2))]


# --- the portable path (SQLite, the first-run default) follows the same rule --------------------------


def snapshot(acc):
    followers = sorted(Follower.objects.filter(account=acc).values_list("openid", "subscribed", "subscribed_at",
                                                                        "unsubscribed_at", "last_event_at"))
    events = sorted(FollowerEvent.objects.filter(account=acc).values_list("follower__openid", "kind", "at"))
    return followers, events


@pytest.mark.parametrize("seed", range(6))
def test_the_portable_path_gives_the_statements_outcomes_and_rows(seed):
    """Random histories (repeats, ties, out of order, unknown appids and openids) applied to two accounts
    alike, one by the PostgreSQL statement and one by the portable path: the same outcomes and rows."""
    rng = random.Random(seed)
    by_statement, portable = make_account(), make_account()
    openids = [f"o{i}" for i in range(6)]
    for acc in (by_statement, portable):
        Follower.objects.bulk_create([
            Follower(account=acc, openid=o, subscribed=i % 2 == 0, subscribed_at=at(0),
                     unsubscribed_at=None if i % 2 == 0 else at(1))
            for i, o in enumerate(openids[:4])
        ])
    now = timezone.now()
    seen = set()
    for _round in range(4):
        batch = [(pos, rng.choice(["known"] * 5 + ["wx-nobody"]), rng.choice([*openids, "o-new"]),
                  rng.choice(["subscribe", "unsubscribe"]), at(rng.randrange(0, 40))) for pos in range(15)]

        def for_account(acc, batch=batch):
            return [(pos, acc.app_id if app == "known" else app, o, k, t) for pos, app, o, k, t in batch]

        outcomes = sql.apply_events_statement(for_account(by_statement), now=now)
        assert sql.apply_events_portable(for_account(portable), now=now) == outcomes
        assert snapshot(portable) == snapshot(by_statement)
        seen.update(outcomes.values())
    assert {sql.Outcome.APPLIED, sql.Outcome.UNCHANGED, sql.Outcome.UNKNOWN_ACCOUNT} <= seen
