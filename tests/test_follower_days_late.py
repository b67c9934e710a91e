"""The follower days the account chart reads (R8, issue 12): follows and unfollows recorded late — dated
on a day older than the few the beat job recounts each run (an import dated back, late platform events,
the admin's past time) — reach their day at the next run; days no late event touched are not recounted.
Platform days are Asia/Shanghai days. PostgreSQL, and SQLite (the first-run default)."""

import io
from datetime import date, timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from accounts.imports import import_followers
from accounts.models import FollowerEvent
from broadcasts import services
from broadcasts.models import FollowerDay
from tests.conftest import run_on_sqlite
from tests.factories import make_account

pytestmark = pytest.mark.django_db

HEADER = "openid,nickname,tags,subscribed_at,subscribed\n"
# o1 follows 2026-11-02 04:00 and o2 09:00 Shanghai time (20:00 and 01:00 UTC: the 1st and the 2nd in
# UTC), o3 on the 10th.
FIRST = "o1,Ann,,2026-11-01T20:00:00Z,1\no2,Bo,,2026-11-02T01:00:00Z,1\no3,Cy,,2026-11-10T00:00:00Z,1\n"
# The QA repro: o1 unfollows 2026-11-15 10:00 Shanghai time; o2 at 17:00 UTC on the 14th, 01:00 on the 15th
# in Shanghai; o4, new, follows at 23:59 Shanghai time on the 2nd.
LATE = "o1,x,,2026-11-15 10:00,0\no2,,,2026-11-14T17:00:00Z,0\no4,Di,,2026-11-02T15:59:00Z,1\n"


def load(account, body: str) -> None:
    import_followers(account, io.BytesIO((HEADER + body).encode()))


def days(account) -> dict[str, tuple[int, int]]:
    return {d.isoformat(): (g, lost) for d, g, lost in
            FollowerDay.objects.filter(account=account).values_list("day", "gained", "lost")}


def test_follows_and_unfollows_dated_back_reach_their_day_at_the_next_run():
    account = make_account()
    load(account, FIRST)
    # The first import was two hours ago: the last run's look-back (an hour before it) has passed it.
    FollowerEvent.objects.filter(account=account).update(recorded_at=F("recorded_at") - timedelta(hours=2))
    services.measure_unfollows()
    # The first run has no last run: every day of the history is counted.
    assert days(account) == {"2026-11-02": (2, 0), "2026-11-10": (1, 0)}
    # A day no late event touches is not recounted (this count stands for one the job would not redo).
    FollowerDay.objects.filter(account=account, day=date(2026, 11, 10)).update(gained=99)

    load(account, LATE)
    services.measure_unfollows()
    assert days(account) == {"2026-11-02": (3, 0), "2026-11-10": (99, 0), "2026-11-15": (0, 2)}


def test_each_day_recounted_is_stamped_with_the_run():
    """The stamp is how the next run knows where its last one stopped."""
    account = make_account()
    load(account, FIRST)
    now = timezone.now()
    assert services.refresh_follower_days(now=now) == 2
    assert FollowerDay.objects.filter(account=account, counted_at=now).count() == 2


SQLITE_SCRIPT = r"""
import io, json
from datetime import date, timedelta
from django.db.models import F
from accounts.imports import import_followers
from accounts.models import FollowerEvent, OfficialAccount
from broadcasts import services
from broadcasts.models import FollowerDay
acc = OfficialAccount.objects.create(name="Acme", kind="service")
def load(body):
    import_followers(acc, io.BytesIO(("openid,nickname,tags,subscribed_at,subscribed\n" + body).encode()))
def days():
    return {d.isoformat(): [g, l] for d, g, l in FollowerDay.objects.values_list("day", "gained", "lost")}
load(FIRST)
FollowerEvent.objects.update(recorded_at=F("recorded_at") - timedelta(hours=2))
services.measure_unfollows()
first = days()
FollowerDay.objects.filter(day=date(2026, 11, 10)).update(gained=99)
load(LATE)
services.measure_unfollows()
print(json.dumps({"first": first, "late": days()}))
"""


def test_the_same_days_on_sqlite(tmp_path):
    script = SQLITE_SCRIPT.replace("FIRST", repr(FIRST)).replace("LATE", repr(LATE))
    out = run_on_sqlite(tmp_path, script)
    assert out["first"] == {"2026-11-02": [2, 0], "2026-11-10": [1, 0]}
    assert out["late"] == {"2026-11-02": [3, 0], "2026-11-10": [99, 0], "2026-11-15": [0, 2]}
