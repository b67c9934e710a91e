"""Admin forms of the broadcasts app.

The draft form validates with `services.validate_draft` (the one validation of a broadcast's
content and audience; it writes nothing) and puts a refusal on the field it names. Saving is
the admin's: BroadcastAdmin.save_form calls `create_broadcast` / `update_broadcast`.
"""

from __future__ import annotations

import re
import secrets

from django import forms
from django.contrib.admin import widgets
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Tag
from operator_console.admin_tools import parse_id, validate_console_datetime
from operator_console.errors import DomainError

from . import selectors, services
from .exceptions import EditConflict
from .models import Broadcast
from .openid_lists import CSV_MAX_BYTES, OpenidListError, pasted_openids, read_openids

# The fields of a draft the admin form offers (create_broadcast / update_broadcast accept them).
# client_msg_id is the API's idempotency key: shown read-only, never typed in the console.
DRAFT_FIELDS = (
    "account",
    "title",
    "message_type",
    "body",
    "url",
    "cover_url",
    "channel",
    "audience",
    "tag",
    "recipients",
    "scheduled_at",
)


# The add form's one-time token (a hidden field): the draft it saves gets the client_msg_id
# "console-<token>", so a second POST of the same form (a double click on Save, a resubmit)
# returns the draft the first one made (create_broadcast's per-account de-duplication).
FORM_TOKEN_PREFIX = "console-"
_FORM_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,48}")


class FormTokenField(forms.CharField):
    """The add form's one-time token: never a change of the broadcast (not in the admin's history)."""

    def has_changed(self, initial, data) -> bool:
        return False


def new_form_token() -> str:
    return secrets.token_urlsafe(18)


def client_msg_id_for(token: str) -> str | None:
    """The client_msg_id of the draft an add form with this token saves; None for no (or a malformed) token."""
    return FORM_TOKEN_PREFIX + token if _FORM_TOKEN.fullmatch(token or "") else None


class OpenidsField(forms.CharField):
    """The follower list as openids, one a line: changed only when the openids changed (not their
    line ends or spacing, which a browser's textarea rewrites)."""

    def has_changed(self, initial, data) -> bool:
        return pasted_openids(initial or "") != pasted_openids(data or "")


class BroadcastForm(forms.ModelForm):
    """A draft broadcast. Validating it writes nothing; BroadcastAdmin saves it through the services."""

    form_token = FormTokenField(widget=forms.HiddenInput, required=False)
    # The change page's: the version of the draft the page showed (services.draft_version). A save after
    # someone else's edit is refused (edit_conflict) and the page then carries the new version, so
    # saving again replaces their edit knowingly.
    draft_version = FormTokenField(widget=forms.HiddenInput, required=False)

    url = forms.URLField(
        max_length=1024, required=False, assume_scheme="https", help_text=gettext_lazy("Article link (article messages).")
    )
    cover_url = forms.URLField(
        max_length=1024, required=False, assume_scheme="https",
        help_text=gettext_lazy("Cover or image URL (article and image messages)."),
    )

    # A follower list is given as openids (pasted, or a CSV file, or both), never database ids;
    # clean() turns them into the account's followers with services.recipients_by_openid.
    recipients = OpenidsField(
        label=gettext_lazy("Openids"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 40, "spellcheck": "false", "autocomplete": "off"}),
        help_text=gettext_lazy(
            "The followers of a follower-list audience: 2 to 10,000 openids of the account's subscribed "
            "followers, one a line (or separated by commas, semicolons or tabs)."
        ),
    )
    recipients_file = forms.FileField(
        label=gettext_lazy("Openids from a CSV file"),
        required=False,
        allow_empty_file=True,  # read_openids refuses an empty file naming it, on the openids' field
        help_text=gettext_lazy(
            "Optional: a UTF-8 CSV file whose first column is the openid (with or without an “openid” header; "
            "commas, semicolons or tabs between columns), at most 1 MB. Its openids are added to those above."
        ),
    )

    class Meta:
        model = Broadcast
        fields = DRAFT_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A fresh token with every rendered form, never one given in the address.
        self.initial["form_token"] = new_form_token()
        if self.instance.pk is not None:
            self.initial["recipients"] = "\n".join(selectors.recipient_openids(self.instance))
            self.initial["draft_version"] = services.draft_version(self.instance)
        if "tag" in self.fields:
            # Only the draft's account's tags (the add page: the account posted; its script fills the rest).
            account_id = self.instance.account_id if self.instance.pk is not None else parse_id(
                str(self.data.get("account", "")) if self.is_bound else ""
            )
            tag = self.fields["tag"]
            tag.queryset = Tag.objects.filter(account_id=account_id).order_by("name") if account_id else Tag.objects.none()
            tag.error_messages["invalid_choice"] = _("That tag is not one of the chosen account's tags.")

    def clean(self):
        data = super().clean()
        if self.instance.pk is not None:
            try:  # before anything of the page is set on the instance (_post_clean)
                services.refuse_stale_edit(self.instance, self.expected_version)
            except EditConflict as exc:
                self.add_error(None, exc.message)
                self.data = self.data.copy()  # the page now carries the version it was refused against
                self.data[self.add_prefix("draft_version")] = self.initial["draft_version"]
        if data.get("audience") != Broadcast.Audience.TAG:
            data["tag"] = None  # a tag chosen, then another audience: the hidden select's value is dropped
        if data.get("audience") != Broadcast.Audience.FOLLOWERS:
            data["recipients"] = []  # the hidden list of another audience is dropped, as the services do
            return data
        upload = data.get("recipients_file")
        if self.instance.pk is not None and not upload and "recipients" not in self.changed_data:
            return data  # the list as it is: not in changes(), update_broadcast keeps it
        account = self.instance.account if self.instance.pk is not None else data.get("account")
        if account is None:
            return data  # the account's own error says why
        try:
            listed = read_openids(
                data.get("recipients") or "",
                data=upload.read(CSV_MAX_BYTES + 1) if upload else None,
                name=upload.name if upload else "",
                size=upload.size if upload else None,
            )
            data["recipients"] = services.recipients_by_openid(account, listed.openids, where=listed.where)
        except (OpenidListError, DomainError) as exc:
            self.add_error("recipients", exc.message)
        return data

    @property
    def client_msg_id(self) -> str | None:
        """What de-duplicates this add form's saves (see FORM_TOKEN_PREFIX)."""
        return client_msg_id_for(self.cleaned_data.get("form_token", ""))

    @property
    def expected_version(self) -> str | None:
        """The version of the draft this change page showed; None where the form carries none."""
        return self.cleaned_data.get("draft_version") or None

    @property
    def account(self):
        """The draft's account: chosen on the add page, fixed (read-only) once the draft exists."""
        return self.instance.account if self.instance.pk is not None else self.cleaned_data["account"]

    def draft_values(self) -> dict:
        """The form's draft fields, as create_broadcast takes them (without the account)."""
        values = {name: self.cleaned_data[name] for name in DRAFT_FIELDS if name in self.cleaned_data}
        values.pop("account", None)
        if "recipients" in values:
            values["recipients"] = list(values["recipients"])
        return values

    def changes(self) -> dict:
        """The fields this submit changed, as update_broadcast takes them (it keeps the others)."""
        values = self.draft_values()
        changed = set(self.changed_data)
        if "recipients_file" in changed:
            changed.add("recipients")  # a file's openids join the list
        return {name: values[name] for name in changed if name in values}

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        try:
            if self.instance.pk is None:
                values = self.draft_values()
                values.pop("scheduled_at", None)  # the send time is checked at approval, against the quota
                services.validate_draft(self.account, **values)
            else:
                services.validate_edit(self.instance, **self.changes())
        except DomainError as exc:
            self._refuse(exc)
            return
        # What approval would certainly refuse (a targeted send of a subscription account, a past send
        # time) is refused now; what may change by the send time is a warning after the save.
        for refusal in services.eligibility_report(self._as_draft()).refusals:
            self._refuse(refusal)

    def _refuse(self, exc: DomainError) -> None:
        field = exc.context.get("field")
        self.add_error(field if field in self.fields else None, exc.message)

    def _as_draft(self) -> Broadcast:
        """The draft as this form would store it (unsaved): what the eligibility report reads."""
        data = self.cleaned_data
        return Broadcast(
            pk=self.instance.pk, account=self.account, status=Broadcast.Status.DRAFT, channel=data.get("channel"),
            audience=data.get("audience"), scheduled_at=data.get("scheduled_at"),
        )


