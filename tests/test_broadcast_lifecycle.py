"""Draft -> pending review -> approved / rejected / cancelled / rescheduled, with the refusals of each step."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent, OfficialAccount
from accounts.services import suspend_account
from broadcasts import services
from broadcasts.exceptions import (
    AccountSuspended,
    FourEyes,
    InvalidAudience,
    InvalidContent,
    InvalidState,
    QuotaExceeded,
    ReasonRequired,
    SendTimePast,
)
from broadcasts.models import Broadcast, QuotaReservation
from operator_console.platform_time import format_moment
from tests.factories import local, make_account, make_approved, make_draft, make_followers, make_pending, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def author():
    return make_user("olga")


@pytest.fixture
def reviewer():
    return make_user("rita")


@pytest.fixture
def acc():
    return make_account(name="Acme")


@pytest.fixture
def daily():
    """A subscription account: one broadcast a calendar day, so one slot decides everything."""
    return make_account(name="Daily Digest", kind=OfficialAccount.Kind.SUBSCRIPTION)


def events(b):
    return list(
        AuditEvent.objects.filter(object_type="broadcast", object_id=b.pk).order_by("id").values_list("verb", "by__username")
    )


# --- create and edit ---


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"title": "  "}, "needs a title"),
        ({"message_type": "text", "body": ""}, "text message needs a body"),
        ({"message_type": "article", "url": ""}, "article message needs the article's link"),
        ({"message_type": "image", "cover_url": ""}, "image message needs the image's link"),
        ({"message_type": "article", "url": "javascript:alert(1)"}, "not a valid http(s) address"),
        ({"message_type": "video"}, "Unknown message type “video”"),
    ],
)
def test_create_refuses_invalid_content(acc, author, overrides, words):
    with pytest.raises(InvalidContent) as exc:
        make_draft(acc, by=author, **overrides)
    assert exc.value.code == "invalid_content"
    assert words in str(exc.value)
    assert not Broadcast.objects.exists()


def test_create_stores_a_draft_and_audits_it(acc, author):
    b = make_draft(acc, by=author, title="Autumn menu", message_type="article", url="https://acme.example/autumn",
                   cover_url="https://cdn.acme.example/a.jpg")
    assert (b.status, b.created_by, b.title) == (Broadcast.Status.DRAFT, author, "Autumn menu")
    assert events(b) == [("created", "olga")]


def test_tag_audience_needs_a_tag_of_the_same_account(acc, author):
    other_tag = make_account(name="Other").tags.create(name="vip")
    with pytest.raises(InvalidAudience, match="needs a tag"):
        make_draft(acc, by=author, audience="tag")
    with pytest.raises(InvalidAudience, match="belongs to another account, not Acme"):
        make_draft(acc, by=author, audience="tag", tag=other_tag)
    with pytest.raises(InvalidAudience, match="Only a tag audience takes a tag"):
        make_draft(acc, by=author, audience="all", tag=acc.tags.create(name="vip"))


def test_follower_list_holds_2_to_10000_followers_of_the_account_on_the_api_channel(acc, author):
    fans = make_followers(acc, 10_001)
    with pytest.raises(InvalidAudience) as exc:
        make_draft(acc, by=author, channel="api", audience="followers", recipients=fans[:1])
    assert str(exc.value) == "A follower list holds 2 to 10,000 followers; this one has 1."
    with pytest.raises(InvalidAudience, match="this one has 10,001"):
        make_draft(acc, by=author, channel="api", audience="followers", recipients=fans)
    with pytest.raises(InvalidAudience, match="only be sent through the advanced mass interface"):
        make_draft(acc, by=author, channel="console", audience="followers", recipients=fans[:2])
    stranger = make_followers(make_account(name="Other"), 1, prefix="x")[0]
    with pytest.raises(InvalidAudience, match="1 of the 2 listed followers does not follow Acme"):
        make_draft(acc, by=author, channel="api", audience="followers", recipients=[fans[0], stranger])

    b = make_draft(acc, by=author, channel="api", audience="followers", recipients=[fans[0].pk, fans[1]])
    assert sorted(b.recipients.values_list("pk", flat=True)) == [fans[0].pk, fans[1].pk]


def test_repeated_client_msg_id_returns_the_existing_broadcast(acc, author):
    first = make_draft(acc, by=author, title="Sale", client_msg_id="req-42")
    again = make_draft(acc, by=author, title="Sale (retry)", client_msg_id="req-42")
    assert again.pk == first.pk and again.title == "Sale"
    assert Broadcast.objects.filter(account=acc).count() == 1
    elsewhere = make_draft(make_account(name="Other"), by=author, client_msg_id="req-42")
    assert elsewhere.pk != first.pk


def test_update_edits_drafts_only(acc, author):
    b = make_draft(acc, by=author)
    tag = acc.tags.create(name="vip")
    b = services.update_broadcast(b, by=author, title="Better title", audience="tag", tag=tag)
    assert (b.title, b.audience, b.tag) == ("Better title", "tag", tag)
    b = services.update_broadcast(b, by=author, audience="all")
    assert b.tag is None  # leaving the tag audience drops the tag
    with pytest.raises(InvalidContent) as exc:
        services.update_broadcast(b, by=author, body="")
    assert exc.value.context["field"] == "body"  # the admin form shows it next to the field
    # Account and client message id are fixed at creation; repeating them is harmless.
    b = services.update_broadcast(b, by=author, account=acc, client_msg_id=None, body="Still here")
    with pytest.raises(InvalidContent, match="client message id of a broadcast cannot be changed"):
        services.update_broadcast(b, by=author, client_msg_id="new-id")
    with pytest.raises(InvalidContent, match="account of a broadcast cannot be changed"):
        services.update_broadcast(b, by=author, account=make_account(name="Other"))
    services.submit_broadcast(b, by=author)
    with pytest.raises(InvalidState, match="Only drafts can be edited"):
        services.update_broadcast(b, by=author, title="Too late")


# --- submit and approve ---


def test_submit_queues_for_review(acc, author):
    b = services.submit_broadcast(make_draft(acc, by=author), by=author)
    assert b.status == Broadcast.Status.PENDING_REVIEW and b.submitted_at is not None
    with pytest.raises(InvalidState, match="Only drafts can be submitted"):
        services.submit_broadcast(b, by=author)


def test_approve_records_reviewer_time_slot_and_audit(acc, author, reviewer):
    b = make_pending(acc, by=author)
    send_at = timezone.now() + timedelta(days=3)
    b = services.approve_broadcast(b, by=reviewer, send_at=send_at)
    assert (b.status, b.reviewed_by, b.scheduled_at) == (Broadcast.Status.APPROVED, reviewer, send_at)
    assert b.reviewed_at is not None
    assert b.reservation.slot == 1
    assert events(b)[-1] == ("approved", "rita")


def test_a_send_time_just_past_means_now(acc, author, reviewer):
    b = services.approve_broadcast(make_pending(acc, by=author), by=reviewer, send_at=timezone.now() - timedelta(minutes=2))
    assert abs(b.scheduled_at - timezone.now()) < timedelta(minutes=1)


def test_a_send_time_clearly_past_is_refused_at_approval_and_reschedule(acc, author, reviewer):
    """A typo in the year (2025 for 2026) used to send at once."""
    b = make_pending(acc, by=author)
    typo = timezone.now() - timedelta(days=365)
    with pytest.raises(SendTimePast) as exc:
        services.approve_broadcast(b, by=reviewer, send_at=typo)
    assert exc.value.code == "send_time_past"
    assert str(exc.value) == (
        f"The send time {format_moment(typo)} is more than 5 minutes in the past; check the date, "
        "or leave the send time empty to send now."
    )
    b.refresh_from_db()
    assert b.status == Broadcast.Status.PENDING_REVIEW and not QuotaReservation.objects.exists()

    later = timezone.now() + timedelta(days=1)
    b = services.approve_broadcast(b, by=reviewer, send_at=later)
    with pytest.raises(SendTimePast, match="in the past; check the date"):
        services.reschedule_broadcast(b, by=reviewer, send_at=timezone.now() - services.SEND_TIME_GRACE - timedelta(minutes=1))
    b.refresh_from_db()
    assert b.scheduled_at == later


def test_author_cannot_approve_own_broadcast(acc, author):
    b = make_pending(acc, by=author, title="Self-service")
    with pytest.raises(FourEyes) as exc:
        services.approve_broadcast(b, by=author)
    assert exc.value.code == "four_eyes"
    assert str(exc.value) == "“Self-service” was written by olga; another reviewer must approve it (four eyes)."


def test_only_pending_broadcasts_can_be_approved(acc, author, reviewer):
    b = make_draft(acc, by=author, title="Unsubmitted")
    with pytest.raises(InvalidState) as exc:
        services.approve_broadcast(b, by=reviewer)
    assert exc.value.code == "invalid_state"
    assert str(exc.value) == "Only broadcasts pending review can be approved; “Unsubmitted” is draft."


def test_suspended_account_cannot_be_approved_until_the_suspension_ends(acc, author, reviewer):
    b = make_pending(acc, by=author)
    until = timezone.now() + timedelta(days=2)
    suspend_account(acc, by=reviewer, until=until, reason="spam complaints")
    with pytest.raises(AccountSuspended) as exc:
        services.approve_broadcast(b, by=reviewer)
    assert exc.value.code == "account_suspended"
    assert str(exc.value).startswith("Service account Acme is suspended until ")
    assert "(Asia/Shanghai), reason: spam complaints; it cannot broadcast at " in str(exc.value)
    # A send time after the suspension has run out is fine.
    b = services.approve_broadcast(b, by=reviewer, send_at=until + timedelta(hours=1))
    assert b.status == Broadcast.Status.APPROVED


# --- reject, cancel, reschedule give slots back or move them ---


def test_reject_needs_a_reason_and_gives_the_slot_back(daily, author, reviewer):
    day = local(2031, 6, 1, 10)
    b = make_approved(daily, by=author, reviewer=reviewer, send_at=day)
    with pytest.raises(ReasonRequired):
        services.reject_broadcast(b, by=reviewer, reason="  ")
    b = services.reject_broadcast(b, by=reviewer, reason="Wrong date in the headline")
    assert (b.status, b.review_note) == (Broadcast.Status.REJECTED, "Wrong date in the headline")
    assert not QuotaReservation.objects.filter(broadcast=b).exists()
    assert make_approved(daily, by=author, reviewer=reviewer, send_at=day).status == Broadcast.Status.APPROVED
    with pytest.raises(InvalidState):
        services.reject_broadcast(b, by=reviewer, reason="again")


def test_cancel_before_sending_gives_the_slot_back(daily, author, reviewer):
    day = local(2031, 6, 2, 10)
    b = services.cancel_broadcast(make_approved(daily, by=author, reviewer=reviewer, send_at=day), by=author)
    assert b.status == Broadcast.Status.CANCELLED
    assert make_approved(daily, by=author, reviewer=reviewer, send_at=day).status == Broadcast.Status.APPROVED
    assert events(b)[-1] == ("cancelled", "olga")
    with pytest.raises(InvalidState, match="only broadcasts not yet finished can be cancelled"):
        services.cancel_broadcast(b, by=author)


@pytest.mark.parametrize("status", [Broadcast.Status.SENDING, Broadcast.Status.PAUSED])
def test_cancel_while_sending_keeps_the_slot_and_finishes(daily, author, reviewer, status):
    b = make_approved(daily, by=author, reviewer=reviewer, send_at=local(2031, 6, 3, 10))
    Broadcast.objects.filter(pk=b.pk).update(status=status)  # the delivery engine started it
    b = services.cancel_broadcast(b, by=reviewer)
    assert b.status == Broadcast.Status.CANCELLED and b.finished_at is not None
    assert QuotaReservation.objects.filter(broadcast=b).exists()


def test_reschedule_moves_the_slot_to_the_new_window(daily, author, reviewer):
    day1, day2 = local(2031, 6, 4, 10), local(2031, 6, 5, 10)
    a = make_approved(daily, by=author, reviewer=reviewer, send_at=day1)
    a = services.reschedule_broadcast(a, by=reviewer, send_at=day2)
    assert a.scheduled_at == day2
    assert QuotaReservation.objects.get(broadcast=a).window_start == local(2031, 6, 5, 0, 0)
    assert events(a)[-1][0] == "rescheduled"

    b = make_approved(daily, by=author, reviewer=reviewer, send_at=day1)  # day 1 is free again
    with pytest.raises(QuotaExceeded, match="1 of 1 broadcast for 2031-06-05"):
        services.reschedule_broadcast(b, by=reviewer, send_at=day2 + timedelta(hours=5))
    b.refresh_from_db()
    assert b.scheduled_at == day1
    assert QuotaReservation.objects.get(broadcast=b).window_start == local(2031, 6, 4, 0, 0)


def test_reschedule_within_the_same_window_keeps_the_slot(daily, author, reviewer):
    b = make_approved(daily, by=author, reviewer=reviewer, send_at=local(2031, 6, 6, 9))
    slot = QuotaReservation.objects.get(broadcast=b).pk
    services.reschedule_broadcast(b, by=reviewer, send_at=local(2031, 6, 6, 21))
    assert QuotaReservation.objects.get(broadcast=b).pk == slot


def test_reschedule_rechecks_the_account_at_the_new_time(acc, author, reviewer):
    b = make_approved(acc, by=author, reviewer=reviewer, send_at=timezone.now() + timedelta(hours=1))
    suspend_account(acc, by=reviewer, until=timezone.now() + timedelta(days=5), reason="review")
    with pytest.raises(AccountSuspended):
        services.reschedule_broadcast(b, by=reviewer, send_at=timezone.now() + timedelta(days=2))
    b = services.reschedule_broadcast(b, by=reviewer, send_at=timezone.now() + timedelta(days=6))
    assert b.status == Broadcast.Status.APPROVED


def test_only_approved_broadcasts_can_be_rescheduled(acc, author, reviewer):
    b = make_pending(acc, by=author)
    with pytest.raises(InvalidState, match="Only approved broadcasts can be rescheduled"):
        services.reschedule_broadcast(b, by=reviewer, send_at=timezone.now() + timedelta(days=1))


def test_every_state_change_is_audited_with_who(acc, author, reviewer):
    b = make_pending(acc, by=author)
    b = services.approve_broadcast(b, by=reviewer, send_at=timezone.now() + timedelta(days=1))
    b = services.reschedule_broadcast(b, by=reviewer, send_at=timezone.now() + timedelta(days=2))
    services.cancel_broadcast(b, by=reviewer)
    assert events(b) == [
        ("created", "olga"), ("submitted", "olga"), ("approved", "rita"), ("rescheduled", "rita"), ("cancelled", "rita"),
    ]
