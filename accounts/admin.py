"""The admin of official accounts, followers, tags, certifications and menus.

Every state change goes through accounts.services; a refusal (DomainError) is shown to
the operator with message_user, never as a server error.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme

from operator_console.admin_tools import EstimatedCountPaginator, ReadOnlyAdmin

from . import selectors, services
from .exceptions import DomainError
from .forms import (
    ApproveForm,
    FollowerForm,
    MenuItemForm,
    MenuItemInlineFormSet,
    MenuParentChoiceField,
    OfficialAccountForm,
    ReasonForm,
    SuspendForm,
)
from .models import AuditEvent, Certification, Follower, MenuItem, OfficialAccount, Tag


def _plural(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def _local(moment, fmt: str = "Y-m-d H:i") -> str:
    return date_format(timezone.localtime(moment), fmt)


class AccountFilter(admin.SimpleListFilter):
    """Raw-id style filter (`?account=<id>`): linked from an account, lists no choices of its own,
    so a big table never runs a query to fill the sidebar."""

    title = "account"
    parameter_name = "account"

    def lookups(self, request, model_admin):
        value = self.value()
        if value and value.isdigit():
            account = OfficialAccount.objects.filter(pk=value).only("name").first()
            if account is not None:
                return [(str(account.pk), account.name)]
        return []

    def queryset(self, request, queryset):
        value = self.value()
        if value:
            if not value.isdigit():
                return queryset.none()
            return queryset.filter(account_id=int(value))
        return queryset


class CertifiedFilter(admin.SimpleListFilter):
    title = "certified"
    parameter_name = "certified"

    def lookups(self, request, model_admin):
        return [("yes", "Certified now"), ("no", "Not certified")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(selectors.certified_now())
        if self.value() == "no":
            return queryset.filter(~selectors.certified_now())
        return queryset


class ReviewPagesMixin:
    """Intermediate pages (reason, dates) shared by admin actions and change-page buttons."""

    action_form_template = "admin/accounts/action_form.html"

    def _form_page(self, request, *, title, form, objects, submit_label, intro="", action=None, danger=False):
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": None,
            "opts": opts,
            "app_label": opts.app_label,
            "form": form,
            "objects": list(objects),
            "intro": intro,
            "submit_label": submit_label,
            "danger": danger,
            "action_name": action,
            "selected_ids": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME) if action else [],
            "select_across": request.POST.get("select_across", "0") if action else "0",
            "cancel_url": self._back_url(request),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, self.action_form_template, context)

    def _back_url(self, request) -> str:
        referer = request.META.get("HTTP_REFERER", "")
        if referer and url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return referer
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")

    def _get_for_view(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(f"No {self.model._meta.verbose_name} with id {object_id}.")
        return obj

    def _change_url(self, obj):
        opts = obj._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])

    def _run(self, request, objects, call, done_message):
        """Call a service per object; report successes as one message and each refusal as its own."""
        done = 0
        for obj in objects:
            try:
                call(obj)
            except DomainError as e:
                self.message_user(request, e.message, messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, done_message(done), messages.SUCCESS)
        return done


# --- Accounts -----------------------------------------------------------------------------------


class CertificationInline(admin.TabularInline):
    """The account's certification history. Applications are filed and decided on the
    certification pages, through the services, so this list is read-only."""

    model = Certification
    fields = ["status", "legal_name", "registration_number", "submitted_at", "valid_from", "valid_until", "reviewed_by"]
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


class MenuItemInline(admin.TabularInline):
    model = MenuItem
    form = MenuItemForm
    formset = MenuItemInlineFormSet
    fields = ["name", "parent", "kind", "key", "url", "position"]
    extra = 1
    verbose_name = "custom menu item"
    verbose_name_plural = "custom menu (service accounts only: 3 top-level items of up to 5 sub-items)"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "parent" and isinstance(field.widget, RelatedFieldWidgetWrapper):
            # A parent is picked among this menu's own items: no add/edit/view pop-ups in the row.
            field.widget = field.widget.widget
        widths = {"name": "10em", "key": "9em", "url": "16em", "position": "4em"}
        if db_field.name in widths:
            field.widget.attrs["style"] = f"width: {widths[db_field.name]}"
        return field

    def get_queryset(self, request):
        # Menu order: each top-level item followed by its sub-items.
        return (
            super()
            .get_queryset(request)
            .select_related("parent")
            .order_by(
                Coalesce("parent__position", "position"),
                Coalesce("parent_id", "id"),
                F("parent_id").asc(nulls_first=True),
                "position",
                "id",
            )
        )


@admin.register(OfficialAccount)
class OfficialAccountAdmin(ReviewPagesMixin, admin.ModelAdmin):
    form = OfficialAccountForm
    list_display = ["account", "kind", "certified_badge", "followers", "status_badge"]
    list_filter = ["kind", "status", CertifiedFilter]
    # Names: substring search over a table of thousands; app_id: exact, served by its unique index.
    search_fields = ["name", "app_id__exact"]
    search_help_text = "Part of the name, or the exact app_id."
    list_per_page = 50
    actions = ["suspend_accounts", "reinstate_accounts"]
    fieldsets = [
        (None, {"fields": ["name", "app_id", "kind", "owner_name", "contact_email"]}),
        ("Status", {"fields": ["status", "suspended_until", "suspension_reason", "created_at"]}),
    ]
    readonly_fields = ["status", "suspended_until", "suspension_reason", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # The app id is how the platform's API knows the account; it never changes.
            fields.append("app_id")
        return fields

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["name", "app_id", "kind", "owner_name", "contact_email"]})]
        return super().get_fieldsets(request, obj)

    def get_inlines(self, request, obj):
        if obj is None:
            return []
        # R6: only service accounts have a custom menu.
        return [CertificationInline, MenuItemInline] if obj.is_service else [CertificationInline]

    def get_queryset(self, request):
        return selectors.accounts_for_list(super().get_queryset(request))

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # The menu item page's account autocomplete offers service accounts only (R6).
        if request.GET.get("model_name") == "menuitem" and request.GET.get("field_name") == "account":
            queryset = queryset.filter(kind=OfficialAccount.Kind.SERVICE)
        return queryset, may_have_duplicates

    @admin.display(description="Account", ordering="name")
    def account(self, obj):
        return format_html('{}<div class="bc-sub">{}</div>', obj.name, obj.app_id)

    @admin.display(description="Certification", ordering="certified_until")
    def certified_badge(self, obj):
        until = getattr(obj, "certified_until", None)
        if until is not None:
            return format_html(
                '<span class="bc-badge bc-badge-ok">Certified, valid until {}</span>', _local(until, "Y-m-d")
            )
        return format_html('<span class="bc-badge bc-badge-off">{}</span>', "Not certified")

    @admin.display(description="Followers", ordering="follower_count")
    def followers(self, obj):
        url = reverse("admin:accounts_follower_changelist") + f"?account={obj.pk}&subscribed__exact=1"
        return format_html('<a href="{}">{}</a>', url, f"{obj.follower_count:,}")

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        if obj.status == OfficialAccount.Status.SUSPENDED:
            until = f"until {_local(obj.suspended_until)}" if obj.suspended_until else "until reinstated"
            return format_html('<span class="bc-badge bc-badge-bad">Suspended</span><div class="bc-sub">{}</div>', until)
        return format_html('<span class="bc-badge bc-badge-ok">{}</span>', obj.get_status_display())

    def has_suspend_permission(self, request, obj=None):
        return request.user.has_perm("accounts.suspend_account")

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/suspend/", view(self.suspend_view), name=f"{prefix}_suspend"),
            path("<path:object_id>/reinstate/", view(self.reinstate_view), name=f"{prefix}_reinstate"),
        ] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_suspend": self.has_suspend_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    # Suspend / reinstate, as actions on the list and as buttons on the account page.

    def _suspend_page(self, request, accounts, *, action=None):
        if request.method == "POST" and "apply" in request.POST:
            form = SuspendForm(request.POST)
            if form.is_valid():
                reason, until = form.cleaned_data["reason"], form.cleaned_data["until"]
                self._run(
                    request,
                    accounts,
                    lambda a: services.suspend_account(a, by=request.user, until=until, reason=reason),
                    lambda n: f"Suspended {_plural(n, 'account')}.",
                )
                return None
        else:
            form = SuspendForm()
        return self._form_page(
            request,
            title="Suspend accounts" if len(accounts) > 1 else f"Suspend “{accounts[0].name}”",
            form=form,
            objects=accounts,
            submit_label="Suspend",
            intro="A suspended account cannot broadcast. Scheduled broadcasts are held until it is reinstated.",
            action=action,
            danger=True,
        )

    @admin.action(description="Suspend selected accounts…", permissions=["suspend"])
    def suspend_accounts(self, request, queryset):
        accounts = list(queryset)
        if not accounts:  # the selected rows are gone (or the ids were never accounts)
            self.message_user(request, "None of the selected accounts exists any more.", messages.WARNING)
            return None
        return self._suspend_page(request, accounts, action="suspend_accounts")

    @admin.action(description="Reinstate selected accounts", permissions=["suspend"])
    def reinstate_accounts(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda a: services.reinstate_account(a, by=request.user),
            lambda n: f"Reinstated {_plural(n, 'account')}.",
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
        if request.method == "POST":
            self._run(
                request,
                [account],
                lambda a: services.reinstate_account(a, by=request.user),
                lambda n: f"Reinstated “{account.name}”.",
            )
            return HttpResponseRedirect(self._change_url(account))
        return self._form_page(
            request,
            title=f"Reinstate “{account.name}”",
            form=forms.Form(),
            objects=[account],
            submit_label="Reinstate",
            intro="The account gets its sending rights back at once.",
        )


# --- Certifications ------------------------------------------------------------------------------


@admin.register(Certification)
class CertificationAdmin(ReviewPagesMixin, admin.ModelAdmin):
    list_display = ["certification", "status_badge", "applicant", "submitted", "validity", "reviewed_by"]
    list_display_links = ["certification"]
    list_filter = ["status"]
    search_fields = ["account__name", "account__app_id__exact", "registration_number__exact"]
    search_help_text = "Part of the account name, or the exact app_id or registration number."
    list_select_related = ["account", "reviewed_by"]
    autocomplete_fields = ["account"]
    actions = ["approve_selected", "reject_selected", "revoke_selected"]
    add_fields = ["account", "legal_name", "registration_number"]
    # Status and reviewer fields change only through the review services.
    change_fields = [
        "account",
        "status",
        "legal_name",
        "registration_number",
        "submitted_at",
        "validity_period",
        "reviewed_by",
        "reviewed_at",
        "decision_note",
    ]

    def get_fields(self, request, obj=None):
        return self.add_fields if obj is None else self.change_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.change_fields

    @admin.display(description="Certification", ordering="id")
    def certification(self, obj):
        return f"#{obj.pk} {obj.account.name}"

    @admin.display(description="Applicant")
    def applicant(self, obj):
        return format_html('{}<div class="bc-sub">{}</div>', obj.legal_name, obj.registration_number)

    @admin.display(description="Submitted", ordering="submitted_at")
    def submitted(self, obj):
        return _local(obj.submitted_at, "Y-m-d")

    def has_review_permission(self, request, obj=None):
        return request.user.has_perm("accounts.review_certification")

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        css = {
            Certification.Status.APPROVED: "ok",
            Certification.Status.PENDING: "wait",
            Certification.Status.REJECTED: "bad",
            Certification.Status.REVOKED: "bad",
        }.get(obj.status, "off")
        return format_html('<span class="bc-badge bc-badge-{}">{}</span>', css, obj.get_status_display())

    def _has_validity(self, obj) -> bool:
        # A pending or rejected application has no validity yet: approval sets it.
        return obj.status not in (Certification.Status.PENDING, Certification.Status.REJECTED)

    @admin.display(description="Validity", ordering="valid_until")
    def validity(self, obj):
        if not self._has_validity(obj):
            return "—"
        return format_html(
            '<span style="white-space: nowrap">{} – {}</span>', _local(obj.valid_from, "Y-m-d"), _local(obj.valid_until, "Y-m-d")
        )

    @admin.display(description="Valid")
    def validity_period(self, obj):
        if not self._has_validity(obj):
            return "— (set on approval)"
        return f"from {_local(obj.valid_from)} until {_local(obj.valid_until)} ({settings.TIME_ZONE})"

    # Filing an application goes through submit_certification (one pending application at a time).

    def save_model(self, request, obj, form, change):
        if change:
            return  # every field is read-only on the change page
        cert = services.submit_certification(
            form.cleaned_data["account"],
            legal_name=form.cleaned_data["legal_name"],
            registration_number=form.cleaned_data["registration_number"],
            by=request.user,
        )
        obj.pk = cert.pk
        obj.refresh_from_db()

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as e:
            # Raised by submit_certification inside the admin's transaction, which has rolled back.
            self.message_user(request, e.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_review": self.has_review_permission(request),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/approve/", view(self.approve_view), name=f"{prefix}_approve"),
            path("<path:object_id>/reject/", view(self.reject_view), name=f"{prefix}_reject"),
            path("<path:object_id>/revoke/", view(self.revoke_view), name=f"{prefix}_revoke"),
        ] + super().get_urls()

    # Approve / reject / revoke: one page each, used by the list's actions and the buttons.

    def _approve_page(self, request, certs, *, action=None):
        if request.method == "POST" and "apply" in request.POST:
            form = ApproveForm(request.POST)
            if form.is_valid():
                valid_from = form.cleaned_data["valid_from"]
                self._run(
                    request,
                    certs,
                    lambda c: services.approve_certification(c, by=request.user, valid_from=valid_from),
                    lambda n: f"Approved {_plural(n, 'certification')}.",
                )
                return None
        else:
            form = ApproveForm()
        return self._form_page(
            request,
            title="Approve certification" + ("s" if len(certs) > 1 else ""),
            form=form,
            objects=certs,
            submit_label="Approve",
            intro="An approved certification opens the advanced mass interface to a service account for one year.",
            action=action,
        )

    def _decision_page(self, request, certs, *, verb, action=None):
        service = {"reject": services.reject_certification, "revoke": services.revoke_certification}[verb]
        past = {"reject": "Rejected", "revoke": "Revoked"}[verb]
        if request.method == "POST" and "apply" in request.POST:
            form = ReasonForm(request.POST)
            if form.is_valid():
                reason = form.cleaned_data["reason"]
                self._run(
                    request,
                    certs,
                    lambda c: service(c, by=request.user, reason=reason),
                    lambda n: f"{past} {_plural(n, 'certification')}.",
                )
                return None
        else:
            form = ReasonForm()
        intro = {
            "reject": "The applicant is told the reason and may apply again.",
            "revoke": "The account loses its certification at once; targeted and API broadcasts stop.",
        }[verb]
        return self._form_page(
            request,
            title=f"{verb.capitalize()} certification" + ("s" if len(certs) > 1 else ""),
            form=form,
            objects=certs,
            submit_label=verb.capitalize(),
            intro=intro,
            action=action,
            danger=True,
        )

    @admin.action(description="Approve selected applications…", permissions=["review"])
    def approve_selected(self, request, queryset):
        return self._approve_page(request, list(queryset), action="approve_selected")

    @admin.action(description="Reject selected applications…", permissions=["review"])
    def reject_selected(self, request, queryset):
        return self._decision_page(request, list(queryset), verb="reject", action="reject_selected")

    @admin.action(description="Revoke selected certifications…", permissions=["review"])
    def revoke_selected(self, request, queryset):
        return self._decision_page(request, list(queryset), verb="revoke", action="revoke_selected")

    def _button_view(self, request, object_id, page):
        if not self.has_review_permission(request):
            raise PermissionDenied
        cert = self._get_for_view(request, object_id)
        response = page(request, [cert])
        return response or HttpResponseRedirect(self._change_url(cert))

    def approve_view(self, request, object_id):
        return self._button_view(request, object_id, self._approve_page)

    def reject_view(self, request, object_id):
        return self._button_view(request, object_id, lambda r, c: self._decision_page(r, c, verb="reject"))

    def revoke_view(self, request, object_id):
        return self._button_view(request, object_id, lambda r, c: self._decision_page(r, c, verb="revoke"))


# --- Followers and tags (big tables) ------------------------------------------------------------


@admin.register(Follower)
class FollowerAdmin(admin.ModelAdmin):
    form = FollowerForm
    list_display = ["openid", "nickname", "account", "subscribed", "subscribed_at"]
    list_select_related = ["account"]
    # Only indexed, low-cardinality filters: the account (follower_audience_idx / the unique
    # (account, openid) index) and subscribed within it (follower_account_sub_idx).
    list_filter = [AccountFilter, "subscribed"]
    search_fields = ["openid__exact"]
    search_help_text = "The exact openid."
    raw_id_fields = ["account", "tags"]
    readonly_fields = ["subscribed", "subscribed_at", "unsubscribed_at"]
    ordering = ["-id"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts would COUNT(*) millions of rows per choice
    paginator = EstimatedCountPaginator


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "account"]
    list_select_related = ["account"]
    list_filter = [AccountFilter]
    search_fields = ["name"]
    autocomplete_fields = ["account"]
    show_full_result_count = False


# --- Menus ---------------------------------------------------------------------------------------


@admin.register(MenuItem)
class MenuItemAdmin(admin.ModelAdmin):
    form = MenuItemForm
    list_display = ["name", "account", "parent", "kind", "target", "position"]
    list_select_related = ["account", "parent"]
    list_filter = [AccountFilter, "kind"]
    search_fields = ["name"]
    autocomplete_fields = ["account"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            return MenuParentChoiceField(
                queryset=MenuItem.objects.filter(parent=None).select_related("account").order_by("account__name", "position"),
                required=False,
                help_text="Empty for a top-level item.",
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="Key or URL")
    def target(self, obj):
        return obj.key if obj.kind == MenuItem.Kind.CLICK else obj.url


# --- Audit log -----------------------------------------------------------------------------------


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the log is written by the services alone."""

    list_display = ["at", "who", "verb", "object_ref", "account", "note"]
    list_select_related = ["by", "account"]
    list_filter = [AccountFilter]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator

    @admin.display(description="By", ordering="by")
    def who(self, obj):
        return obj.by or "system"

    @admin.display(description="Object")
    def object_ref(self, obj):
        return f"{obj.object_type} #{obj.object_id}"
