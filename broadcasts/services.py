"""Every state change of a broadcast before delivery: create, edit, submit, approve,
reject, cancel, reschedule; moderation violations and the penalties they bring (R7).

Admin actions, tasks, commands and the API call these; nothing else writes these fields.

Lock order everywhere: the OfficialAccount row, then the Broadcast row (then its
quota reservation). Approvals of one account therefore serialize on the account
row, so two reviewers can never both take the last slot of a window, and a
reviewer is never refused while a slot is free.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Certification, Follower, OfficialAccount, Tag
from accounts.services import record_event, suspend_account

from . import moderation, quota, selectors
from .exceptions import (
    AccountSuspended,
    CertificationRequired,
    ContentBlocked,
    FourEyes,
    InvalidAudience,
    InvalidContent,
    InvalidState,
    ReasonRequired,
)
from .models import RECIPIENTS_MAX, RECIPIENTS_MIN, Broadcast, ContentRule, Violation

# Fields a draft's author may change with update_broadcast.
EDITABLE_FIELDS = frozenset(
    {"title", "message_type", "body", "url", "cover_url", "channel", "audience", "tag", "recipients", "scheduled_at"}
)
# Fields fixed at creation: passing the current value is fine, another value is refused.
FIXED_FIELDS = {"account": "account", "client_msg_id": "client message id"}
TITLE_MAX = Broadcast._meta.get_field("title").max_length
URL_MAX = Broadcast._meta.get_field("url").max_length
CLIENT_MSG_ID_MAX = Broadcast._meta.get_field("client_msg_id").max_length

_validate_url = URLValidator(schemes=["http", "https"])


# --- helpers ------------------------------------------------------------------------


def _lock(broadcast: Broadcast) -> tuple[OfficialAccount, Broadcast]:
    """Lock the broadcast's account, then the broadcast (the lock order of this module)."""
    account_id = Broadcast.objects.filter(pk=broadcast.pk).values_list("account_id", flat=True).get()
    account = OfficialAccount.objects.select_for_update().get(pk=account_id)
    b = Broadcast.objects.select_for_update().get(pk=broadcast.pk)
    b.account = account
    return account, b


def _aware(moment: datetime) -> datetime:
    return timezone.make_aware(moment, quota.platform_zone()) if timezone.is_naive(moment) else moment


def _send_time(send_at: datetime | None) -> datetime:
    """The moment a broadcast goes out: `send_at`, or now when empty or already past."""
    now = timezone.now()
    return now if send_at is None else max(_aware(send_at), now)


def _kind_name(account: OfficialAccount) -> str:
    return f"{account.get_kind_display()} {account.name}"


def _status_word(b: Broadcast) -> str:
    return b.get_status_display().lower()


def _recipient_ids(recipients: Iterable | None) -> list[int]:
    if recipients is None:
        return []
    ids = (r.pk if isinstance(r, Follower) else int(r) for r in recipients)
    return list(dict.fromkeys(ids))


def _resolve_tag(tag) -> Tag | None:
    if tag is None or tag == "" or isinstance(tag, Tag):
        return tag or None
    found = Tag.objects.filter(pk=tag).first()
    if found is None:
        raise InvalidAudience(f"Tag #{tag} does not exist.", field="tag")
    return found


