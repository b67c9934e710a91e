"""The broadcast form's audience picker: the account's tags and the audience size before saving.

Two small JSON endpoints that static/console/audience_picker.js calls (no inline script: CSP):

* `account-tags/?account=<id>` (GET): the chosen account's tags, for the add page's tag select;
* `audience-size/` (POST: account, audience, tag, recipients, channel): "Audience: N followers"
  for the draft as the form holds it, counted by the statement approval, dispatch and the
  review page use (`sql.audience`); for a follower list the listed openids that are subscribed
  followers of the account. What approval would certainly refuse (a targeted send of a
  subscription account) is said instead of a number.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts import selectors as account_selectors
from accounts.models import OfficialAccount, Tag
from operator_console.admin_tools import parse_id
from operator_console.errors import DomainError

from .. import selectors, services
from ..models import RECIPIENTS_MAX, Broadcast
from ..openid_lists import OpenidListError, read_openids


def audience_sentence(n: int) -> str:
    return ngettext("Audience: %(count)s follower", "Audience: %(count)s followers", n) % {"count": f"{n:,}"}


def _bad_request(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message, "text": message}, status=status)


def readonly_audience_fieldset(fieldset: tuple, obj: Broadcast) -> tuple:
    """The audience fieldset of a broadcast this person may not edit: the audience's own field only
    (the tag of a tag send, the list's openids as text), no upload."""
    name, options = fieldset
    hidden = {"recipients_file", "audience_size_live"}
    if obj.audience != Broadcast.Audience.TAG:
        hidden.add("tag")
    if obj.audience != Broadcast.Audience.FOLLOWERS:
        hidden.add("recipients")
    fields = [f for f in options["fields"] if f not in hidden]
    return name, {**options, "fields": tuple("recipient_openids" if f == "recipients" else f for f in fields)}


class AudiencePickerMixin:
    """BroadcastAdmin's picker endpoints and the live audience size on the draft form."""

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("account-tags/", wrap(self.account_tags_view), name=f"{prefix}_account_tags"),
            path("audience-size/", wrap(self.audience_size_view), name=f"{prefix}_audience_size"),
            *super().get_urls(),
        ]

    def _may_pick(self, request) -> bool:
        return self.has_add_permission(request) or self.has_change_permission(request)

    @admin.display(description=gettext_lazy("Audience now"))
    def audience_size_live(self, obj):
        """Redrawn by audience_picker.js as the form changes; a saved draft's size to start with."""
        name = self.admin_site.name
        return format_html(
            '<span id="bc-audience-size" aria-live="polite" data-url="{}" data-tags-url="{}" data-account="{}" '
            'data-empty="{}">{}</span>',
            reverse(f"{name}:broadcasts_broadcast_audience_size"),
            reverse(f"{name}:broadcasts_broadcast_account_tags"),
            obj.account_id or "" if obj is not None else "",
            _("Choose an account to see the audience size."),
            audience_sentence(selectors.audience_size(obj)) if obj is not None and obj.pk else "",
        )

    @admin.display(description=gettext_lazy("Openids"))
    def recipient_openids(self, obj):
        openids = selectors.recipient_openids(obj) if obj is not None and obj.pk else []
        return (
            format_html(
                '<div class="bc-openids" style="white-space: pre-line; max-height: 12em; overflow-y: auto">{}</div>',
                "\n".join(openids),
            )
            if openids
            else "-"
        )

    def account_tags_view(self, request):
        """The account's tags, by name: [{"id", "name"}] (the add page's tag select)."""
        if not self._may_pick(request):
            raise PermissionDenied
        return _account_tags(request)

    def audience_size_view(self, request):
        if not self._may_pick(request):
            raise PermissionDenied
        return _audience_size(request)


@require_GET
def _account_tags(request):
    account_id = parse_id(request.GET.get("account", ""))
    if account_id is None:
        return _bad_request(_("The account is given by its id, a whole number."))
    if not OfficialAccount.objects.filter(pk=account_id).exists():
        return _bad_request(_("There is no account with id %(id)s.") % {"id": account_id}, status=404)
    tags = Tag.objects.filter(account_id=account_id).order_by("name").values("id", "name")
    return JsonResponse({"tags": list(tags)})


@require_POST
def _audience_size(request):
    data = request.POST
    account_id = parse_id(data.get("account", ""))
    if account_id is None:
        return _bad_request(_("Choose an account to see the audience size."))
    account = OfficialAccount.objects.filter(pk=account_id).first()
    if account is None:
        return _bad_request(_("There is no account with id %(id)s.") % {"id": account_id}, status=404)
    audience = data.get("audience", "")
    if audience not in Broadcast.Audience.values:
        return _bad_request(_("Choose an audience: all, tag or followers."))
    channel = data.get("channel", "")
    draft = Broadcast(
        account=account,
        status=Broadcast.Status.DRAFT,
        audience=audience,
        channel=channel if channel in Broadcast.Channel.values else Broadcast.Channel.CONSOLE,
    )
    refusals = [r for r in services.eligibility_report(draft).refusals if r.context.get("field") != "scheduled_at"]
    if refusals:
        return JsonResponse({"text": refusals[0].message, "refused": True})
    recipient_ids = None
    if audience == Broadcast.Audience.TAG:
        tag_id = parse_id(data.get("tag", ""))
        if tag_id is None:
            return JsonResponse({"text": _("Choose a tag to see the audience size.")})
        draft.tag_id = tag_id  # another account's tag reaches nobody of this account: the statement says 0
    elif audience == Broadcast.Audience.FOLLOWERS:
        try:
            listed = read_openids(data.get("recipients", ""))
        except OpenidListError as exc:
            return JsonResponse({"text": exc.message, "refused": True})
        if len(listed.openids) > RECIPIENTS_MAX:  # refused on saving: say so, and probe no openid
            try:
                services.check_list_size(len(listed.openids))
            except DomainError as exc:
                return JsonResponse({"text": exc.message, "refused": True})
        found = account_selectors.follower_ids_by_openid(account, listed.openids)  # one index probe per openid
        recipient_ids = list(found.values())
    n = selectors.draft_audience_size(draft, recipient_ids=recipient_ids)
    return JsonResponse({"count": n, "text": audience_sentence(n)})
