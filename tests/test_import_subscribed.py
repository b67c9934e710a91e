"""import_followers' optional `subscribed` column (R8, issue 12): follows, unfollows and follows again
by import reach the follower history (FollowerEvent) by the rule of the platform's events, on the
PostgreSQL writers (COPY on a first import, staged otherwise) and on SQLite; an import's unfollow
counts in the insight's figures like any other."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from accounts.imports import ImportRowsInvalid, import_followers
from accounts.models import Follower, FollowerEvent
from broadcasts import services
from tests.conftest import run_on_sqlite
from tests.factories import make_account, make_sent

pytestmark = pytest.mark.django_db

HEADER = "openid,nickname,tags,subscribed_at,subscribed\n"


def day(d: int, h: int = 0) -> datetime:
    return datetime(2026, 1, d, h, tzinfo=UTC)


def load(account, body: str, header: str = HEADER) -> str:
    return import_followers(account, io.BytesIO((header + body).encode())).summary


def history(account) -> list[tuple[str, str, datetime]]:
    return list(
        FollowerEvent.objects.filter(account=account)
        .order_by("follower__openid", "at")
        .values_list("follower__openid", "kind", "at")
    )


def following(account) -> dict[str, tuple[bool, datetime, datetime | None]]:
    return {
        f.openid: (f.subscribed, f.subscribed_at, f.unsubscribed_at) for f in Follower.objects.filter(account=account)
    }


def test_follow_unfollow_and_follow_again_by_import_are_kept_in_the_history():
    account = make_account()
    # First import (COPY straight into the table): o3 does not follow and is unknown, so nothing is written.
    assert load(
        account, "o1,Ann,vip,2026-01-01T10:00:00Z,1\no2,Bo,,2026-01-02T00:00:00Z,\no3,Cy,gold,2026-01-02T00:00:00Z,0\n"
    ).endswith("3 lines read: 2 created, 0 updated, 1 unchanged, 0 skipped, 1 tags created")
    # Second import (staged): o1 unfollows on the 5th, o2 unfollows now (no time), o4 is new.
    before = timezone.now()
    assert load(
        account, "o1,Ann,,2026-01-05T00:00:00Z,false\no2,Bo,,,NO\no3,Cy,,,0\no4,Di,,2026-01-03T00:00:00Z,yes\n"
    ).endswith("4 lines read: 1 created, 2 updated, 1 unchanged, 0 skipped, 0 tags created")
    # Third: o1 follows again on the 7th; o2 still unfollowed (a repeat changes nothing), o4 still following.
    assert load(account, "o1,Ann,,2026-01-07T00:00:00Z,TRUE\no2,Bo,,,0\no4,Di,,,1\n").endswith(
        "3 lines read: 0 created, 1 updated, 2 unchanged, 0 skipped, 0 tags created"
    )
    # Fourth: an unfollow of o1 dated before its follow again is older than what is known: nothing.
    assert "0 created, 0 updated, 1 unchanged" in load(account, "o1,Ann,,2026-01-06T00:00:00Z,0\n")

    events = history(account)
    o2_unfollow = events[4][2]
    assert before <= o2_unfollow <= timezone.now()
    assert events == [
        ("o1", "subscribe", day(1, 10)),
        ("o1", "unsubscribe", day(5)),
        ("o1", "subscribe", day(7)),
        ("o2", "subscribe", day(2)),
        ("o2", "unsubscribe", o2_unfollow),
        ("o4", "subscribe", day(3)),
    ]
    assert following(account) == {
        "o1": (True, day(7), day(5)),
        "o2": (False, day(2), o2_unfollow),
        "o4": (True, day(3), None),
    }
    assert not Follower.objects.filter(account=account, openid="o3").exists()


def test_a_follow_of_an_unfollowed_follower_without_the_column_is_kept_too():
    """The four-column file (every row follows) follows again through the same rule: the history has it."""
    account = make_account()
    load(account, "o1,Ann,,2026-01-01T00:00:00Z,1\n")
    load(account, "o1,Ann,,2026-01-02T00:00:00Z,0\n")
    load(account, "o1,Ann,,2026-01-03T00:00:00Z\n", header="openid,nickname,tags,subscribed_at\n")
    assert [(k, at) for _o, k, at in history(account)] == [
        ("subscribe", day(1)),
        ("unsubscribe", day(2)),
        ("subscribe", day(3)),
    ]


def test_a_bad_subscribed_value_is_a_numbered_bad_row_and_nothing_is_written():
    account = make_account()
    load(account, "o1,Ann,,2026-01-01T00:00:00Z,1\n")
    with pytest.raises(ImportRowsInvalid) as exc:
        load(account, "o1,Ann,,2026-01-02T00:00:00Z,0\no2,Bo,,,maybe\no3,Cy,,,1,extra\n")
    assert [str(p) for p in exc.value.context["problems"]] == [
        "line 3: subscribed 'maybe' is not one of 1/0, true/false, yes/no (empty means 1)",
        "line 4: has 6 columns; expected 5 (openid,nickname,tags,subscribed_at,subscribed)",
    ]
    assert following(account) == {"o1": (True, day(1), None)}
    assert len(history(account)) == 1


def test_an_unfollow_in_the_future_is_a_bad_row():
    account = make_account()
    later = (timezone.now() + timedelta(days=3)).isoformat()
    result = import_followers(account, io.BytesIO((HEADER + f"o1,Ann,,{later},0\n").encode()), skip_invalid=True)
    assert result.skipped == 1 and "is in the future" in str(result.problems[0])


def test_an_unfollow_by_import_counts_for_the_broadcast_it_followed():
    account = make_account()
    load(account, "o1,Ann,,2026-01-01T00:00:00Z,1\no2,Bo,,2026-01-01T00:00:00Z,1\no3,Cy,,2026-01-01T00:00:00Z,1\n")
    sent_at = timezone.now() - timedelta(days=2)
    broadcast = make_sent(account, at=sent_at, followers=list(Follower.objects.filter(account=account)))
    # o1 unfollows 5 h after the delivery, o2 30 h after it; o3 stays.
    load(
        account,
        f"o1,Ann,,{(sent_at + timedelta(hours=5)).isoformat()},0\n"
        f"o2,Bo,,{(sent_at + timedelta(hours=30)).isoformat()},0\n",
    )
    figures = services.unfollow_figures(broadcast)
    assert (figures.sent, figures.unfollows_24h, figures.unfollows_72h) == (3, 1, 2)


SQLITE_SCRIPT = r"""
import io, json
from accounts.imports import ImportRowsInvalid, import_followers
from accounts.models import FollowerEvent, OfficialAccount
acc = OfficialAccount.objects.create(name="Acme", kind="service")
header = "openid,nickname,tags,subscribed_at,subscribed\n"
outs = []
for body in ("o1,Ann,vip,2026-01-01T10:00:00Z,1\no2,Bo,,2026-01-02T00:00:00Z,\no3,Cy,gold,,0\n",
             "o1,Ann,,2026-01-05T00:00:00Z,false\no3,Cy,,,0\no4,Di,,2026-01-03T00:00:00Z,yes\n",
             "o1,Ann,,2026-01-07T00:00:00Z,1\no2,Bo,,2026-01-04T00:00:00Z,0\no4,Di,,,1\n",
             "o1,Ann,,2026-01-06T00:00:00Z,0\n"):
    outs.append(import_followers(acc, io.BytesIO((header + body).encode())).summary)