def _validate(account: OfficialAccount, f: dict, recipient_ids: list[int]) -> None:
    """Check content and audience of a broadcast about to be stored or submitted; normalizes `f` in place."""
    f["title"] = (f.get("title") or "").strip()
    if not f["title"]:
        raise InvalidContent("A broadcast needs a title.", field="title")
    if len(f["title"]) > TITLE_MAX:
        raise InvalidContent(f"A title is at most {TITLE_MAX} characters; this one has {len(f['title'])}.", field="title")
    message_type = f.get("message_type")
    if message_type not in Broadcast.MessageType.values:
        raise InvalidContent(f"Unknown message type “{message_type}”; use text, article or image.", field="message_type")
    f["body"] = f.get("body") or ""
    for name, label in (("url", "article link"), ("cover_url", "cover image link")):
        value = (f.get(name) or "").strip()
        f[name] = value
        if not value:
            continue
        if len(value) > URL_MAX:
            raise InvalidContent(f"The {label} is at most {URL_MAX} characters long.", field=name)
        try:
            _validate_url(value)
        except ValidationError:
            raise InvalidContent(f"The {label} “{value}” is not a valid http(s) address.", field=name) from None
    if message_type == Broadcast.MessageType.TEXT and not f["body"].strip():
        raise InvalidContent("A text message needs a body.", field="body")
    if message_type == Broadcast.MessageType.ARTICLE and not f["url"]:
        raise InvalidContent("An article message needs the article's link.", field="url")
    if message_type == Broadcast.MessageType.IMAGE and not f["cover_url"]:
        raise InvalidContent("An image message needs the image's link.", field="cover_url")

    channel, audience = f.get("channel"), f.get("audience")
    if channel not in Broadcast.Channel.values:
        raise InvalidAudience(f"Unknown channel “{channel}”; use console or api.", field="channel")
    if audience not in Broadcast.Audience.values:
        raise InvalidAudience(f"Unknown audience “{audience}”; use all, tag or followers.", field="audience")
    tag = f["tag"] = _resolve_tag(f.get("tag"))
    if audience == Broadcast.Audience.TAG:
        if tag is None:
            raise InvalidAudience("A tag audience needs a tag.", field="tag")
        if tag.account_id != account.pk:
            raise InvalidAudience(f"Tag “{tag.name}” belongs to another account, not {account.name}.", field="tag")
    elif tag is not None:
        raise InvalidAudience("Only a tag audience takes a tag; choose the audience “tag” or remove the tag.", field="tag")
    if audience == Broadcast.Audience.FOLLOWERS:
        if channel != Broadcast.Channel.API:
            raise InvalidAudience(
                "A list of followers can only be sent through the advanced mass interface (the api channel).",
                field="audience",
            )
        n = len(recipient_ids)
        if not RECIPIENTS_MIN <= n <= RECIPIENTS_MAX:
            raise InvalidAudience(
                f"A follower list holds {RECIPIENTS_MIN} to {RECIPIENTS_MAX:,} followers; this one has {n:,}.",
                field="recipients",
            )
        found = Follower.objects.filter(account=account, pk__in=recipient_ids).count()
        if found != n:
            missing = n - found
            verb = "does" if missing == 1 else "do"
            raise InvalidAudience(
                f"{missing:,} of the {n:,} listed followers {verb} not follow {account.name}.", field="recipients"
            )
    elif recipient_ids:
        raise InvalidAudience("Only a follower-list audience takes recipients; choose the audience “followers”.", field="recipients")


def validate_draft(account: OfficialAccount, *, recipients=None, **fields) -> dict:
    """Check a draft's content and audience without writing anything; returns the normalized
    fields. The one validation of a broadcast: create, update and submit run it too.

    `fields`: title, message_type, body, url, cover_url, channel, audience, tag (a Tag or id).
    Raises invalid_content, invalid_audience (context `field` names the field at fault).
    """
    f = dict(fields)
    _validate(account, f, _recipient_ids(recipients))
    return f


def _set_recipients(b: Broadcast, ids: list[int]) -> None:
    through = Broadcast.recipients.through
    through.objects.filter(broadcast_id=b.pk).delete()
    # One INSERT for up to RECIPIENTS_MAX rows.
    through.objects.bulk_create([through(broadcast_id=b.pk, follower_id=i) for i in ids])


