"""Follows and unfollows (R8): one rule for the admin, imports and the platform's events, set-based per batch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from operator_console.platform_time import format_moment
from operator_console.text import Kind, clean_text

from .. import sql
from ..exceptions import (
    AccountNotFound,
    BatchTooLarge,
    DomainError,
    FollowerNotFound,
    InvalidInput,
    TimeInFuture,
)
from ..models import (
    AuditEvent,
    Follower,
    FollowerEvent,
    OfficialAccount,
)
from .audit import record_event


def validate_follower(*, openid: str = "", nickname: str = "") -> dict:
    """A follower's openid and nickname as they would be stored (stripped), checked by the
    console's text hygiene rule (operator_console.text) without writing: the openid an
    identifier, the nickname one line. Raises unsafe_text (context `field`)."""
    return {
        "openid": clean_text((openid or "").strip(), kind=Kind.IDENTIFIER, label=_("The openid"), field="openid"),
        "nickname": clean_text((nickname or "").strip(), kind=Kind.LINE, label=_("The nickname"), field="nickname"),
    }


def validate_tag_name(name: str) -> str:
    """A tag name as it would be stored (stripped), checked by the text hygiene rule (one line,
    something visible) without writing. Raises unsafe_text (context `field` "name")."""
    return clean_text((name or "").strip(), kind=Kind.LINE, label=_("The tag name"), field="name")


# --- follows and unfollows (R8: every change is kept in FollowerEvent) ------------------------------

# The most events one call applies: one statement's worth, and the intake's batch limit.
FOLLOWER_EVENTS_MAX = 1000
# A batch is run again for the events whose new follower a concurrent batch made first (the
# second run finds it); once is enough, the bound only guards against a loop.
RACE_RERUNS = 3


class FollowerEventIn(NamedTuple):
    """One follow ("subscribe") or unfollow ("unsubscribe") of `openid` at the account `app_id`; `at` None: now."""

    app_id: str
    openid: str
    kind: str
    at: datetime | None = None


class EventResult(NamedTuple):
    """What apply_follower_events did with one event: "applied" (the follower changed), "unchanged"
    (a repeat, or older than what is known of the follower) or "refused" (`error` says why)."""

    status: str
    error: DomainError | None = None


APPLIED, UNCHANGED, REFUSED = "applied", "unchanged", "refused"


def follow(follower: Follower, *, at: datetime | None = None) -> Follower:
    """The follower follows from `at` (default now); following while following changes nothing, and so
    does a time not newer than the newest event seen for the follower. Raises time_in_future."""
    return _change_one(follower, FollowerEvent.Kind.SUBSCRIBE, at)


def unfollow(follower: Follower, *, at: datetime | None = None) -> Follower:
    """The follower unfollows at `at` (default now); unfollowing an unfollowed follower changes nothing, and
    so does a time not newer than the newest event seen for the follower. Raises time_in_future."""
    return _change_one(follower, FollowerEvent.Kind.UNSUBSCRIBE, at)


@transaction.atomic
def set_following(followers: Sequence[Follower], *, by, following: bool) -> int:
    """Ops mark followers as following again or unfollowed, now (the admin's actions): the same rule as
    the platform's events, in batches of FOLLOWER_EVENTS_MAX; each change audited. Returns followers changed."""
    kind = FollowerEvent.Kind.SUBSCRIBE if following else FollowerEvent.Kind.UNSUBSCRIBE
    app_ids = dict(OfficialAccount.objects.filter(pk__in={f.account_id for f in followers}).values_list("pk", "app_id"))
    note = "marked as following again by ops" if following else "marked as unfollowed by ops"
    changed = 0
    for start in range(0, len(followers), FOLLOWER_EVENTS_MAX):
        chunk = followers[start:start + FOLLOWER_EVENTS_MAX]
        results = apply_follower_events([FollowerEventIn(app_ids[f.account_id], f.openid, kind) for f in chunk])
        for follower, result in zip(chunk, results, strict=True):
            if result.status == APPLIED:
                changed += 1
                record_event(follower, by=by, verb=AuditEvent.Verb.EDITED, note=note)
    return changed


def _change_one(follower: Follower, kind: str, at: datetime | None) -> Follower:
    # One follower goes through the batch statement: one rule for the admin, imports and the platform.
    app_id = OfficialAccount.objects.values_list("app_id", flat=True).get(pk=follower.account_id)
    (result,) = apply_follower_events([FollowerEventIn(app_id, follower.openid, kind, at)])
    if result.error is not None:
        raise result.error
    follower.refresh_from_db(fields=["subscribed", "subscribed_at", "unsubscribed_at", "last_event_at"])
    return follower


def apply_follower_events(events: Sequence[FollowerEventIn], *, now: datetime | None = None) -> list[EventResult]:
    """Apply up to FOLLOWER_EVENTS_MAX follows and unfollows in one statement, idempotently: the same
    events again change nothing. Returns one EventResult per event, in order.

    Per follower the newest event wins: a change applies only when it differs from the follower's
    state and is newer than the newest event seen for the follower (`last_event_at`, from any
    source and any earlier batch, including events that changed nothing; before any was recorded,
    when the state began). Every event raises `last_event_at`, so an older event arriving in a
    later batch changes nothing. A follow of an unknown openid makes the follower. Refused per event (in the results,
    not raised): account_not_found, follower_not_found (an unfollow of an unknown openid),
    time_in_future. Raises batch_too_large, invalid_input (a kind that is neither, a naive time).
    """
    now = now or timezone.now()
    if len(events) > FOLLOWER_EVENTS_MAX:
        raise BatchTooLarge(
            ngettext("A batch holds at most %(max)d event; this one has %(count)d.",
                     "A batch holds at most %(max)d events; this one has %(count)d.", FOLLOWER_EVENTS_MAX)
            % {"max": FOLLOWER_EVENTS_MAX, "count": len(events)}
        )
    results: list[EventResult | None] = [None] * len(events)
    pending = []
    for pos, event in enumerate(events):
        at = now if event.at is None else event.at
        if event.kind not in FollowerEvent.Kind.values:
            raise InvalidInput(_("Event %(pos)d: the kind is “subscribe” or “unsubscribe”.") % {"pos": pos})
        if timezone.is_naive(at):
            raise InvalidInput(_("Event %(pos)d: the time has no time zone.") % {"pos": pos})
        if at > now:
            results[pos] = EventResult(REFUSED, TimeInFuture(
                _("The %(kind)s of %(openid)s is dated %(at)s, which is later than now.")
                % {"kind": _kind_word(event.kind), "openid": event.openid, "at": format_moment(at)}
            ))
            continue
        pending.append((pos, event.app_id, event.openid, event.kind, at))
    for _attempt in range(RACE_RERUNS):
        if not pending:
            break
        outcomes = sql.apply_events(pending, now=now)
        raced = [row for row in pending if outcomes[row[0]] == sql.Outcome.RACED]
        for row in pending:
            if outcomes[row[0]] != sql.Outcome.RACED:
                results[row[0]] = _event_result(outcomes[row[0]], app_id=row[1], openid=row[2])
        pending = raced
    if pending:
        raise RuntimeError(f"Follower events still racing after {RACE_RERUNS} runs: {pending[:3]}")
    return results


def _kind_word(kind: str) -> str:
    return _("follow") if kind == FollowerEvent.Kind.SUBSCRIBE else _("unfollow")


def _event_result(outcome: str, *, app_id: str, openid: str) -> EventResult:
    if outcome == sql.Outcome.APPLIED:
        return EventResult(APPLIED)
    if outcome == sql.Outcome.UNCHANGED:
        return EventResult(UNCHANGED)
    if outcome == sql.Outcome.UNKNOWN_ACCOUNT:
        return EventResult(REFUSED, AccountNotFound(
            _("No official account with app_id %(app_id)s.") % {"app_id": app_id}, app_id=app_id
        ))
    return EventResult(REFUSED, FollowerNotFound(
        _("Account %(app_id)s has no follower %(openid)s to unfollow.") % {"app_id": app_id, "openid": openid},
        app_id=app_id, openid=openid,
    ))