print(json.dumps({
    "outs": outs,
    "history": [[o, k, at.isoformat()] for o, k, at in FollowerEvent.objects.order_by("follower__openid", "at")
                .values_list("follower__openid", "kind", "at")],
    "tags": sorted(acc.tags.values_list("name", flat=True)),
}))
"""


def test_the_same_history_on_sqlite(tmp_path):
    out = run_on_sqlite(tmp_path, SQLITE_SCRIPT)
    assert [o.split(": ", 1)[1] for o in out["outs"]] == [
        "2 created, 0 updated, 1 unchanged, 0 skipped, 1 tags created",
        "1 created, 1 updated, 1 unchanged, 0 skipped, 0 tags created",
        "0 created, 2 updated, 1 unchanged, 0 skipped, 0 tags created",
        "0 created, 0 updated, 1 unchanged, 0 skipped, 0 tags created",
    ]
    assert out["history"] == [
        ["o1", "subscribe", "2026-01-01T10:00:00+00:00"],
        ["o1", "unsubscribe", "2026-01-05T00:00:00+00:00"],
        ["o1", "subscribe", "2026-01-07T00:00:00+00:00"],
        ["o2", "subscribe", "2026-01-02T00:00:00+00:00"],
        ["o2", "unsubscribe", "2026-01-04T00:00:00+00:00"],
        ["o4", "subscribe", "2026-01-03T00:00:00+00:00"],
    ]
    assert out["tags"] == ["vip"]  # o3 does not follow and is not imported, its tag neither


def nicknames(account) -> dict[str, str]:
    return dict(Follower.objects.filter(account=account).values_list("openid", "nickname"))


def test_an_empty_nickname_keeps_the_known_one_on_every_row():
    """QA (issue 12): `oX,,,,0` unfollowed oX and blanked his nickname. An empty nickname keeps the known
    one, as an empty subscribed_at keeps the known time; a new follower without one has none."""
    account = make_account()
    # First import (COPY straight into the table): o3 is new and has no nickname to keep.
    load(account, "o1,Ann,,2026-01-01T00:00:00Z,1\no2,Bo,,2026-01-01T00:00:00Z,1\no3,,,2026-01-01T00:00:00Z,1\n")
    assert nicknames(account) == {"o1": "Ann", "o2": "Bo", "o3": ""}
    # Staged: o1 unfollows without a nickname, o2 stays following without one, o3 gets one.
    assert load(account, "o1,,,,0\no2,,,,1\no3,Cy,,,\n").endswith(
        "3 lines read: 0 created, 2 updated, 1 unchanged, 0 skipped, 0 tags created"
    )
    assert nicknames(account) == {"o1": "Ann", "o2": "Bo", "o3": "Cy"}
    assert Follower.objects.get(account=account, openid="o1").subscribed is False
    # A 1 row without a nickname follows o1 again and still keeps it.
    load(account, "o1,,,,1\n")
    assert nicknames(account)["o1"] == "Ann"
    assert Follower.objects.get(account=account, openid="o1").subscribed is True


NICKNAME_SCRIPT = r"""
import io, json
from accounts.imports import import_followers
from accounts.models import OfficialAccount
acc = OfficialAccount.objects.create(name="Acme", kind="service")
header = "openid,nickname,tags,subscribed_at,subscribed\n"
outs = []
for body in ("o1,Ann,,2026-01-01T00:00:00Z,1\no2,Bo,,2026-01-01T00:00:00Z,1\no3,,,2026-01-01T00:00:00Z,1\n",
             "o1,,,,0\no2,,,,1\no3,Cy,,,\n"):
    outs.append(import_followers(acc, io.BytesIO((header + body).encode())).summary)
