"""The advanced mass interface's sends (`/cgi-bin/message/mass/*`, issue 11): what a call through
the API asks of the lifecycle services, with the system (`by=None`) as author and approver and
the caller's credential named in the audit trail.

A send (`send_through_api`) is one transaction under the account's row lock:

1. the client message id, given or (as on the platform) a digest of audience and content: if
   the account made a broadcast with it within 24 hours, nothing new is made
   (`duplicate_client_msg_id`, with that broadcast's id). The lock makes this hold for
   concurrent requests: the second waits for the first to commit, then finds its broadcast;
2. `create_broadcast` (the one validation of content and audience), channel `api`;
3. `check_can_send` now: a suspended (R7) or uncertified (R4) account is refused before
   moderation, so a send it may not make costs it no violation;
4. `submit_broadcast`: moderation. A block rule keeps the rejected broadcast and its violation
   (committed) and refuses the call (`content_blocked`);
5. clean: `approve_broadcast(by=None)` with every approval check (quota for a send to all
   followers, R3a; certification, R4). Its refusal rolls everything back: nothing is kept and
   the same client message id may be sent again;
6. flagged: the broadcast waits in the review queue (`mass/get` says SENDING).

After commit an approved send is dispatched at once (the dispatch task, by name) rather than
at beat's next minute.
"""

from __future__ import annotations

import hashlib
import json

from celery import current_app
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.exceptions import FollowerNotFound
from accounts.models import AuditEvent, Follower, OfficialAccount, Tag
from accounts.services import record_event
from operator_console.platform_time import format_moment

from .. import moderation, selectors
from ..exceptions import (
    ContentBlocked,
    DuplicateClientMsgId,
    InvalidMediaId,
    InvalidMessageType,
    PreviewTargetUnsupported,
    TagNotFound,
)
from ..models import Broadcast, PreviewMessage
from ..task_names import DISPATCH_DUE_BROADCASTS
from .drafts import create_broadcast, normalize_client_msg_id, validate_draft
from .eligibility import check_can_send
from .locks import lock_account
from .recipients import recipients_by_openid
from .review import approve_broadcast, cancel_broadcast, submit_broadcast

# The platform's message types that carry a `media_id`. The console keeps no media yet, so no
# media id is valid (40007); any other type but text is unknown to the console (40008).
MEDIA_MESSAGE_TYPES = frozenset({"mpnews", "image", "voice", "mpvideo"})
TITLE_SNIPPET = 40  # characters of the text that name an API broadcast in the console
DIGEST_PREFIX = "digest:"


def _message_fields(msgtype: str, content: str) -> dict:
    """The console's message fields for the platform's `msgtype` and text content.

    Raises invalid_media_id, invalid_message_type.
    """
    if msgtype in MEDIA_MESSAGE_TYPES:
        raise InvalidMediaId(
            _("Messages of type %(type)s carry a media_id, and the console keeps no media yet; send text.")
            % {"type": msgtype}
        )
    if msgtype != "text":
        raise InvalidMessageType(_("Unknown msgtype “%(type)s”; the console sends text.") % {"type": msgtype})
    first_line = content.strip().splitlines()[0] if content.strip() else ""
    snippet = first_line[:TITLE_SNIPPET] + ("…" if len(first_line) > TITLE_SNIPPET else "")
    title = _("API: %(snippet)s") % {"snippet": snippet} if snippet else _("API text message")
    return {"title": title, "message_type": Broadcast.MessageType.TEXT, "body": content}


def _audience(account: OfficialAccount, *, to_all: bool, tag_id: int | None, openids: list[str] | None) -> dict:
    """The broadcast's audience fields. Another account's tag or follower is not found either.

    Raises tag_not_found, follower_not_found, invalid_audience (the list's size; recipients.py).
    """
    if openids is not None:
        return {"audience": Broadcast.Audience.FOLLOWERS, "recipients": recipients_by_openid(account, openids, subscribed_only=False)}
    if to_all:
        return {"audience": Broadcast.Audience.ALL}
    tag = Tag.objects.filter(account=account, pk=tag_id).first() if tag_id is not None else None
    if tag_id is not None and tag is None:
        raise TagNotFound(_("%(name)s has no tag with id %(id)s.") % {"name": account.name, "id": tag_id})
    return {"audience": Broadcast.Audience.TAG, "tag": tag}


def _digest(msgtype: str, content: str, *, to_all: bool, tag_id: int | None, openids: list[str] | None) -> str:
    """The platform's stand-in for a missing client message id: a digest of audience and content."""
    audience = ["openids", sorted(set(openids))] if openids is not None else ["all"] if to_all else ["tag", tag_id]
    payload = json.dumps([msgtype, content, audience], ensure_ascii=False, separators=(",", ":"))
    return DIGEST_PREFIX + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:56]