def _certification_status(account: OfficialAccount, at: datetime) -> str:
    """Why the account is not certified at `at`, in a few words."""
    certs = list(account.certifications.order_by("-submitted_at", "-id")[:20])
    approved = next((c for c in certs if c.status == Certification.Status.APPROVED), None)
    if approved is not None:
        if approved.valid_from > at:
            return f"certification #{approved.pk} only starts on {quota.fmt_moment(approved.valid_from)}"
        return f"certification #{approved.pk} runs out on {quota.fmt_moment(approved.valid_until)}, before the send time"
    if not certs:
        return "it has never been certified"
    last = certs[0]
    if last.status == Certification.Status.EXPIRED:
        return f"certification #{last.pk} expired on {quota.fmt_moment(last.valid_until)}"
    if last.status == Certification.Status.REVOKED:
        return f"certification #{last.pk} was revoked" + (f": {last.decision_note}" if last.decision_note else "")
    if last.status == Certification.Status.PENDING:
        return f"certification application #{last.pk} is still pending"
    return f"certification application #{last.pk} was rejected"


def _advanced_what(b: Broadcast) -> str:
    if b.audience == Broadcast.Audience.TAG:
        return "a broadcast to a tag"
    if b.audience == Broadcast.Audience.FOLLOWERS:
        return "a broadcast to a list of followers"
    return "a broadcast through the advanced mass interface (API)"


def check_can_send(account: OfficialAccount, b: Broadcast, at: datetime) -> None:
    """Account status (R7) and the certification gate (R4) at the send time.

    Raises account_suspended, certification_required. Also used by the delivery engine at dispatch.
    """
    if account.is_suspended(at):
        until = f"until {quota.fmt_moment(account.suspended_until)}" if account.suspended_until else "until reinstated"
        reason = f", reason: {account.suspension_reason}" if account.suspension_reason else ""
        raise AccountSuspended(
            f"{_kind_name(account)} is suspended {until}{reason}; it cannot broadcast at {quota.fmt_moment(at)}.",
            account=account.pk,
        )
    if b.channel == Broadcast.Channel.API or b.is_targeted:
        what = _advanced_what(b)
        if not account.is_service:
            raise CertificationRequired(
                f"{_kind_name(account)} cannot send {what}: the advanced mass interface is open only to "
                "certified service accounts.",
                account=account.pk,
            )
        if not account.is_certified(at=at):
            raise CertificationRequired(
                f"{_kind_name(account)} has no certification valid at {quota.fmt_moment(at)} "
                f"({_certification_status(account, at)}); {what} needs a certified service account.",
                account=account.pk,
            )


# --- create and edit ------------------------------------------------------------------


def create_broadcast(
    account: OfficialAccount,
    *,
    by,
    title: str,
    message_type: str,
    body: str = "",
    url: str = "",
    cover_url: str = "",
    channel: str = "console",
    audience: str = "all",
    tag=None,
    recipients=None,
    client_msg_id: str | None = None,
    scheduled_at: datetime | None = None,
) -> Broadcast:
    """Store a draft; a client_msg_id already used by the account returns that broadcast instead.

    Raises invalid_content, invalid_audience.
    """
    client_msg_id = (client_msg_id or "").strip() or None
    if client_msg_id is not None:
        if len(client_msg_id) > CLIENT_MSG_ID_MAX:
            raise InvalidContent(
                f"A client message id is at most {CLIENT_MSG_ID_MAX} characters.", field="client_msg_id"
            )
        existing = Broadcast.objects.filter(account=account, client_msg_id=client_msg_id).first()
        if existing is not None:
            return existing
    fields = {
        "title": title, "message_type": message_type, "body": body, "url": url, "cover_url": cover_url,
        "channel": channel, "audience": audience, "tag": tag,
    }
    ids = _recipient_ids(recipients)
    _validate(account, fields, ids)
    try:
        with transaction.atomic():
            b = Broadcast.objects.create(
                account=account, created_by=by, client_msg_id=client_msg_id,
                scheduled_at=_aware(scheduled_at) if scheduled_at else None, **fields,
            )
            if ids:
                _set_recipients(b, ids)
            record_event(b, by=by, verb="created")
    except IntegrityError:
        # Two requests with the same client_msg_id at once: the unique constraint let one in.
        existing = client_msg_id and Broadcast.objects.filter(account=account, client_msg_id=client_msg_id).first()
        if existing:
            return existing
        raise
    return b


