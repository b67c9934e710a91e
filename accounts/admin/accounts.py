"""The official accounts admin: the list with certification and follower counts, the account
page with its certification history and custom menu (R6), and suspend / reinstate (R7) as
list actions and page buttons, through accounts.services.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from operator_console.admin_actions import AuditedChangesMixin, ServiceErrorsAsMessagesMixin, service_action
from operator_console.admin_tools import parse_id
from operator_console.platform_time import format_moment

from .. import selectors, services
from ..forms import AccountKindForm, OfficialAccountForm, SuspendForm
from ..models import Certification, MenuItem, OfficialAccount
from .certifications import validity_text
from .common import ActionPagesMixin, CertifiedFilter
from .menus import MenuItemInline


class CertificationInline(admin.TabularInline):
    """The account's certification history. Applications are filed and decided on the
    certification pages, through the services, so this list is read-only."""

    model = Certification
    fields = ["status", "legal_name", "registration_number", "submitted_at", "validity", "reviewed_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["-submitted_at"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reviewed_by")

    @admin.display(description=gettext_lazy("Validity"))
    def validity(self, obj):
        return validity_text(obj)


# The account page counts its followers up to this many; beyond, it says "more than".
FOLLOWER_COUNT_CAP = 100_000


def followers_text(object_id: str) -> str:
    """ "1,234 followers" on the account page (subscribed ones; a bounded count)."""
    account_id = parse_id(object_id)
    if account_id is None:
        return ""
    n = selectors.subscribed_follower_count(account_id, cap=FOLLOWER_COUNT_CAP + 1)
    if n > FOLLOWER_COUNT_CAP:
        return ngettext("more than %(count)s follower", "more than %(count)s followers", FOLLOWER_COUNT_CAP) % {
            "count": number_format(FOLLOWER_COUNT_CAP, force_grouping=True)
        }
    return ngettext("%(count)s follower", "%(count)s followers", n) % {"count": number_format(n, force_grouping=True)}


def _suspended(n: int) -> str:
    return ngettext("Suspended %(count)d account.", "Suspended %(count)d accounts.", n) % {"count": n}


def _reinstated(n: int) -> str:
    return ngettext("Reinstated %(count)d account.", "Reinstated %(count)d accounts.", n) % {"count": n}


@admin.register(OfficialAccount)
class OfficialAccountAdmin(AuditedChangesMixin, ServiceErrorsAsMessagesMixin, ActionPagesMixin, admin.ModelAdmin):
    form = OfficialAccountForm
    list_display = ["account", "kind", "certified_badge", "followers", "status_badge"]
    list_filter = ["kind", "status", CertifiedFilter]
    # Names: substring search over a table of thousands; app_id: exact, served by its unique index.
    search_fields = ["name", "app_id__exact"]
    search_help_text = gettext_lazy("Part of the name, or the exact app_id.")
    list_per_page = 50
    actions = ["suspend_accounts", "reinstate_accounts"]
    fieldsets = [
        (None, {"fields": ["name", "app_id", "kind", "owner_name", "contact_email"]}),
        (gettext_lazy("Status"), {"fields": ["status", "suspended_until", "suspension_reason", "created_at"]}),
        (gettext_lazy("Server (job-finished events of API broadcasts)"),
         {"fields": ["server_url", "server_token", "encoding_aes_key"]}),
        (gettext_lazy("Advanced mass interface (API)"), {"fields": ["api_credential"]}),
    ]
    readonly_fields = ["status", "suspended_until", "suspension_reason", "created_at", "api_credential"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # The app id is how the platform's API knows the account; it never changes. The kind
            # changes only through change_account_kind (its own permission, page and audit event).
            fields += ["app_id", "kind"]
        return fields

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["name", "app_id", "kind", "owner_name", "contact_email"]})]
        return super().get_fieldsets(request, obj)

    def get_inlines(self, request, obj):
        if obj is None:
            return []
        return [CertificationInline, MenuItemInline] if obj.has_custom_menu else [CertificationInline]

    def get_queryset(self, request):
        return selectors.accounts_for_list(super().get_queryset(request))

    def save_formset(self, request, form, formset, change):
        if formset.model is not MenuItem:
            return super().save_formset(request, form, formset, change)
        # The menu inline saves item by item through save_menu_item (R6 counted under the account's lock):
        # deletions first, then changes, then additions, so a slot freed in this submit can be used in it.
        formset.save(commit=False)
        for item in formset.deleted_objects:
            item.delete()
        for item in [*(obj for obj, _fields in formset.changed_objects), *formset.new_objects]:
            services.save_menu_item(item, by=request.user)

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # The menu item page's account autocomplete offers only accounts that have a custom menu (R6).
        if request.GET.get("model_name") == "menuitem" and request.GET.get("field_name") == "account":
            queryset = queryset.with_custom_menu()
        return queryset, may_have_duplicates

    @admin.display(description=gettext_lazy("Account"), ordering="name")
    def account(self, obj):
        return format_html('{}<div class="bc-sub">{}</div>', obj.name, obj.app_id)

    @admin.display(description=gettext_lazy("Certification"), ordering="certified_until")
    def certified_badge(self, obj):
        until = getattr(obj, "certified_until", None)
        if until is not None:
            return format_html(
                '<span class="bc-badge bc-badge-ok">{}</span>',
                _("Certified, valid until %(date)s") % {"date": format_moment(until, zone=False, date_only=True)},
            )
        return format_html('<span class="bc-badge bc-badge-off">{}</span>', _("Not certified"))

    @admin.display(description=gettext_lazy("Followers"), ordering="follower_count")
    def followers(self, obj):
        url = reverse("admin:accounts_follower_changelist") + f"?account={obj.pk}&subscribed__exact=1"
        return format_html('<a href="{}">{}</a>', url, f"{obj.follower_count:,}")

    @admin.display(description=gettext_lazy("Status"), ordering="status")
    def status_badge(self, obj):
        if obj.status == OfficialAccount.Status.SUSPENDED:
            if obj.suspended_until:
                until = _("until %(moment)s") % {"moment": format_moment(obj.suspended_until, zone=False)}
            else:
                until = _("until reinstated")
            return format_html(
                '<span class="bc-badge bc-badge-bad">{}</span><div class="bc-sub">{}</div>', _("Suspended"), until
            )
        return format_html('<span class="bc-badge bc-badge-ok">{}</span>', obj.get_status_display())

    @admin.display(description=gettext_lazy("App secret"))
    def api_credential(self, obj):
        if not obj.app_secret_hash:
            return _("None yet: the account cannot call the API until a reviewer resets its app secret.")
        return _("Set on %(moment)s (only its hash is kept; a reset shows the new one once and revokes every "
                 "access token issued under this one).") % {"moment": format_moment(obj.app_secret_set_at)}

    def has_suspend_permission(self, request, obj=None):
        return request.user.has_perm("accounts.suspend_account")

    def has_change_kind_permission(self, request, obj=None):
        return request.user.has_perm("accounts.change_account_kind")
    def has_reset_secret_permission(self, request, obj=None):
        return request.user.has_perm("accounts.reset_app_secret")

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/suspend/", view(self.suspend_view), name=f"{prefix}_suspend"),
            path("<path:object_id>/reinstate/", view(self.reinstate_view), name=f"{prefix}_reinstate"),
            path("<path:object_id>/kind/", view(self.kind_view), name=f"{prefix}_kind"),
            path("<path:object_id>/reset-secret/", view(self.reset_secret_view), name=f"{prefix}_reset_secret"),
        ] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_suspend": self.has_suspend_permission(request),
            "can_change_kind": self.has_change_kind_permission(request),
            "can_reset_secret": self.has_reset_secret_permission(request),
            "followers_text": followers_text(unquote(object_id)),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    # Suspend / reinstate, as actions on the list and as buttons on the account page.

    def _suspend_page(self, request, accounts, *, action=None):
        return service_action(
            self, request, accounts, services.suspend_account,
            form_class=SuspendForm,
            action=action,
            success=lambda done: _suspended(len(done)),
            template=self.action_form_template,
            title=_("Suspend accounts") if len(accounts) > 1 else _("Suspend “%(name)s”") % {"name": accounts[0].name},
            submit_label=_("Suspend"),
            intro=_("A suspended account cannot broadcast. Scheduled broadcasts are held until it is reinstated."),
            danger=True,
            cancel_url=self._cancel_url(request),
        )

    @admin.action(description=gettext_lazy("Suspend selected accounts…"), permissions=["suspend"])
    def suspend_accounts(self, request, queryset):
        accounts = list(queryset)
        if not accounts:  # the selected rows are gone (or the ids were never accounts)
            self.message_user(request, _("None of the selected accounts exists any more."), messages.WARNING)
            return None
        return self._suspend_page(request, accounts, action="suspend_accounts")

    @admin.action(description=gettext_lazy("Reinstate selected accounts"), permissions=["suspend"])
    def reinstate_accounts(self, request, queryset):
        # Asks nothing, so it runs at once (no confirm page).
        return service_action(
            self, request, queryset, services.reinstate_account,
            action="reinstate_accounts",
            success=lambda done: _reinstated(len(done)),
            template=self.action_form_template,
            title=_("Reinstate accounts"),
            submit_label=_("Reinstate"),
        )

    def suspend_view(self, request, object_id):
        if not self.has_suspend_permission(request):
            raise PermissionDenied
        account = self._get_for_view(request, object_id)
        response = self._suspend_page(request, [account])
        return response or HttpResponseRedirect(self._change_url(account))

    def reinstate_view(self, request, object_id):
        if not self.has_suspend_permission(request):
            raise PermissionDenied
        account = self._get_for_view(request, object_id)
        response = service_action(
            self, request, [account], services.reinstate_account,
            success=lambda done: _("Reinstated “%(name)s”.") % {"name": account.name},
            template=self.action_form_template,
            title=_("Reinstate “%(name)s”") % {"name": account.name},
            submit_label=_("Reinstate"),
            intro=_("The account gets its sending rights back at once."),
            cancel_url=self._cancel_url(request),
        )
        return response or HttpResponseRedirect(self._change_url(account))

    def kind_view(self, request, object_id):
        if not self.has_change_kind_permission(request):
            raise PermissionDenied
        account = self._get_for_view(request, object_id)
        response = service_action(
            self, request, [account], services.change_account_kind,
            form_class=AccountKindForm,
            success=lambda done: _("“%(name)s” is now a %(kind)s.") % {
                "name": done[0].name, "kind": done[0].get_kind_display().lower(),
            },
            template=self.action_form_template,
            title=_("Change the kind of “%(name)s”") % {"name": account.name},
            submit_label=_("Change kind"),
            intro=_("%(name)s is a %(kind)s. Its quota rule changes with its kind, from its next broadcast on.") % {
                "name": account.name, "kind": account.get_kind_display().lower(),
            },
            danger=True,
            cancel_url=self._cancel_url(request),
        )
        return response or HttpResponseRedirect(self._change_url(account))

    def reset_secret_view(self, request, object_id):
        if not self.has_reset_secret_permission(request):
            raise PermissionDenied
        account = self._get_for_view(request, object_id)
        response = service_action(
            self, request, [account], services.reset_app_secret,
            success=lambda done: _(
                "New app secret of “%(name)s”: %(secret)s — copy it now, it is shown only this once. The "
                "previous secret and every access token issued under it no longer work."
            ) % {"name": account.name, "secret": done[0]},
            template=self.action_form_template,
            title=_("Reset the app secret of “%(name)s”") % {"name": account.name},
            submit_label=_("Reset the app secret"),
            intro=_(
                "The account's integrations call the advanced mass interface with its appid and app secret. A "
                "new secret is shown once, here; the previous one and every access token issued under it stop "
                "working at once."
            ),
            danger=True,
            cancel_url=self._cancel_url(request),
        )
        return response or HttpResponseRedirect(self._change_url(account))
