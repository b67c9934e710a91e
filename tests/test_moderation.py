"""Content screening on submit (R7): block and flag rules, violations, and penalties."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent, OfficialAccount
from broadcasts import services
from broadcasts.exceptions import AccountSuspended, ContentBlocked
from broadcasts.models import Broadcast, ContentRule, Violation
from tests.factories import make_account, make_draft, make_user


@pytest.fixture
def author(db):
    return make_user("olga")


@pytest.fixture
def acc(db):
    return make_account(name="Acme")


def submit(acc, author, **content):
    return services.submit_broadcast(make_draft(acc, by=author, **content), by=author)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_block_rule_rejects_and_the_rejection_and_violation_are_committed():
    """No test transaction here: what the service committed is what the database holds."""
    author, acc = make_user("olga"), make_account(name="Acme")
    b = make_draft(acc, by=author, title="Congratulations", body="You are our LOTTERY Winner this week!")
    with pytest.raises(ContentBlocked) as exc:
        services.submit_broadcast(b, by=author)
    assert exc.value.code == "content_blocked"
    assert str(exc.value) == (
        f"“Congratulations” was rejected: it matches content rule #{exc.value.context['rule']} keyword "
        "“lottery winner” (Junk: fake prize notices); Acme receives 10 violation points."
    )
    b.refresh_from_db()
    assert b.status == Broadcast.Status.REJECTED
    assert "“lottery winner”" in b.review_note and b.review_note.startswith("Rejected automatically")
    violation = Violation.objects.get(account=acc)
    assert (violation.broadcast_id, violation.points, violation.rule.pattern) == (b.pk, 10, "lottery winner")
    verbs = AuditEvent.objects.filter(object_type="broadcast", object_id=b.pk).values_list("verb", flat=True)
    assert list(verbs.order_by("id")) == ["created", "submitted", "rejected"]


@pytest.mark.django_db
def test_domain_rule_matches_the_host_and_its_subdomains_only(acc, author):
    with pytest.raises(ContentBlocked, match="link domain “malware.example”"):
        submit(acc, author, message_type="article", url="https://Download.MALWARE.example/get?x=1")
    assert Violation.objects.get(account=acc).points == 20

    # A look-alike host is not the domain; a bare host in the text is a link too.
    ok = submit(acc, author, body="Visit notmalware.example or https://malware.example.org today.")
    assert ok.status == Broadcast.Status.PENDING_REVIEW and ok.findings == []
    with pytest.raises(ContentBlocked):
        submit(acc, author, body="Get it at cdn.malware.example/setup.exe")


@pytest.mark.django_db
def test_link_with_userinfo_is_judged_by_its_real_host(acc, author):
    with pytest.raises(ContentBlocked):
        submit(acc, author, body="Safe: http://acme.example@malware.example/offer")


@pytest.mark.django_db
def test_flag_rules_attach_findings_for_the_reviewer(acc, author):
    b = submit(acc, author, title="Autumn", body="Click NOW to win a mug! Details: bit.ly/acme-mug")
    assert b.status == Broadcast.Status.PENDING_REVIEW
    found = {(x["match"], x["pattern"]): x for x in b.findings}
    assert set(found) == {("regex", r"\b(?:click|share) (?:now|to win)\b"), ("domain", "bit.ly")}
    assert "Click NOW" in found[("regex", r"\b(?:click|share) (?:now|to win)\b")]["excerpt"]
    assert found[("domain", "bit.ly")]["excerpt"] == "bit.ly"
    assert all(x["action"] == "flag" for x in b.findings)
    assert not Violation.objects.exists()


@pytest.mark.django_db
def test_a_saved_rule_takes_effect_on_the_next_submission(acc, author):
    assert submit(acc, author, body="Our miracle cure for Mondays").status == Broadcast.Status.PENDING_REVIEW
    rule = ContentRule.objects.create(pattern="Miracle Cure", match="keyword", action="block", points=5)
    with pytest.raises(ContentBlocked, match="“Miracle Cure”"):
        submit(acc, author, body="Our MIRACLE cure for Tuesdays")
    rule.active = False
    rule.save()
    assert submit(acc, author, body="Our miracle cure for Wednesdays").status == Broadcast.Status.PENDING_REVIEW


@pytest.mark.django_db
def test_regex_rule_is_case_insensitive(acc, author):
    ContentRule.objects.create(pattern=r"win \d+ yuan", match="regex", action="block", points=5)
    with pytest.raises(ContentBlocked):
        submit(acc, author, title="WIN 500 YUAN", body="today only")


# --- penalties (R7) ---


@pytest.mark.django_db
def test_violation_points_reaching_the_threshold_suspend_the_account(acc, author, settings):
    settings.BROADCAST_PENALTY_POINTS = 30
    settings.BROADCAST_PENALTY_DAYS = 7
    for n in range(2):
        with pytest.raises(ContentBlocked):
            submit(acc, author, body=f"free money #{n}")
    acc.refresh_from_db()
    assert acc.status == OfficialAccount.Status.ACTIVE  # 20 points: below the threshold

    with pytest.raises(ContentBlocked):
        submit(acc, author, body="free money #3")
    acc.refresh_from_db()
    assert acc.status == OfficialAccount.Status.SUSPENDED
    assert acc.suspension_reason == (
        "30 violation points in the last 90 days reached the threshold of 30; broadcasting suspended for 7 days"
    )
    assert abs(acc.suspended_until - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)
    event = AuditEvent.objects.get(object_type="officialaccount", object_id=acc.pk, verb="suspended")
    assert event.by is None

    # The suspension refuses approvals; more violations do not extend it.
    b = submit(acc, author, body="A clean message")
    with pytest.raises(AccountSuspended):
        services.approve_broadcast(b, by=make_user("rita"))
    until = acc.suspended_until
    with pytest.raises(ContentBlocked):
        submit(acc, author, body="free money #4")
    acc.refresh_from_db()
    assert acc.suspended_until == until


@pytest.mark.django_db
def test_points_older_than_the_window_do_not_count(acc, author, settings):
    settings.BROADCAST_PENALTY_POINTS = 30
    Violation.objects.create(account=acc, points=25, created_at=timezone.now() - timedelta(days=91))
    with pytest.raises(ContentBlocked):
        submit(acc, author, body="free money")
    acc.refresh_from_db()
    assert acc.status == OfficialAccount.Status.ACTIVE
    Violation.objects.create(account=acc, points=25, created_at=timezone.now() - timedelta(days=89))
    with pytest.raises(ContentBlocked):
        submit(acc, author, body="free money again")
    acc.refresh_from_db()
    assert acc.status == OfficialAccount.Status.SUSPENDED
    assert acc.suspension_reason.startswith("45 violation points in the last 90 days")
