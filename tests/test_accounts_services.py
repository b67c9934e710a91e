"""Services of accounts: certification review, expiry, suspension, and the audit log they write."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import services
from accounts.exceptions import DomainError
from accounts.models import CERTIFICATION_VALIDITY, AuditEvent, Certification, OfficialAccount

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer(make_user):
    return make_user("rita", role="reviewer")


@pytest.fixture
def apply(reviewer):
    def apply(account, *, legal_name="Acme Trading Ltd", registration_number="91310000MA1FL0XX1X"):
        return services.submit_certification(
            account, legal_name=legal_name, registration_number=registration_number, by=reviewer
        )

    return apply


def refused(code, call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as info:
        call(*args, **kwargs)
    assert info.value.code == code, f"expected {code}, got {info.value.code}: {info.value}"
    assert str(info.value).strip(), "a refusal carries a sentence for a person"
    return info.value


def events(obj, verb):
    return AuditEvent.objects.filter(object_type=obj._meta.model_name, object_id=obj.pk, verb=verb)


# --- submit --------------------------------------------------------------------------------------


def test_submit_opens_a_pending_application_and_logs_who(make_account, apply, reviewer):
    account = make_account()
    cert = apply(account)
    assert cert.status == Certification.Status.PENDING
    assert cert.account == account and cert.legal_name == "Acme Trading Ltd"
    event = events(cert, "submitted").get()
    assert event.by == reviewer and event.account == account
    assert account.is_certified() is False


def test_submit_refuses_a_second_pending_application(make_account, apply):
    account = make_account(name="Acme")
    apply(account)
    error = refused("certification_pending", apply, account)
    assert "Acme" in str(error)
    assert account.certifications.count() == 1


def test_submit_needs_legal_name_and_registration_number(make_account, apply):
    account = make_account()
    refused("invalid_input", apply, account, legal_name="  ")
    refused("invalid_input", apply, account, registration_number="")
    assert not account.certifications.exists()


# --- approve / reject / revoke -------------------------------------------------------------------


def test_approve_certifies_for_one_year_and_records_reviewer(make_account, apply, reviewer):
    account = make_account()
    before = timezone.now()
    cert = services.approve_certification(apply(account), by=reviewer)
    cert.refresh_from_db()
    assert cert.status == Certification.Status.APPROVED
    assert cert.reviewed_by == reviewer and cert.reviewed_at >= before
    assert cert.valid_until - cert.valid_from == CERTIFICATION_VALIDITY
    assert account.is_certified()
    assert events(cert, "approved").get().by == reviewer


def test_approve_from_a_future_date_is_not_yet_certified(make_account, apply, reviewer):
    account = make_account()
    start = timezone.now() + timedelta(days=10)
    cert = services.approve_certification(apply(account), by=reviewer, valid_from=start)
    assert cert.valid_from == start
    assert account.is_certified() is False
    assert account.is_certified(at=start + timedelta(days=1)) is True


def test_approving_a_rejected_application_is_refused_as_invalid_state(make_account, apply, reviewer):
    account = make_account(name="Acme")
    cert = services.reject_certification(apply(account), by=reviewer, reason="Registration number does not match.")
    error = refused("invalid_state", services.approve_certification, cert, by=reviewer)
    assert "rejected" in str(error)
    cert.refresh_from_db()
    assert cert.status == Certification.Status.REJECTED
    assert not account.is_certified()


def test_approving_while_already_certified_is_refused(make_account, apply, reviewer):
    account = make_account()
    services.approve_certification(apply(account), by=reviewer)
    renewal = apply(account, registration_number="NEW-1")
    refused("already_certified", services.approve_certification, renewal, by=reviewer)
    renewal.refresh_from_db()
    assert renewal.status == Certification.Status.PENDING


def test_reject_needs_a_reason_and_keeps_it(make_account, apply, reviewer):
    cert = apply(make_account())
    refused("reason_required", services.reject_certification, cert, by=reviewer, reason="   ")
    cert.refresh_from_db()
    assert cert.status == Certification.Status.PENDING
    cert = services.reject_certification(cert, by=reviewer, reason="Blurry licence scan.")
    cert.refresh_from_db()
    assert (cert.status, cert.decision_note, cert.reviewed_by) == ("rejected", "Blurry licence scan.", reviewer)
    assert events(cert, "rejected").get().note == "Blurry licence scan."


def test_reject_only_pending(make_account, apply, reviewer):
    cert = services.approve_certification(apply(make_account()), by=reviewer)
    refused("invalid_state", services.reject_certification, cert, by=reviewer, reason="Too late.")


def test_revoke_ends_certification_at_once(make_account, apply, reviewer):
    account = make_account()
    cert = services.approve_certification(apply(account), by=reviewer)
    refused("reason_required", services.revoke_certification, cert, by=reviewer, reason="")
    assert account.is_certified()
    services.revoke_certification(cert, by=reviewer, reason="Licence withdrawn by the regulator.")
    cert.refresh_from_db()
    assert cert.status == Certification.Status.REVOKED
    assert account.is_certified() is False
    assert events(cert, "revoked").get().by == reviewer
    # A revoked certification cannot be revoked again, nor approved.
    refused("invalid_state", services.revoke_certification, cert, by=reviewer, reason="Again.")
    refused("invalid_state", services.approve_certification, cert, by=reviewer)


def test_after_revoking_a_new_application_can_be_approved(make_account, apply, reviewer):
    account = make_account()
    services.revoke_certification(services.approve_certification(apply(account), by=reviewer), by=reviewer, reason="x")
    services.approve_certification(apply(account, registration_number="R-2"), by=reviewer)
    assert account.is_certified()


# --- validity window -----------------------------------------------------------------------------


@pytest.fixture
def window(make_account):
    """An account with an approved certification over [valid_from, valid_until)."""
    account = make_account()
    start = timezone.now().replace(microsecond=500_000) - timedelta(days=100)
    end = start + timedelta(days=365)
    Certification.objects.create(
        account=account, status=Certification.Status.APPROVED, legal_name="Acme Ltd", registration_number="R1",
        valid_from=start, valid_until=end,
    )
    return account, start, end


def test_certified_exactly_at_valid_from(window):
    account, start, _ = window
    assert account.is_certified(at=start) is True


def test_not_certified_one_microsecond_before_valid_from(window):
    account, start, _ = window
    assert account.is_certified(at=start - timedelta(microseconds=1)) is False


def test_not_certified_exactly_at_valid_until(window):
    account, _, end = window
    assert account.is_certified(at=end - timedelta(microseconds=1)) is True
    assert account.is_certified(at=end) is False


def test_revoked_certification_does_not_count_inside_its_window(window):
    account, start, _ = window
    Certification.objects.filter(account=account).update(status=Certification.Status.REVOKED)
    assert account.is_certified(at=start + timedelta(days=1)) is False


@pytest.mark.parametrize("status", ["pending", "rejected", "expired"])
def test_only_approved_certifications_count(make_account, status):
    account = make_account()
    Certification.objects.create(account=account, status=status, legal_name="L", registration_number="R")
    assert account.is_certified() is False


def test_future_valid_from_is_not_certified_yet(make_account):
    account = make_account()
    start = timezone.now() + timedelta(hours=1)
    Certification.objects.create(
        account=account, status="approved", legal_name="L", registration_number="R", valid_from=start,
        valid_until=start + timedelta(days=365),
    )
    assert account.is_certified() is False
    assert account.is_certified(at=start) is True


# --- expiry --------------------------------------------------------------------------------------


def test_expire_certifications_returns_count_and_marks_expired(make_account):
    now = timezone.now()
    ended = []
    for i in range(2):
        account = make_account(name=f"Old {i}")
        ended.append(
            Certification.objects.create(
                account=account, status="approved", legal_name="L", registration_number=f"R{i}",
                valid_from=now - timedelta(days=400), valid_until=now - timedelta(days=35 - i),
            )
        )
    ends_exactly_now = Certification.objects.create(
        account=make_account(name="Edge"), status="approved", legal_name="L", registration_number="E",
        valid_from=now - timedelta(days=365), valid_until=now,
    )
    running = Certification.objects.create(
        account=make_account(name="Current"), status="approved", legal_name="L", registration_number="C",
        valid_from=now - timedelta(days=1), valid_until=now + timedelta(days=364),
    )
    pending = Certification.objects.create(
        account=make_account(name="Waiting"), status="pending", legal_name="L", registration_number="P",
        valid_from=now - timedelta(days=400), valid_until=now - timedelta(days=35),
    )

    assert services.expire_certifications(now=now) == 3

    statuses = dict(Certification.objects.values_list("id", "status"))
    assert [statuses[c.pk] for c in ended] == ["expired", "expired"]
    assert statuses[ends_exactly_now.pk] == "expired"
    assert statuses[running.pk] == "approved"
    assert statuses[pending.pk] == "pending"
    expired_events = AuditEvent.objects.filter(verb="expired")
    assert expired_events.count() == 3
    assert all(e.by is None for e in expired_events), "a system job acted: no person in the audit row"
    # A second run finds nothing left to do.
    assert services.expire_certifications(now=now) == 0


def test_an_expired_account_can_be_certified_again(make_account, apply, reviewer):
    account = make_account()
    now = timezone.now()
    Certification.objects.create(
        account=account, status="approved", legal_name="L", registration_number="R",
        valid_from=now - timedelta(days=366), valid_until=now - timedelta(days=1),
    )
    services.expire_certifications()
    services.approve_certification(apply(account), by=reviewer)
    assert account.is_certified()


# --- suspension ----------------------------------------------------------------------------------


def test_suspend_until_a_date_and_reinstate(make_account, reviewer):
    account = make_account()
    until = timezone.now() + timedelta(days=7)
    services.suspend_account(account, by=reviewer, until=until, reason="Junk content, third strike.")
    account.refresh_from_db()
    assert account.status == OfficialAccount.Status.SUSPENDED
    assert (account.suspended_until, account.suspension_reason) == (until, "Junk content, third strike.")
    assert account.is_suspended()
    assert account.is_suspended(at=until) is False, "the suspension runs out at its end"
    event = events(account, "suspended").get()
    assert event.by == reviewer and "Junk content" in event.note

    services.reinstate_account(account, by=reviewer)
    account.refresh_from_db()
    assert account.status == OfficialAccount.Status.ACTIVE
    assert account.suspended_until is None and account.suspension_reason == ""
    assert events(account, "reinstated").get().by == reviewer


def test_suspend_without_end_lasts_until_reinstated(make_account, reviewer):
    account = make_account()
    services.suspend_account(account, by=reviewer, until=None, reason="Court order.")
    account.refresh_from_db()
    assert account.is_suspended(at=timezone.now() + timedelta(days=3650))


def test_suspension_in_the_past_is_refused(make_account, reviewer):
    account = make_account()
    refused(
        "invalid_input", services.suspend_account, account, by=reviewer,
        until=timezone.now() - timedelta(minutes=1), reason="Spam.",
    )
    account.refresh_from_db()
    assert account.status == OfficialAccount.Status.ACTIVE


def test_suspension_needs_a_reason(make_account, reviewer):
    account = make_account()
    refused("reason_required", services.suspend_account, account, by=reviewer, until=None, reason="")
    account.refresh_from_db()
    assert account.status == OfficialAccount.Status.ACTIVE


def test_reinstating_an_active_account_is_refused(make_account, reviewer):
    refused("invalid_state", services.reinstate_account, make_account(), by=reviewer)


def test_lift_expired_suspensions_reinstates_only_those_that_ran_out(make_account, reviewer):
    now = timezone.now()
    ran_out = make_account(name="Ran out")
    still = make_account(name="Still")
    services.suspend_account(ran_out, by=reviewer, until=now + timedelta(minutes=5), reason="r")
    services.suspend_account(still, by=reviewer, until=now + timedelta(days=5), reason="r")
    assert services.lift_expired_suspensions(now=now + timedelta(minutes=10)) == 1
    ran_out.refresh_from_db()
    still.refresh_from_db()
    assert (ran_out.status, still.status) == ("active", "suspended")
    assert events(ran_out, "reinstated").get().by is None
