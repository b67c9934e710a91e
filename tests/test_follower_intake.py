"""POST /internal/v1/follower-events over HTTP: the HMAC signature, strict JSON, per-event results,
idempotency, a full batch in one statement, and every refusal as a JSON error that writes nothing."""

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from accounts.models import Follower, FollowerEvent
from tests.factories import make_account, make_followers

pytestmark = pytest.mark.django_db

SECRET = "platform-shared-secret"
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
T0_ISO = T0.isoformat()


@pytest.fixture(autouse=True)
def intake_secret(settings):
    settings.PLATFORM_EVENTS_SECRET = SECRET
    settings.PLATFORM_EVENTS_MAX_SKEW_SECONDS = 300


def post(client, payload, *, secret=SECRET, timestamp=None, signature=None, raw: bytes | None = None, **headers):
    """POST the payload (or `raw` bytes) signed as the platform signs it, unless told otherwise."""
    body = raw if raw is not None else json.dumps(payload).encode()
    ts = str(int(time.time())) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    signed = {"HTTP_X_PLATFORM_TIMESTAMP": ts, "HTTP_X_PLATFORM_SIGNATURE": signature or f"sha256={mac}"}
    signed.update(headers)
    return client.post(reverse("follower_events"), body, content_type="application/json", **signed)


def event(app_id, openid, kind="subscribe", at=T0_ISO):
    return {"appid": app_id, "openid": openid, "event": kind, "at": at}


def nothing_written(acc, before: int) -> bool:
    return Follower.objects.filter(account=acc).count() == before and not FollowerEvent.objects.exists()


@pytest.fixture
def acc():
    return make_account()


@pytest.fixture
def fans(acc):
    fans = make_followers(acc, 3, prefix="o")
    Follower.objects.filter(account=acc).update(subscribed_at=T0 - timedelta(days=30))
    return fans


def test_a_signed_batch_is_applied_with_one_result_per_event(client, acc, fans):
    payload = {"events": [
        event(acc.app_id, fans[0].openid, "unsubscribe", int(T0.timestamp())),
        event(acc.app_id, "o-new", "subscribe", "2026-11-20T16:00:00+08:00"),
        event("wx-nobody", "o-x"),
        event(acc.app_id, fans[1].openid, "subscribe"),  # already following
    ]}
    response = post(client, payload)

    assert response.status_code == 200
    body = response.json()
    assert (body["received"], body["applied"], body["unchanged"], body["refused"]) == (4, 2, 1, 1)
    assert [r["status"] for r in body["results"]] == ["applied", "applied", "refused", "unchanged"]
    assert body["results"][2]["code"] == "account_not_found" and "wx-nobody" in body["results"][2]["message"]
    fans[0].refresh_from_db()
    assert (fans[0].subscribed, fans[0].unsubscribed_at) == (False, T0)
    assert Follower.objects.get(account=acc, openid="o-new").subscribed_at == T0

    again = post(client, payload).json()  # the platform sends the same batch again
    assert [r["status"] for r in again["results"]] == ["unchanged", "unchanged", "refused", "unchanged"]
    assert FollowerEvent.objects.count() == 2


def test_a_full_batch_of_1000_is_one_statement(client, acc, django_assert_max_num_queries):
    payload = {"events": [event(acc.app_id, f"o{i:04d}") for i in range(1000)]}
    with django_assert_max_num_queries(1):
        response = post(client, payload)
    assert response.status_code == 200 and response.json()["applied"] == 1000
    assert Follower.objects.filter(account=acc, subscribed=True).count() == 1000


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        ({"secret": "another-secret"}, "does not match"),
        ({"signature": "sha256=" + "0" * 64}, "does not match"),
        ({"timestamp": str(int(time.time()) - 400)}, "more than 300 seconds"),
        ({"timestamp": "soon"}, "whole Unix seconds"),
        ({"signature": "", "timestamp": ""}, "are required"),
    ],
    ids=["wrong-secret", "wrong-signature", "stale", "not-a-time", "unsigned"],
)
def test_a_bad_signature_is_401_and_writes_nothing(client, acc, fans, change, sentence):
    payload = {"events": [event(acc.app_id, "o-new")]}
    if change.get("signature") == "":
        response = client.post(reverse("follower_events"), json.dumps(payload), content_type="application/json")
    else:
        response = post(client, payload, **change)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "signature_invalid" and sentence in error["message"]
    assert nothing_written(acc, 3)


