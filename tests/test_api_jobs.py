"""After a send: mass/get (the platform's job statuses), mass/delete (cancel what has not finished),
mass/preview (one message, no broadcast, outside quotas), and another account's ids "not found"."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent
from broadcasts import services
from broadcasts.models import Broadcast, ContentRule, PreviewMessage, QuotaReservation
from tests.api import refused, text
from tests.factories import deliver_all, make_api_account, make_approved, make_followers, make_tag, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(api):
    account, secret = make_api_account(name="Acme")
    fans = make_followers(account, 3)
    return account, fans, make_tag(account, "vip", fans), api.token(account.app_id, secret)


def send(api, acme, content: str = "Hi") -> Broadcast:
    account, fans, tag, token = acme
    answer = api.post("message/mass/sendall", text(content, filter={"tag_id": tag.pk}), token)
    return Broadcast.objects.get(pk=answer["msg_id"])


def status(api, token, b) -> str:
    return api.post("message/mass/get", {"msg_id": b.pk}, token)["msg_status"]


def test_mass_get_follows_the_broadcast_from_sending_to_success(api, acme):
    b = send(api, acme)
    token = acme[3]
    assert status(api, token, b) == "SENDING"

    services.dispatch_due_broadcasts()
    assert status(api, token, b) == "SENDING"
    deliver_all(b)

    assert b.status == "sent" and b.sent_count == 3
    assert status(api, token, b) == "SEND_SUCCESS"


def test_mass_get_takes_the_msg_id_as_a_string_too(api, acme):
    b = send(api, acme)

    assert api.post("message/mass/get", {"msg_id": str(b.pk)}, acme[3]) == {"msg_id": b.pk, "msg_status": "SENDING"}


def test_mass_delete_cancels_a_broadcast_that_has_not_finished(api, acme):
    b = send(api, acme)
    token = acme[3]

    assert api.post("message/mass/delete", {"msg_id": b.pk}, token) == {"errcode": 0, "errmsg": "ok"}

    b.refresh_from_db()
    assert b.status == "cancelled"
    cancelled = AuditEvent.objects.get(object_id=b.pk, object_type="broadcast", verb="cancelled")
    assert cancelled.by is None and "API credential of" in cancelled.note
    assert status(api, token, b) == "DELETE"
    assert refused(api.post("message/mass/delete", {"msg_id": b.pk}, token), 90001, "invalid_state")


def test_another_accounts_or_a_console_broadcast_is_not_found(api, acme):
    account, fans, tag, token = acme
    other, other_secret = make_api_account(name="Other")
    make_tag(other, "t", make_followers(other, 2))
    theirs = send(api, (other, None, other.tags.get(), api.token(other.app_id, other_secret)))
    console = make_approved(account)

    for b in (theirs, console):
        for path in ("message/mass/get", "message/mass/delete"):
            assert refused(api.post(path, {"msg_id": b.pk}, token), 90016, "broadcast_not_found")
    theirs.refresh_from_db()
    assert theirs.status == "approved"
    assert refused(api.post("message/mass/get", {"msg_id": 10**12}, token), 90016, "broadcast_not_found")


# --- preview ------------------------------------------------------------------------------------------


def test_a_preview_reaches_one_follower_outside_quotas_and_is_no_broadcast(api, acme):
    account, fans, tag, token = acme
    before = Broadcast.objects.count(), QuotaReservation.objects.count()

    answer = api.post("message/mass/preview", text("Preview 预览", touser=fans[0].openid), token)

    assert (answer["errcode"], answer["errmsg"]) == (0, "preview success")
    preview = PreviewMessage.objects.get(pk=answer["msg_id"])
    assert (preview.account, preview.follower, preview.body) == (account, fans[0], "Preview 预览")
    assert (Broadcast.objects.count(), QuotaReservation.objects.count()) == before
    event = AuditEvent.objects.get(verb="previewed")
    assert event.by is None and "API credential of" in event.note


@pytest.mark.parametrize(
    ("body", "errcode", "code"),
    [
        ({"towxname": "some-wechat-id"}, 90017, "preview_target_unsupported"),
        ({"touser": "o-not-a-follower"}, 40003, "follower_not_found"),
        ({"touser": "FAN", "msgtype": "image", "image": {"media_id": "m"}}, 40007, "invalid_media_id"),
    ],
)
def test_preview_refusals(api, acme, body, errcode, code):
    account, fans, tag, token = acme
    body = {k: fans[0].openid if v == "FAN" else v for k, v in body.items()}

    answer = api.post("message/mass/preview", {**text("Preview"), **body}, token)

    assert refused(answer, errcode, code)
    assert not PreviewMessage.objects.exists()


def test_a_preview_with_blocked_content_is_refused(api, acme):
    account, fans, tag, token = acme
    ContentRule.objects.create(pattern="casino", action=ContentRule.Action.BLOCK)

    answer = api.post("message/mass/preview", text("casino night", touser=fans[0].openid), token)

    assert refused(answer, 90013, "content_blocked")
    assert not PreviewMessage.objects.exists()


def test_an_uncertified_account_may_not_preview(api):
    account, secret = make_api_account(certified=False)
    fan = make_followers(account, 1)[0]

    answer = api.post("message/mass/preview", text("Hi", touser=fan.openid), api.token(account.app_id, secret))

    assert refused(answer, 48001, "certification_required")


def test_ops_see_previews_in_the_admin(api, acme, client):
    account, fans, tag, token = acme
    api.post("message/mass/preview", text("Preview for the boss", touser=fans[1].openid), token)
    client.force_login(make_user("audrey", role="auditor"))

    page = client.get(f"/admin/broadcasts/previewmessage/?account_id={account.pk}").content.decode()

    assert "Preview for the boss" in page and fans[1].openid in page
