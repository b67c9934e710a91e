"""Four eyes: nobody who wrote or changed a broadcast's content approves it — not its author, and not
a reviewer who edited the operator's draft before it was submitted."""

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from broadcasts import services
from broadcasts.exceptions import FourEyes
from broadcasts.models import Broadcast
from tests.factories import make_account, make_draft, make_followers, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return {
        "olga": make_user("olga", role="operator"),
        "rita": make_user("rita", role="reviewer"),
        "rob": make_user("rob", role="reviewer"),
    }


@pytest.fixture
def shop():
    account = make_account(name="Acme Coffee")
    make_followers(account, 3)
    return account


def test_a_reviewer_who_edited_the_draft_in_the_admin_cannot_approve_it(client, people, shop):
    b = make_draft(shop, by=people["olga"], title="Autumn menu", body="Pumpkin soup.")
    client.force_login(people["rita"])
    response = client.post(
        reverse("admin:broadcasts_broadcast_change", args=[b.pk]),
        {"title": "Autumn menu", "message_type": "text", "body": "Pumpkin soup. Visit casino.example!",
         "channel": "console", "audience": "all", "_save": "Save"},
    )
    assert response.status_code == 302  # the reviewer group may change broadcasts
    services.submit_broadcast(b, by=people["olga"])

    review = client.get(reverse("admin:broadcasts_broadcast_review", args=[b.pk])).content.decode()
    response = client.post(reverse("admin:broadcasts_broadcast_transition", args=[b.pk, "approve"]), follow=True)

    assert "You changed this broadcast: someone who did not change it must approve it (four eyes)." in review
    assert [str(m) for m in response.context["messages"]] == [
        "“Autumn menu” was edited by rita; someone who did not change its content must approve it (four eyes)."
    ]
    b.refresh_from_db()
    assert b.status == Broadcast.Status.PENDING_REVIEW
    assert not AuditEvent.objects.filter(object_type="broadcast", object_id=b.pk, verb="approved").exists()

    # Another reviewer, who changed nothing, may.
    assert services.approve_broadcast(b, by=people["rob"]).status == Broadcast.Status.APPROVED


def test_an_editor_is_refused_by_the_service_whatever_the_face(people, shop):
    b = make_draft(shop, by=people["olga"])
    services.update_broadcast(b, by=people["rita"], body="Rewritten by the reviewer.")
    services.update_broadcast(b, by=people["olga"], title="Autumn menu (final)")
    services.submit_broadcast(b, by=people["olga"])

    with pytest.raises(FourEyes) as exc:
        services.approve_broadcast(b, by=people["rita"])

    assert exc.value.code == "four_eyes"
    with pytest.raises(FourEyes):
        services.approve_broadcast(b, by=people["olga"])  # the author, as before
    assert services.approve_broadcast(b, by=people["rob"]).reviewed_by == people["rob"]


def test_opening_a_draft_without_saving_a_change_leaves_the_reviewer_free_to_approve(client, people, shop):
    b = make_draft(shop, by=people["olga"], title="Autumn menu", body="Pumpkin soup.")
    client.force_login(people["rita"])
    client.post(
        reverse("admin:broadcasts_broadcast_change", args=[b.pk]),
        {"title": "Autumn menu", "message_type": "text", "body": "Pumpkin soup.", "channel": "console",
         "audience": "all", "_save": "Save"},
    )
    services.submit_broadcast(b, by=people["olga"])

    assert services.approve_broadcast(b, by=people["rita"]).status == Broadcast.Status.APPROVED