@transaction.atomic
def update_broadcast(broadcast: Broadcast, *, by, **fields) -> Broadcast:
    """Edit a draft's content, audience or send time (not its account or client_msg_id).

    Raises invalid_state, invalid_content, invalid_audience.
    """
    unknown = set(fields) - EDITABLE_FIELDS - FIXED_FIELDS.keys()
    if unknown:
        raise TypeError(f"update_broadcast() cannot change {', '.join(sorted(unknown))}")
    account, b = _lock(broadcast)
    if b.status != Broadcast.Status.DRAFT:
        raise InvalidState(f"Only drafts can be edited; “{b.title}” is {_status_word(b)}.")
    for name in FIXED_FIELDS.keys() & set(fields):
        value = fields.pop(name)
        if name == "account":
            changed = getattr(value, "pk", value) != b.account_id
        else:
            changed = ((value or "").strip() or None) != b.client_msg_id
        if changed:
            raise InvalidContent(
                f"The {FIXED_FIELDS[name]} of a broadcast cannot be changed; create a new broadcast instead.",
                field=name,
            )
    new = {
        "title": b.title, "message_type": b.message_type, "body": b.body, "url": b.url, "cover_url": b.cover_url,
        "channel": b.channel, "audience": b.audience, "tag": b.tag,
    }
    new.update({k: v for k, v in fields.items() if k not in ("recipients", "scheduled_at")})
    if new["audience"] != Broadcast.Audience.TAG and "tag" not in fields:
        new["tag"] = None  # switching away from a tag audience drops the tag
    if "recipients" in fields:
        ids = _recipient_ids(fields["recipients"])
    elif new["audience"] == Broadcast.Audience.FOLLOWERS:
        ids = list(b.recipients.order_by("id").values_list("id", flat=True))
    else:
        ids = []
    _validate(account, new, ids)
    for name, value in new.items():
        setattr(b, name, value)
    if "scheduled_at" in fields:
        b.scheduled_at = _aware(fields["scheduled_at"]) if fields["scheduled_at"] else None
    b.save(update_fields=[*new.keys(), "scheduled_at"])
    if "recipients" in fields or new["audience"] != Broadcast.Audience.FOLLOWERS:
        _set_recipients(b, ids)
    record_event(b, by=by, verb="edited", note=", ".join(sorted(fields)))
    return b


# --- violations and penalties (R7) ------------------------------------------------------


def record_violation(
    account: OfficialAccount, *, by, points: int, rule: ContentRule | None = None, broadcast: Broadcast | None = None
) -> Violation:
    """Record violation points and suspend the account when its points in the penalty window reach the threshold.

    The caller holds (or this takes) the account's row lock. Raises nothing.
    """
    with transaction.atomic():
        account = OfficialAccount.objects.select_for_update().get(pk=account.pk)
        violation = Violation.objects.create(account=account, broadcast=broadcast, rule=rule, points=points)
        record_event(violation, by=by, verb="violation", account=account,
                     note=f"{points} points" + (f" for {rule}" if rule else ""))
        apply_penalties(account)
    return violation


def apply_penalties(account: OfficialAccount, *, now: datetime | None = None) -> OfficialAccount | None:
    """Suspend the account if its violation points within the window reach the threshold; None if not suspended now."""
    now = now or timezone.now()
    days = settings.BROADCAST_PENALTY_WINDOW_DAYS
    threshold = settings.BROADCAST_PENALTY_POINTS
    points = selectors.violation_points(account, now=now)
    account.refresh_from_db(fields=["status", "suspended_until"])
    if points < threshold or account.is_suspended(now):
        return None
    return suspend_account(
        account,
        by=None,
        until=now + timedelta(days=settings.BROADCAST_PENALTY_DAYS),
        reason=(
            f"{points} violation points in the last {days} days reached the threshold of {threshold}; "
            f"broadcasting suspended for {settings.BROADCAST_PENALTY_DAYS} days"
        ),
    )


