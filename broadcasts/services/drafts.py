"""Drafts: the one validation of a broadcast's content and audience, and create / edit.

`validate_draft` is the single home of "is this a valid broadcast": the admin form, the
services below, submit, the commands and the API all use it, so a problem reads the
same everywhere. It reads (tags, followers) but never writes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import AuditEvent, Follower, OfficialAccount, Tag
from accounts.services import record_event
from operator_console.platform_time import as_platform_time, format_moment
from operator_console.text import Kind, clean_text

from .. import lifecycle, selectors, sql
from ..exceptions import ClientMsgIdTooLong, EditConflict, InvalidAudience, InvalidContent
from ..models import CLIENT_MSG_ID_MAX_BYTES, RECIPIENTS_MAX, RECIPIENTS_MIN, Broadcast
from .locks import lock_account, lock_broadcast

# Content and audience fields of a draft (validate_draft takes these, plus recipients).
CONTENT_FIELDS = ("title", "message_type", "body", "url", "cover_url", "channel", "audience", "tag")
# Fields a draft's author may change with update_broadcast.
EDITABLE_FIELDS = frozenset({*CONTENT_FIELDS, "recipients", "scheduled_at"})
# Fields fixed at creation: passing the current value is fine, another value is refused.
FIXED_FIELDS = {"account": gettext_lazy("account"), "client_msg_id": gettext_lazy("client message id")}
TITLE_MAX = Broadcast._meta.get_field("title").max_length
URL_MAX = Broadcast._meta.get_field("url").max_length

_validate_url = URLValidator(schemes=["http", "https"])


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
        raise InvalidAudience(_("Tag #%(id)s does not exist.") % {"id": tag}, field="tag")
    return found


def _check_content(f: dict) -> None:
    f["title"] = (f.get("title") or "").strip()
    if not f["title"]:
        raise InvalidContent(_("A broadcast needs a title."), field="title")
    if len(f["title"]) > TITLE_MAX:
        raise InvalidContent(
            _("A title is at most %(limit)s characters; this one has %(count)s.")
            % {"limit": TITLE_MAX, "count": len(f["title"])},
            field="title",
        )
    # The console's one text hygiene rule: no controls, escape sequences or bidi overrides, and
    # something visible; a body keeps its line breaks (as LF) and tabs.
    f["title"] = clean_text(f["title"], kind=Kind.LINE, label=_("The title"), field="title")
    f["body"] = clean_text(f.get("body") or "", kind=Kind.MULTILINE, label=_("The body"), field="body")
    message_type = f.get("message_type")
    if message_type not in Broadcast.MessageType.values:
        raise InvalidContent(
            _("Unknown message type “%(type)s”; use text, article or image.") % {"type": message_type},
            field="message_type",
        )
    for name, label in (("url", _("article link")), ("cover_url", _("cover image link"))):
        value = (f.get(name) or "").strip()
        f[name] = value
        if not value:
            continue
        clean_text(value, kind=Kind.IDENTIFIER, label=_("The %(link)s") % {"link": label}, field=name)
        if len(value) > URL_MAX:
            raise InvalidContent(
                _("The %(link)s is at most %(limit)s characters long.") % {"link": label, "limit": URL_MAX}, field=name
            )
        try:
            _validate_url(value)
        except ValidationError:
            raise InvalidContent(
                _("The %(link)s “%(value)s” is not a valid http(s) address.") % {"link": label, "value": value},
                field=name,
            ) from None
    if message_type == Broadcast.MessageType.TEXT and not f["body"].strip():
        raise InvalidContent(_("A text message needs a body."), field="body")
    if message_type == Broadcast.MessageType.ARTICLE and not f["url"]:
        raise InvalidContent(_("An article message needs the article's link."), field="url")
    if message_type == Broadcast.MessageType.IMAGE and not f["cover_url"]:
        raise InvalidContent(_("An image message needs the image's link."), field="cover_url")


def _check_audience(account: OfficialAccount, f: dict, recipient_ids: list[int]) -> None:
    channel, audience = f.get("channel"), f.get("audience")
    if channel not in Broadcast.Channel.values:
        raise InvalidAudience(_("Unknown channel “%(channel)s”; use console or api.") % {"channel": channel}, field="channel")
    if audience not in Broadcast.Audience.values:
        raise InvalidAudience(
            _("Unknown audience “%(audience)s”; use all, tag or followers.") % {"audience": audience}, field="audience"
        )
    tag = f["tag"] = _resolve_tag(f.get("tag"))
    if audience == Broadcast.Audience.TAG:
        if tag is None:
            raise InvalidAudience(_("A tag audience needs a tag."), field="tag")
        if tag.account_id != account.pk:  # the one "tag belongs to the account" check
            raise InvalidAudience(
                _("Tag “%(tag)s” belongs to another account, not %(account)s.") % {"tag": tag.name, "account": account.name},
                field="tag",
            )
    elif tag is not None:
        raise InvalidAudience(_("Only a tag audience takes a tag; choose the audience “tag” or remove the tag."), field="tag")
    if audience == Broadcast.Audience.FOLLOWERS:
        if channel != Broadcast.Channel.API:
            raise InvalidAudience(
                _("A list of followers can only be sent through the advanced mass interface (the api channel)."),
                field="audience",
            )
        n = len(recipient_ids)
        check_list_size(n)
        found = sql.fetch_one(sql.count_followers_among(account.pk, recipient_ids))[0]
        if found != n:
            missing = n - found
            raise InvalidAudience(
                ngettext(
                    "%(missing)s of the %(count)s listed followers does not follow %(account)s.",
                    "%(missing)s of the %(count)s listed followers do not follow %(account)s.",
                    missing,
                )
                % {"missing": f"{missing:,}", "count": f"{n:,}", "account": account.name},
                field="recipients",
            )
    elif recipient_ids:
        raise InvalidAudience(_("Only a follower-list audience takes recipients; choose the audience “followers”."),
                              field="recipients")


def check_list_size(n: int) -> None:
    """A follower list holds RECIPIENTS_MIN to RECIPIENTS_MAX followers (the platform's targeted
    send). Raises invalid_audience (context `field` "recipients")."""
    if not RECIPIENTS_MIN <= n <= RECIPIENTS_MAX:
        raise InvalidAudience(
            _("A follower list holds %(min)d to %(max)s followers; this one has %(n)s.")
            % {"min": RECIPIENTS_MIN, "max": f"{RECIPIENTS_MAX:,}", "n": f"{n:,}"},
            field="recipients",
        )


def validate_draft(account: OfficialAccount, *, recipients=None, **fields) -> dict:
    """Check a draft's content and audience without writing anything; returns the normalized
    fields (title stripped, tag as a Tag or None, ...).

    `fields`: title, message_type, body, url, cover_url, channel, audience, tag (a Tag or its id);
    `recipients`: followers or their ids (follower-list audience, 2 to 10,000).
    Raises invalid_content, invalid_audience, unsafe_text (operator_console.text: title and
    links one line, body several; nothing visible is refused); `context["field"]` names the field at fault.
    """
    f = {name: fields.get(name) for name in CONTENT_FIELDS}
    _check_content(f)
    _check_audience(account, f, _recipient_ids(recipients))
    return f


def _set_recipients(b: Broadcast, ids: list[int]) -> None:
    Broadcast.recipients.through.objects.filter(broadcast_id=b.pk).delete()
    if ids:
        sql.run(sql.insert_recipients(b.pk, ids))  # one statement, one parameter, for up to RECIPIENTS_MAX rows


def normalize_client_msg_id(client_msg_id: str | None) -> str | None:
    """The client message id as stored (stripped; None when empty). Raises client_msg_id_too_long."""
    client_msg_id = (client_msg_id or "").strip() or None
    if client_msg_id is not None and len(client_msg_id.encode("utf-8")) > CLIENT_MSG_ID_MAX_BYTES:
        raise ClientMsgIdTooLong(
            _("A client message id is at most %(max)d bytes (UTF-8); this one has %(n)d.")
            % {"max": CLIENT_MSG_ID_MAX_BYTES, "n": len(client_msg_id.encode("utf-8"))},
            field="client_msg_id",
        )
    return client_msg_id


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
    note: str = "",
) -> Broadcast:
    """Store a draft; a client_msg_id the account used within the last 24 hours returns that
    broadcast instead (after 24 hours the id starts a new one). `note` goes into the audit trail.

    `scheduled_at`: aware, or naive on the platform's wall clock; None means on approval.
    Raises invalid_content, client_msg_id_too_long, invalid_audience, unsafe_text.
    """
    client_msg_id = normalize_client_msg_id(client_msg_id)
    ids = _recipient_ids(recipients)
    with transaction.atomic():
        if client_msg_id is not None:
            # The 24-hour rule holds under concurrent requests because every create carrying an id
            # takes the account's row lock (the first lock of the services' order) before looking.
            lock_account(account)
            existing = selectors.recent_broadcast_with_client_msg_id(account, client_msg_id)
            if existing is not None:
                return existing
        fields = validate_draft(
            account, recipients=ids, title=title, message_type=message_type, body=body, url=url,
            cover_url=cover_url, channel=channel, audience=audience, tag=tag,
        )
        b = Broadcast.objects.create(
            account=account, created_by=by, client_msg_id=client_msg_id,
            scheduled_at=as_platform_time(scheduled_at) if scheduled_at else None, **fields,
        )
        if ids:
            _set_recipients(b, ids)
        record_event(b, by=by, verb=AuditEvent.Verb.CREATED, note=note)
    return b


def _refuse_fixed_changes(b: Broadcast, fields: dict) -> None:
    for name in FIXED_FIELDS.keys() & set(fields):
        value = fields.pop(name)
        if name == "account":
            changed = getattr(value, "pk", value) != b.account_id
        else:
            changed = ((value or "").strip() or None) != b.client_msg_id
        if changed:
            raise InvalidContent(
                _("The %(field)s of a broadcast cannot be changed; create a new broadcast instead.")
                % {"field": FIXED_FIELDS[name]},
                field=name,
            )


def _after_edit(account: OfficialAccount, b: Broadcast, fields: dict) -> tuple[dict, list[int]]:
    """The draft's content fields and recipient ids as `fields` (changes only) would leave them,
    validated. Switching away from a tag or a follower list drops it."""
    new = {name: getattr(b, name) for name in CONTENT_FIELDS}
    new.update({k: v for k, v in fields.items() if k in CONTENT_FIELDS})
    if new["audience"] != Broadcast.Audience.TAG and "tag" not in fields:
        new["tag"] = None  # switching away from a tag audience drops the tag
    if "recipients" in fields:
        ids = _recipient_ids(fields["recipients"])
    elif new["audience"] == Broadcast.Audience.FOLLOWERS:
        ids = list(b.recipients.order_by("id").values_list("id", flat=True))
    else:
        ids = []
    return validate_draft(account, recipients=ids, **new), ids


def draft_version(b: Broadcast) -> str:
    """A fingerprint of what an edit page shows of the draft (content, audience, list, send time):
    it changes with every edit that changes something, whoever makes it."""
    values = [repr(getattr(b, name)) for name in CONTENT_FIELDS if name != "tag"]
    values += [repr(b.tag_id), repr(b.scheduled_at)]
    values += [str(i) for i in b.recipients.order_by("id").values_list("id", flat=True)] if b.pk else []
    return hashlib.sha256("\x1f".join(values).encode()).hexdigest()[:32]


def refuse_stale_edit(b: Broadcast, expected_version: str | None, *, approving: bool = False) -> None:
    """Refuse an edit (or, `approving`, an approval) made on a page that showed another version of the
    broadcast (edit_conflict), naming who changed it last and when; None checks nothing (the API and
    commands act on what they read)."""
    if expected_version is None or expected_version == draft_version(b):
        return
    last = selectors.broadcast_history(b).filter(verb=AuditEvent.Verb.EDITED).order_by("-at", "-id").first()
    values = {
        "who": last.by.get_username() if last and last.by else _("someone else"),
        "when": format_moment(last.at) if last else "",
    }
    if approving:
        raise EditConflict(
            _("%(who)s changed this broadcast at %(when)s, after you opened it: review it again before approving.")
            % values if last else
            _("This broadcast was changed after you opened it: review it again before approving."),
        )
    raise EditConflict(
        _("%(who)s changed this draft at %(when)s, after this page was opened. What you typed is still "
          "below, not saved: reload the page to see their version, or save again to replace it with yours.")
        % values if last else
        _("This draft was changed after this page was opened. What you typed is still below, not saved: "
          "reload the page to see the draft as it is now, or save again to replace it with yours."),
    )


def validate_edit(broadcast: Broadcast, **changes) -> dict:
    """What update_broadcast would check for these changes, without writing (the admin form's
    validation of an edit). Returns the content fields as they would be stored.

    Raises invalid_content, invalid_audience, unsafe_text (context `field`), and invalid_content for a
    change of the fixed fields (account, client_msg_id).
    """
    changes = dict(changes)
    _refuse_fixed_changes(broadcast, changes)
    changes.pop("scheduled_at", None)
    return _after_edit(broadcast.account, broadcast, changes)[0]


@transaction.atomic
def update_broadcast(broadcast: Broadcast, *, by, expected_version: str | None = None, **fields) -> Broadcast:
    """Edit a draft's content, audience or send time (not its account or client_msg_id). With
    `expected_version` (draft_version of what the editor saw), an edit of a draft changed since is refused.

    Raises invalid_state, edit_conflict, invalid_content, invalid_audience, unsafe_text.
    """
    unknown = set(fields) - EDITABLE_FIELDS - FIXED_FIELDS.keys()
    if unknown:
        raise TypeError(f"update_broadcast() cannot change {', '.join(sorted(unknown))}")
    account, b = lock_broadcast(broadcast)
    lifecycle.require(b, lifecycle.Action.EDIT)
    refuse_stale_edit(b, expected_version)
    _refuse_fixed_changes(b, fields)
    new, ids = _after_edit(account, b, fields)
    for name, value in new.items():
        setattr(b, name, value)
    if "scheduled_at" in fields:
        b.scheduled_at = as_platform_time(fields["scheduled_at"]) if fields["scheduled_at"] else None
    b.save(update_fields=[*new.keys(), "scheduled_at"])
    if "recipients" in fields or new["audience"] != Broadcast.Audience.FOLLOWERS:
        _set_recipients(b, ids)
    record_event(b, by=by, verb=AuditEvent.Verb.EDITED, note=", ".join(sorted(fields)))
    return b


def duplicate_broadcast(broadcast: Broadcast, *, by) -> Broadcast:
    """A new draft by `by` with the content, audience and (future) send time of any broadcast; a
    rejected one's reason is carried onto the copy so its author sees what to fix.

    Raises invalid_content, invalid_audience, unsafe_text (the copy is validated as any draft).
    """
    lifecycle.require(broadcast, lifecycle.Action.DUPLICATE)
    source = Broadcast.objects.get(pk=broadcast.pk)
    ids = list(source.recipients.order_by("id").values_list("id", flat=True))
    future = source.scheduled_at if source.scheduled_at and source.scheduled_at > timezone.now() else None
    with transaction.atomic():
        copy = create_broadcast(
            source.account, by=by, recipients=ids, scheduled_at=future,
            note=_("duplicate of #%(id)s") % {"id": source.pk},
            **{name: getattr(source, name) for name in CONTENT_FIELDS},
        )
        if source.status == Broadcast.Status.REJECTED and source.review_note:
            copy.review_note = _("Copy of #%(id)s, rejected: %(reason)s") % {"id": source.pk, "reason": source.review_note}
            copy.save(update_fields=["review_note"])
    return copy
