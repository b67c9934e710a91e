"""End to end with wechatpy itself against a live console while a real Celery worker delivers:
token, send_mass_text to a tag (wechatpy's group_id) and to an openid list, get_mass until
SEND_SUCCESS, delete_mass, tag.get, user.get_followers, and a refusal as wechatpy raises it."""

from __future__ import annotations

import pytest
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from broadcasts.models import Broadcast, ContentRule, InboxMessage
from tests.conftest import wait_for
from tests.factories import make_api_account, make_followers, make_tag

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


class ConsoleWeChatClient(WeChatClient):
    """wechatpy 1.8's client with the console's base URL. Every call reads API_BASE_URL; only
    fetch_access_token has the platform's token URL written in, so it is pointed at the same base
    (the one change an integration makes besides the base URL; see the README)."""

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=self.API_BASE_URL + "token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


def test_wechatpy_sends_follows_and_cancels_targeted_broadcasts(live_server, celery_worker_process):
    account, secret = make_api_account(name="Acme Coffee")
    fans = make_followers(account, 30, prefix="oAcmeCoffee")
    vip = make_tag(account, "vip", fans[:10])
    ContentRule.objects.create(pattern="lottery", action=ContentRule.Action.FLAG)
    client = ConsoleWeChatClient(account.app_id, secret)
    client.API_BASE_URL = live_server.url + "/cgi-bin/"

    assert client.tag.get() == [{"id": vip.pk, "name": "vip", "count": 10}]
    page = client.user.get_followers()
    assert (page["total"], page["count"], page["next_openid"]) == (30, 30, fans[-1].openid)
    assert list(client.user.iter_followers()) == [f.openid for f in fans]

    to_tag = client.message.send_mass_text(vip.pk, "秋季菜单上市 — autumn menu")
    to_list = client.message.send_mass_text([f.openid for f in fans[20:25]], "For five of you", client_msg_id="j-1")
    assert to_tag["errcode"] == 0 and to_tag["errmsg"] == "send job submission success"

    def succeeded(msg_id):
        return client.message.get_mass(msg_id)["msg_status"] == "SEND_SUCCESS"

    for answer in (to_tag, to_list):
        wait_for(lambda a=answer: succeeded(a["msg_id"]), timeout=60, what=f"broadcast {answer['msg_id']} to be sent")
    delivered = set(InboxMessage.objects.filter(broadcast_id=to_tag["msg_id"]).values_list("follower_id", flat=True))
    assert delivered == {f.pk for f in fans[:10]}
    assert InboxMessage.objects.filter(broadcast_id=to_list["msg_id"]).count() == 5

    # A flagged send waits for a reviewer (SENDING); wechatpy cancels it.
    flagged = client.message.send_mass_text(vip.pk, "Join our lottery")
    assert client.message.get_mass(flagged["msg_id"]) == {"msg_id": flagged["msg_id"], "msg_status": "SENDING"}
    assert client.message.delete_mass(flagged["msg_id"])["errcode"] == 0
    assert client.message.get_mass(flagged["msg_id"])["msg_status"] == "DELETE"
    assert Broadcast.objects.get(pk=flagged["msg_id"]).status == "cancelled"

    # A refusal reaches wechatpy as the platform's errcode.
    with pytest.raises(WeChatClientException) as refused:
        client.message.send_mass_text([f.openid for f in fans[:2]], "Again", client_msg_id="j-1")
    assert refused.value.errcode == 45065 and "duplicate_client_msg_id" in refused.value.errmsg