def _send_time_field(*, required: bool, help_text: str) -> forms.SplitDateTimeField:
    return forms.SplitDateTimeField(
        required=required,
        label=gettext_lazy("Send time"),
        widget=widgets.AdminSplitDateTime(),
        validators=[validate_console_datetime],
        help_text=help_text,
    )


def _zone_name() -> str:
    return timezone.get_current_timezone_name()


class _SendTimeForm(forms.Form):
    """A send time typed at approval or reschedule: one too far in the past is refused on the field,
    with the service's own sentence (services.refuse_past_send_time), before anything runs."""

    empty_means_now = True

    def clean_send_at(self):
        send_at = self.cleaned_data.get("send_at")
        try:
            services.refuse_past_send_time(send_at, empty_means_now=self.empty_means_now)
        except DomainError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None
        return send_at


class ApproveForm(_SendTimeForm):
    send_at = _send_time_field(required=False, help_text="")
    # The version of the broadcast the reviewer's page showed (services.draft_version; for_broadcast sets it):
    # approval of a broadcast changed since is refused (edit_conflict). Empty (a bulk approval) checks nothing.
    seen_version = FormTokenField(widget=forms.HiddenInput, required=False)
    shown_version = ""

    @classmethod
    def for_broadcast(cls, b: Broadcast) -> type[ApproveForm]:
        """This form for the page that shows `b` as it is now."""
        return type(cls.__name__, (cls,), {"shown_version": services.draft_version(b)})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["seen_version"] = self.shown_version
        self.fields["send_at"].help_text = _(
            "Optional, in %(zone)s. Empty keeps the broadcast's own send time (or sends it now)."
        ) % {"zone": _zone_name()}

    def service_kwargs(self) -> dict:
        send_at = self.cleaned_data.get("send_at")
        seen = self.cleaned_data.get("seen_version")
        return {**({"send_at": send_at} if send_at else {}), **({"expected_version": seen} if seen else {})}


class RescheduleForm(_SendTimeForm):
    empty_means_now = False
    send_at = _send_time_field(required=True, help_text="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["send_at"].help_text = _("The new send time, in %(zone)s.") % {"zone": _zone_name()}

    def service_kwargs(self) -> dict:
        return {"send_at": self.cleaned_data["send_at"]}


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=gettext_lazy("The author sees this; say what to change."),
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Give a reason for the rejection."))
        return reason

    def service_kwargs(self) -> dict:
        return {"reason": self.cleaned_data["reason"]}


class VoidViolationForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=gettext_lazy("Kept in the audit log; the violation's points stop counting."),
    )

    def service_kwargs(self) -> dict:
        return {"reason": self.cleaned_data["reason"]}
