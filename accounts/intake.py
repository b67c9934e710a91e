"""The platform events intake's wire format: its HMAC signature and its JSON body, checked strictly.

Pure Python, no database: accounts.views.follower_events authenticates and parses a request
with these, then hands the events to accounts.services.apply_follower_events. Every refusal is
a DomainError; the view answers it as JSON. The README ("Platform events intake") documents
the format.

    POST /internal/v1/follower-events
    X-Platform-Timestamp: <unix seconds>
    X-Platform-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with PLATFORM_EVENTS_SECRET>

    {"events": [{"appid": "wx…", "openid": "o…", "event": "subscribe" | "unsubscribe",
                 "at": <unix seconds> | "<ISO 8601 with offset>" (optional: when received)}, …]}
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from operator_console.admin_tools import EARLIEST_YEAR, LATEST_YEAR

from .exceptions import BatchTooLarge, InvalidInput, SignatureInvalid
from .models import FollowerEvent
from .services import FOLLOWER_EVENTS_MAX, FollowerEventIn

TIMESTAMP_HEADER = "X-Platform-Timestamp"
SIGNATURE_HEADER = "X-Platform-Signature"
# Events of a request and their fields as the platform names them.
EVENT_KINDS = tuple(FollowerEvent.Kind.values)
ID_MAX_CHARS = 64  # Follower.openid; an appid longer than this is no account's
# A refused batch names at most this many problems.
PROBLEMS_SHOWN = 10
_EARLIEST = datetime(EARLIEST_YEAR, 1, 1, tzinfo=UTC)
_LATEST = datetime(LATEST_YEAR, 12, 31, 23, 59, 59, tzinfo=UTC)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Platform-Signature value of `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(*, secret: str, timestamp: str | None, signature: str | None, body: bytes,
                     now: float, max_skew: int) -> None:
    """Accept a request signed with `secret` within `max_skew` seconds of `now`. Raises signature_invalid."""
    if not timestamp or not signature:
        raise SignatureInvalid(
            _("Sign the request: headers %(ts)s and %(sig)s are required.") % {"ts": TIMESTAMP_HEADER, "sig": SIGNATURE_HEADER}
        )
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise SignatureInvalid(_("%(ts)s is the time in whole Unix seconds.") % {"ts": TIMESTAMP_HEADER})
    if abs(now - int(timestamp)) > max_skew:
        raise SignatureInvalid(
            ngettext(
                "The request's timestamp is more than %(skew)d second away from the console's clock; sign it again.",
                "The request's timestamp is more than %(skew)d seconds away from the console's clock; sign it again.",
                max_skew,
            )
            % {"skew": max_skew}
        )
    if not hmac.compare_digest(sign(secret, timestamp, body).encode(), signature.encode("utf-8", "replace")):
        raise SignatureInvalid(_("The signature does not match the body and timestamp."))


def parse_batch(body: bytes) -> list[FollowerEventIn]:
    """The events of a request body, or invalid_input / batch_too_large naming what is wrong (nothing half-read)."""
    try:
        data = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(_("The body is not valid JSON (UTF-8): %(error)s.") % {"error": exc}) from None
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise InvalidInput(_("The body is a JSON object with a list “events”."))
    items = data["events"]
    if not items:
        raise InvalidInput(_("The batch holds no events."))
    if len(items) > FOLLOWER_EVENTS_MAX:
        raise BatchTooLarge(
            ngettext("A batch holds at most %(max)d event; this one has %(count)d.",
                     "A batch holds at most %(max)d events; this one has %(count)d.", FOLLOWER_EVENTS_MAX)
            % {"max": FOLLOWER_EVENTS_MAX, "count": len(items)}
        )
    events, problems = [], []
    for index, item in enumerate(items):
        try:
            events.append(_event(item))
        except ValueError as exc:
            problems.append(_("Event %(index)d: %(problem)s") % {"index": index, "problem": exc})
    if problems:
        raise InvalidInput(
            _("The batch was refused whole, nothing was written: %(problems)s")
            % {"problems": " ".join(problems[:PROBLEMS_SHOWN])},
            problems=problems[:PROBLEMS_SHOWN], problem_count=len(problems),
        )
    return events


def _refuse_constant(name: str):
    raise ValueError(_("%(name)s is not a JSON number") % {"name": name})


def _event(item) -> FollowerEventIn:
    if not isinstance(item, dict):
        raise ValueError(_("each event is a JSON object."))
    app_id = _identifier(item, "appid")
    openid = _identifier(item, "openid")
    kind = item.get("event")
    if kind not in EVENT_KINDS:
        raise ValueError(_("“event” is “subscribe” or “unsubscribe”."))
    return FollowerEventIn(app_id=app_id, openid=openid, kind=kind, at=_moment(item.get("at")))


def _identifier(item: dict, key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not 0 < len(value) <= ID_MAX_CHARS or not value.isprintable() or value.strip() != value:
        raise ValueError(
            _("“%(key)s” is a string of 1 to %(max)d printable characters without surrounding spaces.")
            % {"key": key, "max": ID_MAX_CHARS}
        )
    return value


def _moment(value) -> datetime | None:
    """`at`: absent or null (when received), whole Unix seconds, or ISO 8601 with an offset."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(value, UTC) if 0 <= value < 10**11 else None
    elif isinstance(value, str) and len(value) <= 40:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is None:
            raise ValueError(_("“at” needs an offset (for example 2026-11-24T09:30:00+08:00)."))
    else:
        moment = None
    if moment is None or not _EARLIEST <= moment <= _LATEST:
        raise ValueError(
            _("“at” is whole Unix seconds or an ISO 8601 time with an offset, between %(earliest)d and %(latest)d.")
            % {"earliest": EARLIEST_YEAR, "latest": LATEST_YEAR}
        )
    return moment
