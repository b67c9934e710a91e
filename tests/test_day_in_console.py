"""A new ops team's day in the console (issue 13 checked by fresh eyes): what they read is right."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from broadcasts import services, windows
from tests.factories import make_account, make_dispatched, make_followers, make_pending, make_user

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")


def test_the_review_preview_clock_shows_hours_and_minutes_of_the_send_time(client, settings):
    settings.PLATFORM_TIME_ZONE = "Asia/Shanghai"
    day = (timezone.now() + timedelta(days=40)).astimezone(UTC).date()
    moment = datetime(day.year, day.month, day.day, 20, 30, 5, tzinfo=UTC)  # 04:30:05 in Shanghai
    account = make_account(name="Acme Service")
    make_followers(account, 2)
    b = make_pending(account, by=make_user("olga", role="operator"), scheduled_at=moment)
    client.force_login(make_user("rita", role="reviewer"))
    page = client.get(reverse("admin:broadcasts_broadcast_review", args=[b.pk])).content.decode()
    assert '<span class="bc-chat-time">04:30</span>' in page  # a phone's clock: hh:mm
    assert "30:05</span>" not in page  # not the minutes and seconds


def test_the_dispatch_note_counts_followers_and_batches_in_words_that_agree():
    account = make_account(certified=True)
    make_followers(account, 1)
    b = make_dispatched(account)
    note = AuditEvent.objects.get(object_type="broadcast", object_id=b.pk, verb=AuditEvent.Verb.DISPATCHED).note
    assert note == "1 follower in 1 batch"


def test_pause_and_resume_notes_count_batches_in_words_that_agree():
    account = make_account(certified=True)
    make_followers(account, 1)
    b = make_dispatched(account)
    reviewer = make_user("rita", role="reviewer")
    services.resume_broadcast(services.pause_broadcast(b, by=reviewer), by=reviewer)
    notes = dict(
        AuditEvent.objects.filter(object_type="broadcast", object_id=b.pk, verb__in=["paused", "resumed"]).values_list(
            "verb", "note"
        )
    )
    assert notes == {"paused": "0 of 1 batch done", "resumed": "1 batch queued again"}


def test_the_next_window_opening_at_a_policy_change_reads_with_seconds(settings):
    settings.PLATFORM_TIME_ZONE = "Asia/Shanghai"
    shanghai = ZoneInfo("Asia/Shanghai")
    window = windows.window_for("month", datetime(2031, 11, 10, 12, tzinfo=shanghai))
    policy_ends = datetime(2031, 11, 20, 10, 30, 15, tzinfo=shanghai)
    assert windows.next_window_opens(window, policy_ends) == "2031-11-20 10:30:15"
