"""Sending through the advanced mass interface: sendall (to all, to a tag; wechatpy's group_id),
send to a list of openids, the rules behind them (R3a, R4, moderation, the system as approver
with the credential in the audit trail), the 24-hour clientmsgid rule, and each refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accounts.models import AuditEvent, OfficialAccount
from broadcasts.models import Broadcast, ContentRule, QuotaReservation, Violation
from broadcasts.selectors import audience_size
from tests.api import refused, text
from tests.factories import make_account, make_api_account, make_followers, make_tag

pytestmark = pytest.mark.django_db

SENT = {"errcode": 0, "errmsg": "send job submission success"}


@pytest.fixture
def acme(api):
    """A certified service account with 5 followers, a tag `vip` of the first 3, and a token."""
    account, secret = make_api_account(name="Acme")
    fans = make_followers(account, 5)
    tag = make_tag(account, "vip", fans[:3])
    return account, fans, tag, api.token(account.app_id, secret)


def written() -> tuple[int, int, int]:
    """What a refused send must not have changed: broadcasts, audit rows, quota slots."""
    return Broadcast.objects.count(), AuditEvent.objects.count(), QuotaReservation.objects.count()


def test_sendall_to_a_tag_is_approved_by_the_system_and_names_the_credential(api, acme):
    account, fans, tag, token = acme

    answer = api.post("message/mass/sendall", text("Autumn menu 秋季菜单", filter={"is_to_all": False, "tag_id": tag.pk},
                                                  send_ignore_reprint=0), token)

    assert {k: answer[k] for k in SENT} == SENT
    b = Broadcast.objects.get(pk=answer["msg_id"])
    assert (b.account, b.channel, b.audience, b.tag, b.status) == (account, "api", "tag", tag, "approved")
    assert (b.body, b.created_by, b.reviewed_by) == ("Autumn menu 秋季菜单", None, None)
    assert b.title == "API: Autumn menu 秋季菜单"
    assert not QuotaReservation.objects.filter(broadcast=b).exists()  # R3a: a tag send has no account count
    approved = AuditEvent.objects.get(object_id=b.pk, object_type="broadcast", verb="approved")
    assert approved.by is None and f"API credential of {account.app_id}" in approved.note
    assert api.post("message/mass/get", {"msg_id": b.pk}, token) == {"msg_id": b.pk, "msg_status": "SENDING"}


def test_wechatpys_group_id_is_the_tag_id(api, acme):
    account, fans, tag, token = acme

    answer = api.post("message/mass/sendall", text("Hi", filter={"group_id": tag.pk, "is_to_all": False}), token)

    assert Broadcast.objects.get(pk=answer["msg_id"]).tag == tag


def test_a_send_to_all_counts_against_the_account_quota(api, acme):
    account, fans, tag, token = acme
    for n in range(4):  # service accounts: 4 per calendar month (the seeded policy)
        answer = api.post("message/mass/sendall", text(f"News {n}", filter={"is_to_all": True}), token)
        assert answer["errcode"] == 0, answer
    assert QuotaReservation.objects.filter(account=account).count() == 4
    before = written()

    answer = api.post("message/mass/sendall", text("News 5", filter={"is_to_all": True}), token)

    assert refused(answer, 45028, "quota_exceeded") and "has used 4 of 4" in answer["errmsg"]
    assert written() == before
    # Targeted sends meet the follower cap alone (R3a).
    assert api.post("message/mass/sendall", text("VIP news", filter={"tag_id": tag.pk}), token)["errcode"] == 0


def test_send_to_a_list_of_openids(api, acme):
    account, fans, tag, token = acme

    answer = api.post("message/mass/send", text("For you", touser=[f.openid for f in fans[1:4]]), token)

    b = Broadcast.objects.get(pk=answer["msg_id"])
    assert (b.audience, b.status) == ("followers", "approved")
    assert sorted(b.recipients.values_list("pk", flat=True)) == [f.pk for f in fans[1:4]]


@pytest.mark.parametrize(
    ("touser", "errcode", "code"),
    [
        (["one"], 90014, "invalid_audience"),
        (["o-x", "o-y"], 40003, "follower_not_found"),
    ],
)
def test_send_to_a_list_refusals(api, acme, touser, errcode, code):
    account, fans, tag, token = acme
    touser = [fans[0].openid] if touser == ["one"] else touser
    before = written()

    assert refused(api.post("message/mass/send", text("Hi", touser=touser), token), errcode, code)
    assert written() == before


def test_a_list_naming_an_unknown_openid_is_refused_naming_it(api, acme):
    account, fans, tag, token = acme
    before = written()

    answer = api.post("message/mass/send", text("Hi", touser=[fans[0].openid, fans[1].openid, "o-nobody"]), token)

    assert refused(answer, 40003, "follower_not_found")
    assert "1 of the 3 listed openids is not a follower of Acme: “o-nobody”" in answer["errmsg"]
    assert written() == before


def test_a_follower_who_unfollowed_is_accepted_in_a_list_and_skipped_at_delivery(api, acme):
    """An integration sends to a list it kept; one follower left meanwhile: the send is not refused
    (as on the platform), and that follower is not in the audience (sql.audience: subscribed only)."""
    account, fans, tag, token = acme
    fans[2].subscribed = False
    fans[2].save(update_fields=["subscribed"])

    answer = api.post("message/mass/send", text("Hi", touser=[f.openid for f in fans[:3]]), token)

    assert answer["errcode"] == 0
    b = Broadcast.objects.get(pk=answer["msg_id"])
    assert b.recipients.count() == 3
    assert audience_size(b) == 2


def test_a_list_of_more_than_10000_is_refused(api, acme):
    account, fans, tag, token = acme
    many = make_followers(account, 10_001, prefix="m")

    answer = api.post("message/mass/send", text("Hi", touser=[f.openid for f in many]), token)

    assert refused(answer, 90014, "invalid_audience") and "this one has 10,001" in answer["errmsg"]


def test_another_accounts_tag_and_followers_are_not_found(api, acme):
    account, fans, tag, token = acme
    other = make_account(name="Other", certified=True)
    their_fans = make_followers(other, 2)
    their_tag = make_tag(other, "theirs", their_fans)

    assert refused(api.post("message/mass/sendall", text("x", filter={"tag_id": their_tag.pk}), token),
                   45159, "tag_not_found")
    assert refused(api.post("message/mass/send", text("x", touser=[f.openid for f in their_fans]), token),
                   40003, "follower_not_found")


@pytest.mark.parametrize(
    ("overrides", "errcode"),
    [({"kind": OfficialAccount.Kind.SUBSCRIPTION, "certified": False}, 48001), ({"certified": False}, 48001)],
)
def test_the_interface_is_open_only_to_certified_service_accounts(api, overrides, errcode):
    account, secret = make_api_account(**overrides)
    make_tag(account, "t", make_followers(account, 2))
    token = api.token(account.app_id, secret)
    before = written()

    answer = api.post("message/mass/sendall", text("Hi", filter={"is_to_all": True}), token)

    assert refused(answer, errcode, "certification_required")
    assert written() == before


@pytest.mark.parametrize(
    ("body", "errcode", "code"),
    [
        ({"msgtype": "mpnews", "mpnews": {"media_id": "abc"}}, 40007, "invalid_media_id"),
        ({"msgtype": "image", "image": {"media_id": "abc"}}, 40007, "invalid_media_id"),
        ({"msgtype": "wxcard", "wxcard": {"card_id": "abc"}}, 40008, "invalid_message_type"),
        ({"msgtype": "text", "text": {"content": "  "}}, 90015, "invalid_content"),
        ({"msgtype": "text", "text": {"content": "Hi"}, "filter": {"is_to_all": False}}, 90014, "invalid_audience"),
    ],
)
def test_message_refusals(api, acme, body, errcode, code):
    account, fans, tag, token = acme
    body = {"filter": {"tag_id": tag.pk}, **body}

    assert refused(api.post("message/mass/sendall", body, token), errcode, code)


def test_a_blocked_send_is_refused_and_kept_as_a_rejected_broadcast_with_its_violation(api, acme):
    account, fans, tag, token = acme
    ContentRule.objects.create(pattern="casino", action=ContentRule.Action.BLOCK, points=10)

    answer = api.post("message/mass/sendall", text("Win at the casino", filter={"tag_id": tag.pk}), token)

    assert refused(answer, 90013, "content_blocked")
    b = Broadcast.objects.get(account=account)
    assert (b.status, b.channel) == ("rejected", "api")
    assert Violation.objects.get(account=account).broadcast == b
    assert api.post("message/mass/get", {"msg_id": b.pk}, token)["msg_status"] == "SEND_FAIL"


def test_a_flagged_send_waits_for_a_reviewer_and_reads_as_sending(api, acme):
    account, fans, tag, token = acme
    ContentRule.objects.create(pattern="discount", action=ContentRule.Action.FLAG)

    answer = api.post("message/mass/sendall", text("A discount for you", filter={"tag_id": tag.pk}), token)

    b = Broadcast.objects.get(pk=answer["msg_id"])
    assert b.status == "pending_review" and b.findings
    assert api.post("message/mass/get", {"msg_id": b.pk}, token)["msg_status"] == "SENDING"


# --- the 24-hour clientmsgid rule -----------------------------------------------------------------


def test_a_repeated_clientmsgid_makes_nothing_and_names_the_first_broadcast(api, acme):
    account, fans, tag, token = acme
    first = api.post("message/mass/sendall", text("Hi", filter={"tag_id": tag.pk}, clientmsgid="job-1"), token)
    before = written()

    again = api.post("message/mass/sendall", text("Other", filter={"is_to_all": True}, clientmsgid="job-1"), token)

    assert refused(again, 45065, "duplicate_client_msg_id") and again["msg_id"] == first["msg_id"]
    assert written() == before


def test_after_24_hours_the_same_clientmsgid_starts_a_new_broadcast(api, acme):
    account, fans, tag, token = acme
    first = api.post("message/mass/sendall", text("Hi", filter={"tag_id": tag.pk}, clientmsgid="job-1"), token)
    Broadcast.objects.filter(pk=first["msg_id"]).update(created_at=Broadcast.objects.get(pk=first["msg_id"]).created_at
                                                        - timedelta(hours=24, seconds=1))

    again = api.post("message/mass/sendall", text("Hi", filter={"tag_id": tag.pk}, clientmsgid="job-1"), token)

    assert again["errcode"] == 0 and again["msg_id"] != first["msg_id"]


def test_without_a_clientmsgid_the_same_message_to_the_same_audience_is_a_duplicate(api, acme):
    account, fans, tag, token = acme
    openids = [f.openid for f in fans[:2]]
    first = api.post("message/mass/send", text("Hi", touser=openids), token)

    assert refused(api.post("message/mass/send", text("Hi", touser=openids[::-1]), token), 45065,
                   "duplicate_client_msg_id")
    assert api.post("message/mass/send", text("Hi again", touser=openids), token)["errcode"] == 0
    assert api.post("message/mass/send", text("Hi", touser=[f.openid for f in fans[1:3]]), token)["errcode"] == 0
    assert Broadcast.objects.get(pk=first["msg_id"]).client_msg_id.startswith("digest:")


@pytest.mark.parametrize("clientmsgid", ["x" * 65, "群" * 22])  # 65 bytes; 66 bytes in 22 characters
def test_a_clientmsgid_over_64_bytes_is_refused(api, acme, clientmsgid):
    account, fans, tag, token = acme

    answer = api.post("message/mass/sendall", text("Hi", filter={"tag_id": tag.pk}, clientmsgid=clientmsgid), token)

    assert refused(answer, 45067, "client_msg_id_too_long")
    assert api.post("message/mass/sendall", text("Hi", filter={"tag_id": tag.pk}, clientmsgid="x" * 64),
                    token)["errcode"] == 0


@pytest.mark.parametrize("value", ["yes", "true", 1, "1", None])
def test_is_to_all_takes_only_a_json_boolean(api, acme, value):
    """A send to every follower is never guessed from "yes" or 1 (47001, nothing written)."""
    account, fans, tag, token = acme
    before = written()
    answer = api.post("message/mass/sendall", text("Hi", filter={"is_to_all": value, "tag_id": tag.pk}), token)
    assert refused(answer, 47001, "invalid_request") and written() == before