def _duplicate(existing: Broadcast, client_msg_id: str) -> DuplicateClientMsgId:
    when = format_moment(existing.created_at)
    if client_msg_id.startswith(DIGEST_PREFIX):
        text = _("The same message to the same audience was sent as broadcast #%(id)d at %(when)s; an identical "
                 "send is refused for 24 hours (give a clientmsgid to tell sends apart).")
    else:
        text = _("clientmsgid “%(cmid)s” already named broadcast #%(id)d at %(when)s; a clientmsgid names one send "
                 "for 24 hours.")
    return DuplicateClientMsgId(text % {"id": existing.pk, "when": when, "cmid": client_msg_id}, msg_id=existing.pk)


def _dispatch_soon() -> None:
    current_app.send_task(DISPATCH_DUE_BROADCASTS)


def send_through_api(
    account: OfficialAccount,
    *,
    credential: str,
    msgtype: str,
    content: str = "",
    to_all: bool = False,
    tag_id: int | None = None,
    openids: list[str] | None = None,
    client_msg_id: str | None = None,
) -> Broadcast:
    """A mass send through the API (to all followers, a tag, or 2 to 10,000 openids): created,
    screened, and approved by the system at once when clean (see the module's steps).

    Returns the broadcast (approved, or pending review when flagged). Raises invalid_media_id,
    invalid_message_type, tag_not_found, follower_not_found, duplicate_client_msg_id (context
    `msg_id`), client_msg_id_too_long, invalid_content, invalid_audience, account_suspended,
    certification_required, content_blocked, quota_exceeded, no_quota_policy.
    """
    fields = _message_fields(msgtype, content)
    cmid = normalize_client_msg_id(client_msg_id) or _digest(
        msgtype, content, to_all=to_all, tag_id=tag_id, openids=openids
    )
    blocked = None
    with transaction.atomic():
        account = lock_account(account)
        audience = _audience(account, to_all=to_all, tag_id=tag_id, openids=openids)
        existing = selectors.recent_broadcast_with_client_msg_id(account, cmid)
        if existing is not None:
            raise _duplicate(existing, cmid)
        b = create_broadcast(
            account, by=None, channel=Broadcast.Channel.API, client_msg_id=cmid, note=credential, **fields, **audience
        )
        check_can_send(account, b, timezone.now())
        try:
            b = submit_broadcast(b, by=None)
        except ContentBlocked as exc:
            blocked = exc  # the rejection and the violation are kept: commit them, then refuse
        else:
            if not b.findings:
                b = approve_broadcast(b, by=None, note=credential)
                transaction.on_commit(_dispatch_soon, robust=True)
    if blocked is not None:
        raise blocked
    return b


def preview_through_api(
    account: OfficialAccount, *, credential: str, msgtype: str, content: str = "", openid: str = "", wxname: str = ""
) -> PreviewMessage:
    """One message to one follower (`mass/preview`): outside the account quota and the follower
    cap, and no broadcast. The account must be allowed to use the interface now (R4, R7);
    moderation runs, a block rule refuses the preview (no violation: it reaches one person).

    Raises preview_target_unsupported (a WeChat id, `towxname`), invalid_media_id,
    invalid_message_type, follower_not_found, invalid_content, account_suspended,
    certification_required, content_blocked.
    """
    if not openid:
        raise PreviewTargetUnsupported(
            _("A preview goes to a follower's openid (touser); the console knows no WeChat ids (towxname).")
            if wxname else _("A preview needs the follower's openid (touser).")
        )
    fields = _message_fields(msgtype, content)
    follower = Follower.objects.filter(account=account, openid=openid, subscribed=True).first()
    if follower is None:
        raise FollowerNotFound(
            _("“%(openid)s” is not a follower of %(name)s.") % {"openid": openid, "name": account.name}, openid=openid
        )
    check_can_send(account, Broadcast(account=account, channel=Broadcast.Channel.API), timezone.now())
    fields = validate_draft(account, channel=Broadcast.Channel.API, audience=Broadcast.Audience.ALL, **fields)
    findings = moderation.screen(body=fields["body"])
    blocks = [f for f in findings if f.is_block]
    if blocks:
        raise ContentBlocked(
            _("The preview was refused: it matches %(rule)s.") % {"rule": blocks[0].describe()}, rule=blocks[0].rule.pk
        )
    with transaction.atomic():
        preview = PreviewMessage.objects.create(
            account=account, follower=follower, message_type=fields["message_type"], body=fields["body"],
            findings=[f.as_dict() for f in findings],
        )
        record_event(preview, by=None, verb=AuditEvent.Verb.PREVIEWED, account=account, note=credential)
    return preview


def cancel_through_api(account: OfficialAccount, *, credential: str, msg_id: int) -> Broadcast:
    """Cancel (`mass/delete`) one of the account's API broadcasts that has not finished.

    Raises broadcast_not_found, invalid_state.
    """
    b = selectors.api_broadcast(account, msg_id)
    return cancel_broadcast(b, by=None, note=credential)
