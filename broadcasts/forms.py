"""Admin forms of the broadcasts app.

The draft form saves through the services: `create_broadcast` / `update_broadcast`
run as the last step of validation (inside the admin's transaction), so a
refusal lands on the form as an error next to the field it names instead of
becoming a 500 after the form was accepted.
"""

from __future__ import annotations

from django import forms
from django.contrib.admin import widgets
from django.utils import timezone

from accounts.exceptions import DomainError
from operator_console.admin_tools import validate_console_datetime

from . import services
from .models import Broadcast

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


class BroadcastForm(forms.ModelForm):
    """A draft broadcast; saving it calls the services as `by`."""

    # Set per request by BroadcastAdmin.get_form (the acting user).
    by = None

    url = forms.URLField(
        max_length=1024, required=False, assume_scheme="https", help_text="Article link (article messages)."
    )
    cover_url = forms.URLField(
        max_length=1024, required=False, assume_scheme="https",
        help_text="Cover or image URL (article and image messages).",
    )

    class Meta:
        model = Broadcast
        fields = DRAFT_FIELDS

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        values = {name: self.cleaned_data[name] for name in DRAFT_FIELDS if name in self.cleaned_data}
        if "recipients" in values:
            values["recipients"] = list(values["recipients"])
        try:
            if self.instance.pk is None:
                account = values.pop("account")
                self.instance = services.create_broadcast(account, by=self.by, **values)
            else:
                changed = {name: values[name] for name in self.changed_data if name in values}
                if changed:
                    self.instance = services.update_broadcast(self.instance, by=self.by, **changed)
        except DomainError as exc:
            field = exc.context.get("field")
            self.add_error(field if field in self.fields else None, exc.message)


def _send_time_field(*, required: bool, help_text: str) -> forms.SplitDateTimeField:
    return forms.SplitDateTimeField(
        required=required,
        label="Send time",
        widget=widgets.AdminSplitDateTime(),
        validators=[validate_console_datetime],
        help_text=help_text,
    )


def _zone_name() -> str:
    return timezone.get_current_timezone_name()


class NoInputForm(forms.Form):
    """Actions that need nothing but a confirmation (submit, cancel, pause, resume)."""

    def service_kwargs(self) -> dict:
        return {}


class ApproveForm(forms.Form):
    send_at = _send_time_field(required=False, help_text="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["send_at"].help_text = (
            f"Optional, in {_zone_name()}. Empty keeps the broadcast's own send time (or sends it now)."
        )

    def service_kwargs(self) -> dict:
        send_at = self.cleaned_data.get("send_at")
        return {"send_at": send_at} if send_at else {}


class RescheduleForm(forms.Form):
    send_at = _send_time_field(required=True, help_text="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["send_at"].help_text = f"The new send time, in {_zone_name()}."

    def service_kwargs(self) -> dict:
        return {"send_at": self.cleaned_data["send_at"]}


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="The author sees this; say what to change.",
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give a reason for the rejection.")
        return reason

    def service_kwargs(self) -> dict:
        return {"reason": self.cleaned_data["reason"]}