# --- the review workflow ------------------------------------------------------------------


def submit_broadcast(broadcast: Broadcast, *, by) -> Broadcast:
    """Screen a draft and queue it for review (draft -> pending_review, flag findings attached).

    A blocking rule rejects it at once and records a violation; both are committed
    before ContentBlocked is raised. Raises invalid_state, invalid_content, invalid_audience, content_blocked.
    """
    blocked = None
    with transaction.atomic():
        account, b = _lock(broadcast)
        if b.status != Broadcast.Status.DRAFT:
            raise InvalidState(f"Only drafts can be submitted; “{b.title}” is {_status_word(b)}.")
        fields = {
            "title": b.title, "message_type": b.message_type, "body": b.body, "url": b.url,
            "cover_url": b.cover_url, "channel": b.channel, "audience": b.audience, "tag": b.tag,
        }
        ids = list(b.recipients.values_list("id", flat=True)) if b.audience == Broadcast.Audience.FOLLOWERS else []
        _validate(account, fields, ids)
        findings = moderation.screen_broadcast(b)
        blocks = [f for f in findings if f.is_block]
        now = timezone.now()
        b.submitted_at = now
        b.findings = [f.as_dict() for f in findings]
        if not blocks:
            b.status = Broadcast.Status.PENDING_REVIEW
            b.save(update_fields=["status", "submitted_at", "findings"])
            note = f"{len(findings)} moderation finding(s)" if findings else ""
            record_event(b, by=by, verb="submitted", note=note)
            return b
        worst = blocks[0]  # the blocking rule with the most points
        b.status = Broadcast.Status.REJECTED
        b.reviewed_by = None
        b.reviewed_at = now
        b.review_note = "Rejected automatically by moderation: matches " + "; ".join(f.describe() for f in blocks) + "."
        b.save(update_fields=["status", "submitted_at", "findings", "reviewed_by", "reviewed_at", "review_note"])
        record_event(b, by=by, verb="submitted")
        record_event(b, by=None, verb="rejected", note=b.review_note)
        record_violation(account, by=None, points=worst.rule.points, rule=worst.rule, broadcast=b)
        blocked = ContentBlocked(
            f"“{b.title}” was rejected: it matches {worst.describe()}; "
            f"{account.name} receives {worst.rule.points} violation points.",
            broadcast=b.pk, rule=worst.rule.pk,
        )
    # Outside the atomic block: the rejection and the violation stay committed.
    raise blocked


@transaction.atomic
def approve_broadcast(broadcast: Broadcast, *, by, send_at: datetime | None = None) -> Broadcast:
    """Approve for sending at `send_at` (default its scheduled time; past means now), taking a quota slot.

    Raises invalid_state, four_eyes, account_suspended, certification_required, quota_exceeded, no_quota_policy.
    """
    account, b = _lock(broadcast)
    if b.status != Broadcast.Status.PENDING_REVIEW:
        raise InvalidState(f"Only broadcasts pending review can be approved; “{b.title}” is {_status_word(b)}.")
    if by is not None and b.created_by_id == by.pk:
        raise FourEyes(
            f"“{b.title}” was written by {by.get_username()}; another reviewer must approve it (four eyes)."
        )
    at = _send_time(send_at or b.scheduled_at)
    check_can_send(account, b, at)
    quota.release_reservation(b)  # a pending broadcast holds none; never let a stale one block a slot
    reservation = quota.reserve_slot(b, account=account, at=at)
    b.status = Broadcast.Status.APPROVED
    b.scheduled_at = at
    b.reviewed_by = by
    b.reviewed_at = timezone.now()
    b.save(update_fields=["status", "scheduled_at", "reviewed_by", "reviewed_at"])
    note = f"send at {quota.fmt_moment(at)}"
    if reservation is not None:
        window = quota.window_for(reservation.policy.period, at)
        note += f"; slot {reservation.slot} of {reservation.policy.limit} for {window.describe()}"
    record_event(b, by=by, verb="approved", note=note)
    return b


