"""Unfollows reach the history (FollowerEvent) from every source R8 names: the admin's actions
(through the same rule as the platform's events), audited; the platform intake has its own tests."""

import pytest

from accounts.models import AuditEvent, Follower, FollowerEvent
from tests.factories import make_account, make_followers, make_user

pytestmark = pytest.mark.django_db


def test_ops_mark_followers_unfollowed_and_following_again_from_the_admin(client):
    operator = make_user("olga", role="operator")
    account = make_account()
    a, b = make_followers(account, 2)
    client.force_login(operator)
    url = "/admin/accounts/follower/"
    answer = client.post(url, {"action": "mark_unfollowed", "_selected_action": [a.pk, b.pk]}, follow=True)
    assert "2 of 2 followers changed" in answer.content.decode()
    assert not Follower.objects.filter(pk__in=[a.pk, b.pk], subscribed=True).exists()
    assert FollowerEvent.objects.filter(follower__in=[a, b], kind="unsubscribe").count() == 2
    answer = client.post(url, {"action": "mark_unfollowed", "_selected_action": [a.pk]}, follow=True)
    assert "0 of 1 follower changed" in answer.content.decode()  # unfollowing an unfollowed follower: nothing
    client.post(url, {"action": "mark_following", "_selected_action": [a.pk]})
    a.refresh_from_db()
    assert a.subscribed and a.unsubscribed_at is not None
    kinds = list(FollowerEvent.objects.filter(follower=a).order_by("at").values_list("kind", flat=True))
    assert kinds == ["unsubscribe", "subscribe"]
    notes = AuditEvent.objects.filter(object_type="follower", object_id=a.pk, by=operator).values_list("note", flat=True)
    assert sorted(notes) == ["marked as following again by ops", "marked as unfollowed by ops"]


def test_an_auditor_cannot_mark_followers(client):
    account = make_account()
    (a,) = make_followers(account, 1)
    client.force_login(make_user("audrey", role="auditor"))
    client.post("/admin/accounts/follower/", {"action": "mark_unfollowed", "_selected_action": [a.pk]})
    a.refresh_from_db()
    assert a.subscribed and not FollowerEvent.objects.filter(follower=a).exists()
