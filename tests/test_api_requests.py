"""What a caller sends, as the SDKs send it and as nobody should: JSON without a JSON Content-Type,
unescaped UTF-8, unknown keys; bad JSON, wrong types, oversize bodies, wrong methods (refused with
the platform's codes, nothing written, never a 500); and the per-account throttles."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent
from broadcasts.models import Broadcast
from tests.api import refused, text
from tests.factories import make_api_account, make_followers, make_tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(api):
    account, secret = make_api_account(name="Acme")
    tag = make_tag(account, "vip", make_followers(account, 2))
    return account, tag, api.token(account.app_id, secret)


def written() -> tuple[int, int]:
    return Broadcast.objects.count(), AuditEvent.objects.count()


@pytest.mark.parametrize("content_type", ["", "text/plain", "application/x-www-form-urlencoded", "application/json"])
def test_a_json_body_is_read_whatever_its_content_type(api, acme, content_type):
    account, tag, token = acme
    body = text("秋天到了 — 新品上市", filter={"tag_id": tag.pk}, send_ignore_reprint=1, unknown_key={"x": [1]})

    answer = api.post("message/mass/sendall", body, token, content_type=content_type)

    assert answer["errcode"] == 0, answer
    assert Broadcast.objects.get(pk=answer["msg_id"]).body == "秋天到了 — 新品上市"


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b'{"msgtype": "text", "text": {"content": "a"}',
        b"\xff\xfe{}",
        b"[1, 2]",
        b"",
        b"null",
        b'{"msgtype": "text", "text": {"content": NaN}}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"msgtype": {"type": "text"}, "text": {"content": "a"}, "filter": {"tag_id": 1}}',
        b'{"msgtype": "text", "text": "a", "filter": {"tag_id": 1}}',
        b'{"msgtype": "text", "text": {"content": "a"}, "filter": {"tag_id": "seven"}}',
        b'{"msgtype": "text", "text": {"content": "a"}, "filter": {"tag_id": 99999999999999999999999}}',
        b'{"msgtype": "text", "text": {"content": "a"}, "filter": {"is_to_all": "maybe"}}',
        b'{"msgtype": "text", "text": {"content": "a\\u0000b"}, "filter": {"is_to_all": true}}',
        b'{"msgtype": "text", "text": {"content": "\\ud800"}, "filter": {"is_to_all": true}}',
        b'{"msgtype": "text", "text": {"content": "a"}, "clientmsgid": ["x"], "filter": {"is_to_all": true}}',
    ],
)
def test_a_body_that_is_not_the_endpoints_shape_is_refused_and_writes_nothing(api, acme, raw):
    token = acme[2]
    before = written()

    assert refused(api.post("message/mass/sendall", raw, token), 47001, "invalid_request")
    assert written() == before


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("message/mass/send", b'{"msgtype": "text", "text": {"content": "a"}, "touser": "o-1"}'),
        ("message/mass/send", b'{"msgtype": "text", "text": {"content": "a"}, "touser": [1, {"a": 2}]}'),
        ("message/mass/get", b'{"msg_id": -1}'),
        ("message/mass/get", b'{"msg_id": 1e400}'),
        ("message/mass/delete", b'{"msg_id": "12; DROP TABLE"}'),
        ("message/mass/preview", b'{"msgtype": "text", "text": {"content": "a"}, "touser": ["o"]}'),
    ],
)
def test_wrong_types_on_every_endpoint_are_refused(api, acme, path, raw):
    before = written()

    assert refused(api.post(path, raw, acme[2]), 47001, "invalid_request")
    assert written() == before


def test_an_oversize_body_is_refused_before_it_is_parsed(api, acme, settings):
    settings.API_MAX_BODY_BYTES = 1000
    account, tag, token = acme

    answer = api.post("message/mass/sendall", text("x" * 1000, filter={"tag_id": tag.pk}), token)

    assert refused(answer, 47001, "invalid_request") and "larger than 1000 bytes" in answer["errmsg"]
    assert written() == (0, AuditEvent.objects.count())


def test_wrong_methods_answer_the_platforms_codes(client, acme):
    token = acme[2]

    assert refused(client.get(f"/cgi-bin/message/mass/sendall?access_token={token}").json(), 43002, "requires_post")
    assert refused(client.post(f"/cgi-bin/tags/get?access_token={token}").json(), 43001, "requires_get")


def test_an_accept_header_it_cannot_meet_still_gets_json(client, acme):
    response = client.get(f"/cgi-bin/tags/get?access_token={acme[2]}", HTTP_ACCEPT="text/html")

    assert response.status_code == 200 and response.json()["tags"][0]["name"] == "vip"


# --- throttles ----------------------------------------------------------------------------------


def test_an_account_over_its_minute_rate_gets_45011_and_others_do_not_notice(api, acme, settings):
    settings.API_RATE_PER_MINUTE = 3
    other, secret = make_api_account(name="Other")
    other_token = api.token(other.app_id, secret)
    token = acme[2]

    answers = [api.get("tags/get", token) for _ in range(4)]

    assert all("tags" in a for a in answers[:3])
    assert refused(answers[3], 45011, "rate_limited_minute")
    assert api.get("tags/get", other_token) == {"tags": []}


def test_an_account_over_its_daily_rate_gets_45009(api, acme, settings):
    settings.API_RATE_PER_DAY = 2
    token = acme[2]

    api.get("tags/get", token)
    api.post("message/mass/get", {"msg_id": 1}, token)

    assert refused(api.get("tags/get", token), 45009, "rate_limited_day")
    assert refused(api.post("message/mass/sendall", text("x", filter={"is_to_all": True}), token), 45009,
                   "rate_limited_day")
    assert written() == (0, AuditEvent.objects.count())
