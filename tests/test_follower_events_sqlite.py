"""Smoke test of the first-run default: follower events on SQLite (the portable path), through the
intake's HTTP view and the single-follower services."""

from tests.conftest import run_on_sqlite

SCRIPT = r"""
import hashlib, hmac, json, time
from datetime import timedelta
from django.test import Client
from django.utils import timezone
from accounts import services
from accounts.models import Follower, FollowerEvent, OfficialAccount

acc = OfficialAccount.objects.create(name="Acme", kind="service")
fan = Follower.objects.create(account=acc, openid="o-1", subscribed_at=timezone.now() - timedelta(days=2))
body = json.dumps({"events": [
    {"appid": acc.app_id, "openid": "o-1", "event": "unsubscribe", "at": int(time.time()) - 3600},
    {"appid": acc.app_id, "openid": "o-2", "event": "subscribe"},
    {"appid": "wx-nobody", "openid": "o-3", "event": "subscribe"},
]}).encode()
ts = str(int(time.time()))
sig = "sha256=" + hmac.new(b"s3cret", ts.encode() + b"." + body, hashlib.sha256).hexdigest()
post = lambda: Client().post("/internal/v1/follower-events", body, content_type="application/json",
                             HTTP_X_PLATFORM_TIMESTAMP=ts, HTTP_X_PLATFORM_SIGNATURE=sig)
first, again = post(), post()
services.follow(fan)
services.unfollow(Follower.objects.get(openid="o-2"))
print(json.dumps({
    "status": first.status_code,
    "first": [r["status"] for r in first.json()["results"]],
    "again": [r["status"] for r in again.json()["results"]],
    "followers": sorted(Follower.objects.values_list("openid", "subscribed")),
    "history": sorted(FollowerEvent.objects.values_list("follower__openid", "kind")),
}))
"""


def test_follower_events_run_on_sqlite(tmp_path):
    out = run_on_sqlite(tmp_path, SCRIPT, PLATFORM_EVENTS_SECRET="s3cret")
    assert out["status"] == 200
    assert out["first"] == ["applied", "applied", "refused"]
    assert out["again"] == ["unchanged", "unchanged", "refused"]
    assert out["followers"] == [["o-1", True], ["o-2", False]]
    assert out["history"] == [["o-1", "subscribe"], ["o-1", "unsubscribe"], ["o-2", "subscribe"],
                              ["o-2", "unsubscribe"]]