@transaction.atomic
def reject_broadcast(broadcast: Broadcast, *, by, reason: str) -> Broadcast:
    """Reject a broadcast pending review, or withdraw an approval before sending; gives its slot back.

    Raises reason_required, invalid_state.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired("Give a reason to reject a broadcast; the author is told why.")
    account, b = _lock(broadcast)
    if b.status not in (Broadcast.Status.PENDING_REVIEW, Broadcast.Status.APPROVED):
        raise InvalidState(
            f"Only broadcasts pending review or approved and not yet sending can be rejected; "
            f"“{b.title}” is {_status_word(b)}."
        )
    quota.release_reservation(b)
    b.status = Broadcast.Status.REJECTED
    b.reviewed_by = by
    b.reviewed_at = timezone.now()
    b.review_note = reason
    b.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    record_event(b, by=by, verb="rejected", note=reason)
    return b


@transaction.atomic
def cancel_broadcast(broadcast: Broadcast, *, by) -> Broadcast:
    """Cancel a broadcast. Before sending its slot is given back; while sending or paused no
    further batch goes out and the slot stays used (messages went out). Raises invalid_state.
    """
    account, b = _lock(broadcast)
    before_sending = (Broadcast.Status.DRAFT, Broadcast.Status.PENDING_REVIEW, Broadcast.Status.APPROVED)
    during_sending = (Broadcast.Status.SENDING, Broadcast.Status.PAUSED)
    if b.status in before_sending:
        released = quota.release_reservation(b)
        note = "quota slot given back" if released else ""
        update_fields = ["status"]
    elif b.status in during_sending:
        # The delivery engine checks the status between batches and stops.
        b.finished_at = timezone.now()
        note = f"stopped while {_status_word(b)}; {b.sent_count} sent so far"
        update_fields = ["status", "finished_at"]
    else:
        raise InvalidState(f"“{b.title}” is {_status_word(b)}; only broadcasts not yet finished can be cancelled.")
    b.status = Broadcast.Status.CANCELLED
    b.save(update_fields=update_fields)
    record_event(b, by=by, verb="cancelled", note=note)
    return b


@transaction.atomic
def reschedule_broadcast(broadcast: Broadcast, *, by, send_at: datetime) -> Broadcast:
    """Move an approved broadcast to `send_at` (past means now), moving its slot to that window.

    If the new window is full the old slot and time stay. Raises invalid_state,
    account_suspended, certification_required, quota_exceeded, no_quota_policy.
    """
    account, b = _lock(broadcast)
    if b.status != Broadcast.Status.APPROVED:
        raise InvalidState(f"Only approved broadcasts can be rescheduled; “{b.title}” is {_status_word(b)}.")
    at = _send_time(send_at)
    check_can_send(account, b, at)
    old = b.scheduled_at
    quota.move_reservation(b, account=account, at=at)
    b.scheduled_at = at
    b.save(update_fields=["scheduled_at"])
    record_event(
        b, by=by, verb="rescheduled",
        note=f"from {quota.fmt_moment(old) if old else 'now'} to {quota.fmt_moment(at)}",
    )
    return b


# The delivery engine's public services (issue 5), so callers need only this module.
# engine.py imports services only inside functions, so this import at the end is safe.
from .engine import (  # noqa: E402,F401
    deliver_batch,
    dispatch_broadcast,
    dispatch_due_broadcasts,
    pause_broadcast,
    requeue_stale_batches,
    resume_broadcast,
)
