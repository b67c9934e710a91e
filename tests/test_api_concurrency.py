"""The 24-hour clientmsgid rule under concurrent requests: eight callers sending the same
clientmsgid at the same moment make one broadcast; the other seven are told its msg_id (45065)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from broadcasts.models import Broadcast, QuotaReservation
from tests.api import Platform, refused, text
from tests.factories import make_api_account, make_followers

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CALLERS = 8


def send_together(body: dict, token: str) -> list[dict]:
    """POST `body` to sendall from CALLERS threads released at once, each with its own connection."""
    start = threading.Barrier(CALLERS)
    answers: list[dict] = []

    def call():
        try:
            api = Platform(Client())
            start.wait()
            answers.append(api.post("message/mass/sendall", body, token))
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(CALLERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return answers


@pytest.mark.parametrize("clientmsgid", ["campaign-2026-11", None])
def test_the_same_clientmsgid_from_eight_callers_at_once_makes_one_broadcast(clientmsgid):
    account, secret = make_api_account(name="Acme")
    make_followers(account, 3)
    token = Platform(Client()).token(account.app_id, secret)
    body = text("Autumn menu", filter={"is_to_all": True}, clientmsgid=clientmsgid)

    answers = send_together(body, token)

    assert len(answers) == CALLERS
    made = [a for a in answers if a["errcode"] == 0]
    assert len(made) == 1, answers
    b = Broadcast.objects.get(account=account)
    assert made[0]["msg_id"] == b.pk and b.status == "approved"
    duplicates = [a for a in answers if a["errcode"] != 0]
    assert all(refused(a, 45065, "duplicate_client_msg_id") and a["msg_id"] == b.pk for a in duplicates)
    assert QuotaReservation.objects.filter(account=account).count() == 1  # one slot of the account quota
