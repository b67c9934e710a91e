"""Issue 13, "Traps to remove": each trap of the operator's day reproduced in the test client, and fixed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Certification, OfficialAccount
from broadcasts import services
from broadcasts.exceptions import CertificationRequired, NotAuthor, SendTimePast
from broadcasts.models import Broadcast, QuotaPolicy
from tests.factories import SHANGHAI, certify, make_approved, make_draft, make_pending, make_tag
from tests.test_admin_accounts import form_data, messages_of, text

pytestmark = pytest.mark.django_db


def change_url(b: Broadcast) -> str:
    return reverse("admin:broadcasts_broadcast_change", args=[b.pk])


def transition_url(b: Broadcast, name: str) -> str:
    return reverse("admin:broadcasts_broadcast_transition", args=[b.pk, name])


@pytest.fixture
def people(make_user):
    return {"op": make_user("olga", role="operator"), "rev": make_user("rita", role="reviewer"),
            "rev2": make_user("rob", role="reviewer")}


@pytest.fixture
def service(make_account, make_followers):
    acc = make_account(name="Acme Service", kind=OfficialAccount.Kind.SERVICE)
    make_followers(acc, 4)
    return acc


@pytest.fixture
def news(make_account, make_followers):
    acc = make_account(name="Daily News", kind=OfficialAccount.Kind.SUBSCRIPTION)
    make_followers(acc, 3)
    return acc


def local_fields(moment, prefix="scheduled_at") -> dict:
    at = moment.astimezone(SHANGHAI)
    return {f"{prefix}_0": at.strftime("%Y-%m-%d"), f"{prefix}_1": at.strftime("%H:%M:%S")}


# ---------------------------------------------------------------- 1. Submit keeps what was typed


def test_submit_from_the_change_page_saves_the_edits_first(client, people, service):
    draft = make_draft(service, by=people["op"], title="Old title")
    client.force_login(people["op"])
    page = client.get(change_url(draft))
    # The Submit button belongs to the change form itself, so it carries what is typed on the page.
    assert 'form="broadcast_form" name="_submit_for_review"' in page.content.decode()
    data = form_data(page, "broadcast_form")
    data.update(title="New title", _submit_for_review="1")
    response = client.post(change_url(draft), data, follow=True)
    draft.refresh_from_db()
    assert (draft.title, draft.status) == ("New title", Broadcast.Status.PENDING_REVIEW)
    assert any("submitted for review" in m for m in messages_of(response))


def test_submit_with_an_invalid_edit_submits_nothing_and_says_why(client, people, service):
    draft = make_draft(service, by=people["op"], title="Old title")
    client.force_login(people["op"])
    data = form_data(client.get(change_url(draft)), "broadcast_form")
    data.update(title="", _submit_for_review="1")
    response = client.post(change_url(draft), data)
    draft.refresh_from_db()
    assert (draft.title, draft.status) == ("Old title", Broadcast.Status.DRAFT)
    assert response.status_code == 200 and "errornote" in response.content.decode()


# ---------------------------------------------------------------- 2. approval's checks, asked ahead


def test_a_subscription_accounts_tag_send_is_refused_on_save_with_approvals_sentence(client, people, news):
    tag = make_tag(news, "vip", news.followers.all())
    client.force_login(people["op"])
    data = form_data(client.get(reverse("admin:broadcasts_broadcast_add")), "broadcast_form")
    data.update(account=news.pk, title="To VIPs", message_type="text", body="Hi", channel="console",
                audience="tag", tag=tag.pk)
    response = client.post(reverse("admin:broadcasts_broadcast_add"), data)
    assert response.status_code == 200
    assert "open only to certified service accounts" in text(response)
    assert not Broadcast.objects.filter(title="To VIPs").exists()


def test_a_past_send_time_is_refused_on_save(client, people, service):
    draft = make_draft(service, by=people["op"])
    client.force_login(people["op"])
    data = form_data(client.get(change_url(draft)), "broadcast_form")
    data.update(local_fields(timezone.now() - timedelta(hours=2)))
    response = client.post(change_url(draft), data)
    assert response.status_code == 200 and "is in the past" in text(response)
    draft.refresh_from_db()
    assert draft.scheduled_at is None


def test_submit_refuses_what_approval_certainly_would(people, news):
    tag = make_tag(news, "vip", news.followers.all())
    draft = make_draft(news, by=people["op"], audience="tag", tag=tag)  # stored by a path without the form
    with pytest.raises(CertificationRequired):
        services.submit_broadcast(draft, by=people["op"])
    draft.refresh_from_db()
    assert draft.status == Broadcast.Status.DRAFT
    Broadcast.objects.filter(pk=draft.pk).update(audience="all", tag=None,
                                                 scheduled_at=timezone.now() - timedelta(minutes=5))
    with pytest.raises(SendTimePast):
        services.submit_broadcast(draft, by=people["op"])


def test_what_may_change_by_the_send_time_is_a_warning_to_author_and_reviewer(client, people, service):
    tag = make_tag(service, "vip", service.followers.all())
    client.force_login(people["op"])
    data = form_data(client.get(reverse("admin:broadcasts_broadcast_add")), "broadcast_form")
    data.update(account=service.pk, title="To VIPs", message_type="text", body="Hi", channel="console",
                audience="tag", tag=tag.pk)
    response = client.post(reverse("admin:broadcasts_broadcast_add"), data, follow=True)
    b = Broadcast.objects.get(title="To VIPs")  # saved: a certification may be granted before the send
    assert any("has no certification valid" in m for m in messages_of(response))
    services.submit_broadcast(b, by=people["op"])
    client.force_login(people["rev"])
    review = client.get(reverse("admin:broadcasts_broadcast_review", args=[b.pk]))
    assert "Approval would refuse this broadcast today" in text(review)
    assert "has no certification valid" in text(review)
    certify(service)
    assert "Approval would refuse" not in text(client.get(reverse("admin:broadcasts_broadcast_review", args=[b.pk])))


def test_a_full_window_is_a_warning_not_a_refusal(people, news):
    QuotaPolicy.objects.filter(kind=news.kind, scope=QuotaPolicy.Scope.ACCOUNT).update(limit=1)
    make_approved(news, title="Today's one")
    draft = make_draft(news, by=people["op"], title="A second today")
    report = services.eligibility_report(draft)
    assert report.refusals == () and [w.code for w in report.warnings] == ["quota_exceeded"]
    assert services.submit_broadcast(draft, by=people["op"]).status == Broadcast.Status.PENDING_REVIEW


def test_a_send_time_that_passed_during_review_is_a_warning_and_approval_sends_now(people, service):
    """The review page said 'refused' while Approve (empty send time) sent it at once: it is a warning."""
    pending = make_pending(service, by=people["op"], scheduled_at=timezone.now() + timedelta(hours=1))
    Broadcast.objects.filter(pk=pending.pk).update(scheduled_at=timezone.now() - timedelta(hours=2))
    pending.refresh_from_db()

    report = services.eligibility_report(pending)

    assert report.refusals == ()
    assert [w.code for w in report.warnings] == ["send_time_past"]
    assert "approving sends it at once" in report.warnings[0].message
    approved = services.approve_broadcast(pending, by=people["rev"])
    assert approved.status == Broadcast.Status.APPROVED
    assert abs((approved.scheduled_at - timezone.now()).total_seconds()) < 60


# ---------------------------------------------------------------- 3. withdraw, duplicate, the reviewer's reason


def test_the_author_withdraws_a_pending_broadcast_to_draft(client, people, service):
    b = make_pending(service, by=people["op"])
    client.force_login(people["op"])
    page = client.get(change_url(b))
    assert transition_url(b, "withdraw") in page.content.decode()
    client.post(transition_url(b, "withdraw"))
    b.refresh_from_db()
    assert b.status == Broadcast.Status.DRAFT
    assert AuditEvent.objects.filter(object_id=b.pk, verb=AuditEvent.Verb.WITHDRAWN, by=people["op"]).exists()


def test_only_the_author_withdraws(people, service):
    b = make_pending(service, by=people["op"])
    with pytest.raises(NotAuthor):
        services.withdraw_broadcast(b, by=people["rev"])


def test_a_rejected_broadcast_is_duplicated_with_the_reviewers_reason(client, people, service):
    b = services.reject_broadcast(make_pending(service, by=people["op"], title="Too loud"), by=people["rev"],
                                  reason="Tone it down")
    client.force_login(people["op"])
    assert transition_url(b, "duplicate") in client.get(change_url(b)).content.decode()
    response = client.post(transition_url(b, "duplicate"), follow=True)
    copy = Broadcast.objects.exclude(pk=b.pk).get(title="Too loud")
    assert (copy.status, copy.created_by) == (Broadcast.Status.DRAFT, people["op"])
    assert any("Copied into a new draft" in m for m in messages_of(response))
    assert f"Reviewer's reason: Copy of #{b.pk}, rejected: Tone it down" in text(client.get(change_url(copy)))


def test_my_broadcasts_lists_status_and_reason(client, people, service):
    services.reject_broadcast(make_pending(service, by=people["op"], title="Mine"), by=people["rev"], reason="No")
    make_draft(service, by=people["rev2"], title="Not mine")
    client.force_login(people["op"])
    page = text(client.get(reverse("admin:broadcasts_broadcast_mine")))
    assert "Mine" in page and "Rejected" in page and "No" in page
    assert "Not mine" not in page


# ---------------------------------------------------------------- 4. cancel asks; no Approve for the author


def test_cancel_opens_a_confirmation_page_before_acting(client, people, service):
    b = make_pending(service, by=people["op"])
    client.force_login(people["rev"])
    page = client.get(change_url(b)).content.decode()
    assert f'action="{transition_url(b, "cancel")}"' not in page  # no one-click form
    assert transition_url(b, "cancel") in page
    confirm = client.get(transition_url(b, "cancel"))
    assert confirm.status_code == 200 and "Cancel" in text(confirm)
    b.refresh_from_db()
    assert b.status == Broadcast.Status.PENDING_REVIEW
    review = client.get(reverse("admin:broadcasts_broadcast_review", args=[b.pk])).content.decode()
    assert f'action="{transition_url(b, "cancel")}"' not in review


def test_the_author_is_not_offered_approve_and_is_told_why(client, people, service):
    b = make_pending(service, by=people["rev"])  # a reviewer who wrote a broadcast
    client.force_login(people["rev"])
    page = client.get(change_url(b))
    assert transition_url(b, "approve") not in page.content.decode()
    assert "Approve is not offered: you wrote or changed this broadcast" in text(page)
    client.force_login(people["rev2"])
    assert transition_url(b, "approve") in client.get(change_url(b)).content.decode()


def test_a_bulk_refusal_names_the_broadcast(client, people, service):
    ok = make_pending(service, by=people["op"], title="Fine one")
    draft = make_draft(service, by=people["op"], title="Still a draft")
    client.force_login(people["rev"])
    response = client.post(reverse("admin:broadcasts_broadcast_changelist"), {
        "action": "reject_selected", "_selected_action": [ok.pk, draft.pk], "apply": "1", "reason": "No",
    }, follow=True)
    refusals = [m for m in messages_of(response) if "Only broadcasts pending review" in m]
    assert refusals and all("“Still a draft”" in m for m in refusals)


# ---------------------------------------------------------------- 6. a pending certification has no dates


def test_a_pending_certification_shows_no_validity_dates(admin_client, service):
    cert = certify(service, status=Certification.Status.PENDING)
    from_date = cert.valid_from.astimezone(SHANGHAI).strftime("%Y-%m-%d")
    until_date = cert.valid_until.astimezone(SHANGHAI).strftime("%Y-%m-%d")
    for url in (reverse("admin:accounts_officialaccount_change", args=[service.pk]),
                reverse("admin:accounts_certification_change", args=[cert.pk]),
                reverse("admin:accounts_certification_changelist")):
        page = text(admin_client.get(url))
        assert from_date not in page.replace(timezone.now().astimezone(SHANGHAI).strftime("%Y-%m-%d"), "")
        assert until_date not in page, url


# ---------------------------------------------------------------- 5. the audience size before submit


def test_a_drafts_change_page_shows_its_audience_size(client, people, service):
    draft = make_draft(service, by=people["op"])
    client.force_login(people["op"])
    assert "4 subscribed followers" in text(client.get(change_url(draft)))