def test_without_a_secret_the_intake_refuses_everything(client, acc, settings):
    settings.PLATFORM_EVENTS_SECRET = ""
    response = post(client, {"events": [event(acc.app_id, "o-new")]}, secret="")
    assert response.status_code == 503 and response.json()["error"]["code"] == "intake_disabled"
    assert nothing_written(acc, 0)


GOOD = {"appid": "wx-set-below", "openid": "o-new", "event": "subscribe", "at": 1763625600}


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"\xff\xfe{}",
        b'{"events": [' + b"[" * 5000 + b"]" * 5000 + b"]}",
        b'{"events": [{"appid": "A", "openid": "o", "event": "subscribe", "at": NaN}]}',
        b'{"events": [{"appid": "A", "openid": "o", "event": "subscribe", "at": 1' + b"0" * 5000 + b"}]}",
        json.dumps([GOOD]).encode(),
        json.dumps({"events": []}).encode(),
        json.dumps({"events": "all"}).encode(),
        json.dumps({"events": [GOOD, "subscribe"]}).encode(),
        json.dumps({"events": [GOOD, {**GOOD, "appid": 42}]}).encode(),
        json.dumps({"events": [GOOD, {**GOOD, "openid": ""}]}).encode(),
        json.dumps({"events": [GOOD, {**GOOD, "openid": "o\u0000x"}]}).encode(),
        json.dumps({"events": [GOOD, {**GOOD, "openid": "o\ud800"}]}).encode(),
        json.dumps({"events": [GOOD, {**GOOD, "openid": "o" * 65}]}).encode(),
        json.dumps({"events": [GOOD, {**GOOD, "event": "follow"}]}).encode(),
        json.dumps({"events": [GOOD, {**GOOD, "at": True}]}).encode(),
        json.dumps({"events": [GOOD, {**GOOD, "at": 1763625600.5}]}).encode(),
        json.dumps({"events": [GOOD, {**GOOD, "at": -1}]}).encode(),
        json.dumps({"events": [GOOD, {**GOOD, "at": "2026-11-20T08:00:00"}]}).encode(),
        json.dumps({"events": [GOOD, {**GOOD, "at": "9999-01-01T00:00:00+00:00"}]}).encode(),
        json.dumps({"events": [GOOD, {**GOOD, "at": "yesterday"}]}).encode(),
    ],
    ids=["not-json", "not-utf8", "too-deep", "nan", "huge-number", "bare-list", "empty", "events-not-a-list",
         "event-not-an-object", "appid-not-a-string", "empty-openid", "nul-in-openid", "lone-surrogate", "openid-too-long",
         "unknown-event", "at-boolean", "at-fraction", "at-negative", "at-naive", "at-year-9999", "at-words"],
)
def test_a_malformed_batch_is_400_and_refused_whole(client, acc, raw):
    raw = raw.replace(b"wx-set-below", acc.app_id.encode())
    response = post(client, None, raw=raw)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid_input"
    assert nothing_written(acc, 0)  # the good first event was not applied either


def test_the_refusal_names_each_bad_event(client, acc):
    payload = {"events": [event(acc.app_id, "o1"), {"appid": acc.app_id, "event": "subscribe"},
                          event(acc.app_id, "o3", kind="block")]}
    error = post(client, payload).json()["error"]
    assert error["problem_count"] == 2
    assert error["problems"][0].startswith("Event 1: “openid”") and error["problems"][1].startswith("Event 2: “event”")


def test_more_than_1000_events_is_400_and_a_huge_body_is_413(client, acc):
    response = post(client, {"events": [event(acc.app_id, f"o{i}") for i in range(1001)]})
    assert response.status_code == 400 and response.json()["error"]["code"] == "batch_too_large"
    response = post(client, None, raw=b'{"events": ["' + b"x" * (1024 * 1024) + b'"]}')
    assert response.status_code == 413 and response.json()["error"]["code"] == "body_too_large"
    assert nothing_written(acc, 0)


def test_only_post_is_answered(client):
    assert client.get(reverse("follower_events")).status_code == 405