print(json.dumps({"outs": outs, "followers": sorted(acc.followers.values_list("openid", "nickname", "subscribed"))}))
"""


def test_an_empty_nickname_keeps_the_known_one_on_sqlite(tmp_path):
    out = run_on_sqlite(tmp_path, NICKNAME_SCRIPT)
    assert out["outs"][1].endswith("3 lines read: 0 created, 2 updated, 1 unchanged, 0 skipped, 0 tags created")
    assert out["followers"] == [["o1", "Ann", False], ["o2", "Bo", True], ["o3", "Cy", True]]


# A re-import of rows without a time changed nothing a person sees, yet rewrote every such row
# (it raised last_event_at to the import's "now"): 250,000 row updates in the million-row bench.
UNTIMED_SCRIPT = r"""
import io, json
from accounts.imports import import_followers
from accounts.models import OfficialAccount
acc = OfficialAccount.objects.create(name="Acme", kind="service")
body = "openid,nickname,tags,subscribed_at\no1,Ann,,\no2,Bo,,2026-01-01T00:00:00Z\n"
stamps = []
for _ in range(3):  # the first import, then twice the same file (the staged path)
    import_followers(acc, io.BytesIO(body.encode()))
    stamps.append(sorted((o, str(t)) for o, t in acc.followers.values_list("openid", "last_event_at")))
print(json.dumps({"stamps": stamps}))
"""


def test_a_reimport_of_rows_without_a_time_writes_nothing():
    account = make_account()
    body = "o1,Ann,,\no2,Bo,,2026-01-01T00:00:00Z\n"
    header = "openid,nickname,tags,subscribed_at\n"
    stamps = []
    for _ in range(3):
        load(account, body, header=header)
        stamps.append(dict(Follower.objects.filter(account=account).values_list("openid", "last_event_at")))
    assert stamps[0] == stamps[1] == stamps[2]
    assert stamps[0]["o2"] == day(1)


def test_a_reimport_of_rows_without_a_time_writes_nothing_on_sqlite(tmp_path):
    stamps = run_on_sqlite(tmp_path, UNTIMED_SCRIPT)["stamps"]
    assert stamps[0] == stamps[1] == stamps[2]
    assert stamps[0][1][1].startswith("2026-01-01 00:00:00")
