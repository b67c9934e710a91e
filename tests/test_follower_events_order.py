"""Out-of-order follower events across batches and sources (R8, issue 12): a change applies only when it
differs from the follower's state and is newer than the newest event seen for the follower, whatever
batch or source (platform intake, single-follower services, import) brought that event; the same
scenarios on PostgreSQL and on SQLite (the portable path and the SQLite import writer)."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import services
from accounts.imports import import_followers
from accounts.models import Follower, FollowerEvent, OfficialAccount
from accounts.services import FollowerEventIn as Event
from tests.conftest import run_on_sqlite

HEADER = "openid,nickname,tags,subscribed_at,subscribed\n"


def scenarios() -> dict:
    """Runs the three scenarios on the current database; returns what a user would see of each."""
    now = timezone.now()
    acc = OfficialAccount.objects.create(name="Acme", kind="service")
    july, earlier = now - timedelta(days=130), now - timedelta(days=200)

    def unfollowed_in_july(openid):
        return Follower.objects.create(account=acc, openid=openid, subscribed=False, subscribed_at=earlier,
                                       unsubscribed_at=july)

    def send(openid, kind, seconds_ago):
        (result,) = services.apply_follower_events([Event(acc.app_id, openid, kind, now - timedelta(seconds=seconds_ago))])
        return result.status

    def seen(follower):
        follower.refresh_from_db()
        kinds = list(FollowerEvent.objects.filter(follower=follower).order_by("at").values_list("kind", flat=True))
        return {"subscribed": follower.subscribed, "history": kinds}

    # The repro: the platform's newest event (an unfollow, a repeat) comes first, an older follow after.
    late = unfollowed_in_july("o-late")
    repro = {"first": send("o-late", "unsubscribe", 60), "second": send("o-late", "subscribe", 120)}
    services.follow(late, at=now - timedelta(seconds=90))  # the admin's single-follower service, same rule
    repro.update(seen(late))
    repro["unfollowed in July"] = late.unsubscribed_at == july  # the repeat did not move when it began

    # The reverse order is a real follow and unfollow again: both applied.
    back = unfollowed_in_july("o-back")
    reverse = {"first": send("o-back", "subscribe", 120), "second": send("o-back", "unsubscribe", 60)}
    reverse.update(seen(back))

    # Mixed sources: an intake follow (a repeat), then an import row older than it; a newer row still applies.
    fan = Follower.objects.create(account=acc, openid="o-mixed", subscribed_at=july)
    other = Follower.objects.create(account=acc, openid="o-other", subscribed_at=july)
    mixed = {"intake": send("o-mixed", "subscribe", 60)}
    rows = (f"o-mixed,,,{(now - timedelta(seconds=120)).isoformat()},0\n"
            f"o-other,,,{(now - timedelta(seconds=30)).isoformat()},0\n")
    summary = import_followers(acc, io.BytesIO((HEADER + rows).encode())).summary
    mixed["import"] = summary.split(": ", 1)[1]
    mixed.update(seen(fan))
    mixed["other"] = seen(other)
    return {"repro": repro, "reverse": reverse, "mixed": mixed}


EXPECTED = {
    "repro": {"first": "unchanged", "second": "unchanged", "subscribed": False, "history": [],
              "unfollowed in July": True},
    "reverse": {"first": "applied", "second": "applied", "subscribed": False, "history": ["subscribe", "unsubscribe"]},
    "mixed": {
        "intake": "unchanged",
        "import": "0 created, 1 updated, 1 unchanged, 0 skipped, 0 tags created",
        "subscribed": True,
        "history": [],
        "other": {"subscribed": False, "history": ["unsubscribe"]},
    },
}


@pytest.mark.django_db
def test_an_older_event_after_the_newest_one_changes_nothing_on_postgresql():
    assert scenarios() == EXPECTED


def test_an_older_event_after_the_newest_one_changes_nothing_on_sqlite(tmp_path):
    script = "import json\nfrom tests.test_follower_events_order import scenarios\nprint(json.dumps(scenarios()))\n"
    assert run_on_sqlite(tmp_path, script) == EXPECTED
