"""Admin forms of accounts: intermediate pages of the review actions, and edit forms that
refuse what the models cannot check one row at a time (a whole menu, a follower's tags)."""

from __future__ import annotations

from collections import Counter

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from operator_console.admin_tools import validate_console_datetime
from operator_console.errors import DomainError

from . import selectors, services
from .models import MENU_MAX_CHILDREN, MENU_MAX_TOP_LEVEL, Follower, MenuItem, OfficialAccount, Tag

# An upload is kept in the database until a worker imports it; bigger files go through the command.
MAX_UPLOAD_BYTES = 200_000_000

_DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _zone_name() -> str:
    """The zone typed times are read in: the request's, which the console sets to the platform's."""
    return timezone.get_current_timezone_name()


class ReasonForm(forms.Form):
    """Reject or revoke: the reason is told to the account owner."""

    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text=gettext_lazy("Shown to the account owner and kept in the audit log."),
    )


class ApproveForm(forms.Form):
    valid_from = forms.DateTimeField(
        required=False,
        widget=_DATETIME_INPUT,
        validators=[validate_console_datetime],
        label=gettext_lazy("Valid from"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["valid_from"].help_text = _(
            "Time in %(zone)s. Leave empty to start now; the certification lasts one year."
        ) % {"zone": _zone_name()}


class SuspendForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text=gettext_lazy("Shown to the account owner and kept in the audit log."),
    )
    until = forms.DateTimeField(
        required=False,
        widget=_DATETIME_INPUT,
        validators=[validate_console_datetime],
        label=gettext_lazy("Suspended until"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["until"].help_text = _(
            "Time in %(zone)s. Leave empty to suspend until someone reinstates the account."
        ) % {"zone": _zone_name()}


class OfficialAccountForm(forms.ModelForm):
    server_url = forms.URLField(
        max_length=1024, required=False, assume_scheme="https", label=gettext_lazy("Server URL"),
        help_text=OfficialAccount._meta.get_field("server_url").help_text,
    )

    class Meta:
        model = OfficialAccount
        fields = ["name", "app_id", "kind", "owner_name", "contact_email", "server_url", "server_token",
                  "encoding_aes_key"]


class AccountKindForm(forms.Form):
    """Switch an account's kind (accounts.services.change_account_kind): the quota rule changes with it."""

    kind = forms.ChoiceField(
        label=gettext_lazy("New kind"), choices=[("", "---------"), *OfficialAccount.Kind.choices],
        help_text=gettext_lazy(
            "A subscription account may send 1 broadcast a day; a service account 4 a month, with a custom menu."
        ),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=gettext_lazy("Kept in the audit log with the old and the new kind."),
    )


class MenuParentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.account.name} › {obj.name}"


class MenuItemForm(forms.ModelForm):
    """One menu item; MenuItem.clean() checks kinds, names and limits against the saved menu."""

    url = forms.URLField(max_length=1024, required=False, assume_scheme="https", label=gettext_lazy("URL"))

    class Meta:
        model = MenuItem
        fields = ["account", "parent", "name", "kind", "key", "url", "position"]

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        item = self.instance
        if parent is not None and item.pk is not None:
            if parent.pk == item.pk:
                raise ValidationError(_("A menu item cannot be its own parent."))
            if item.children.exists():
                raise ValidationError(
                    _("This item has sub-items, so it must stay a top-level item (a menu has two levels).")
                )
        return parent


class MenuItemInlineFormSet(BaseInlineFormSet):
    """The whole menu of one service account, checked as it will be after this submit.

    MenuItem.clean() counts the items already saved, so several items added in one submit
    each pass on their own; this check counts the menu the submit would leave.
    """

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "parent" in form.fields:
            account = self.instance
            qs = MenuItem.objects.none()
            if account is not None and account.pk is not None:
                qs = MenuItem.objects.filter(account=account, parent=None).order_by("position", "id")
            form.fields["parent"].queryset = qs
            form.fields["parent"].help_text = gettext_lazy("Empty for a top-level item.")

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        top_level = 0
        children: Counter = Counter()
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or (self.can_delete and self._should_delete_form(form)):
                continue
            parent = data.get("parent")
            if parent is None:
                top_level += 1
            else:
                children[parent] += 1
        errors = []
        if top_level > MENU_MAX_TOP_LEVEL:
            errors.append(
                f"A menu has at most {MENU_MAX_TOP_LEVEL} top-level items; this change would leave {top_level}."
            )
        for parent, n in children.items():
            if n > MENU_MAX_CHILDREN:
                errors.append(
                    f"A top-level item has at most {MENU_MAX_CHILDREN} sub-items; this change would give "
                    f"“{parent.name}” {n}."
                )
        if errors:
            raise ValidationError(errors)


class FollowerForm(forms.ModelForm):
    class Meta:
        model = Follower
        fields = ["account", "openid", "nickname", "tags"]

    def clean(self):
        cleaned = super().clean()
        given = {name: cleaned[name] for name in ("openid", "nickname") if name in cleaned}
        try:
            checked = services.validate_follower(**given)
        except DomainError as exc:
            self.add_error(exc.context["field"], exc.message)
        else:
            cleaned.update((name, checked[name]) for name in given)
        account = cleaned.get("account")
        tags = cleaned.get("tags")
        if account is not None and tags:
            foreign = sorted(t.name for t in tags if t.account_id != account.pk)
            if foreign:
                self.add_error(
                    "tags",
                    _("Tags belong to one account; %(tags)s belong to another account than %(account)s.")
                    % {"tags": ", ".join(foreign), "account": account},
                )
        return cleaned


class TagForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ["account", "name"]

    def clean_name(self):
        try:
            return services.validate_tag_name(self.cleaned_data["name"])
        except DomainError as exc:
            raise ValidationError(exc.message, code=exc.code) from None


class FollowerImportForm(forms.Form):
    """The admin's follower upload: the same file and choice as the import_followers command."""

    app_id = forms.CharField(label=gettext_lazy("Account (app id)"), max_length=64)
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy(
            "UTF-8 with the header openid,nickname,tags,subscribed_at, optionally followed by ,subscribed; tags "
            "separated by |; subscribed_at in ISO 8601 (without an offset, in the platform's time zone; empty means "
            "now). subscribed is 1/0, true/false or yes/no (empty means 1): 0 unfollows a known follower at the "
            "row's time, 1 follows (again); an unknown openid with 0 is not imported (counted unchanged). Every "
            "follow and unfollow is kept in the follower's history."
        ),
    )
    skip_invalid = forms.BooleanField(
        label=gettext_lazy("Import the good rows and list the bad ones"), required=False,
        help_text=gettext_lazy("Otherwise one bad row means nothing is imported, and the bad lines are listed."),
    )

    def clean_app_id(self):
        try:
            self.account = selectors.get_account_by_app_id(self.cleaned_data["app_id"].strip())
        except DomainError as exc:
            raise ValidationError(exc.message, code=exc.code) from None
        return self.account.app_id

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                _("The file is larger than %(mb)s MB; import it with the import_followers command.")
                % {"mb": MAX_UPLOAD_BYTES // 1_000_000}
            )
        return upload
