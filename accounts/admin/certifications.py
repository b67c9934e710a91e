"""The certification admin (R4): filing an application, and approve / reject / revoke as list
actions and page buttons. Every decision goes through accounts.services; validity is shown in
the platform's time zone.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import path
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from operator_console.admin_actions import ServiceErrorsAsMessagesMixin, service_action
from operator_console.platform_time import format_moment

from .. import services
from ..forms import ApproveForm, ReasonForm
from ..models import Certification
from .common import ActionPagesMixin

# The decisions that ask for a reason: service, success message, button and page intro.
DECISIONS = {
    "reject": {
        "service": "reject_certification",
        "success": lambda n: ngettext("Rejected %(count)d certification.", "Rejected %(count)d certifications.", n),
        "title": lambda n: ngettext("Reject certification", "Reject certifications", n),
        "label": gettext_lazy("Reject"),
        "intro": gettext_lazy("The applicant is told the reason and may apply again."),
    },
    "revoke": {
        "service": "revoke_certification",
        "success": lambda n: ngettext("Revoked %(count)d certification.", "Revoked %(count)d certifications.", n),
        "title": lambda n: ngettext("Revoke certification", "Revoke certifications", n),
        "label": gettext_lazy("Revoke"),
        "intro": gettext_lazy("The account loses its certification at once; targeted and API broadcasts stop."),
    },
}


def _certification_name(cert: Certification) -> str:
    """How a refusal names a certification (the services' sentences say "Certification #12 of …")."""
    return _("Certification #%(id)s") % {"id": cert.pk}


def validity_text(cert: Certification) -> str:
    """A certification's validity in words; a pending or rejected application has none yet."""
    if not cert.has_validity:
        return _("— (set on approval)")
    return _("from %(start)s until %(end)s") % {
        "start": format_moment(cert.valid_from, zone=False), "end": format_moment(cert.valid_until),
    }


@admin.register(Certification)
class CertificationAdmin(ServiceErrorsAsMessagesMixin, ActionPagesMixin, admin.ModelAdmin):
    list_display = ["certification", "status_badge", "applicant", "submitted", "validity", "reviewed_by"]
    list_display_links = ["certification"]
    list_filter = ["status"]
    search_fields = ["account__name", "account__app_id__exact", "registration_number__exact"]
    search_help_text = gettext_lazy("Part of the account name, or the exact app_id or registration number.")
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

    @admin.display(description=gettext_lazy("Certification"), ordering="id")
    def certification(self, obj):
        return f"#{obj.pk} {obj.account.name}"

    @admin.display(description=gettext_lazy("Applicant"))
    def applicant(self, obj):
        return format_html('{}<div class="bc-sub">{}</div>', obj.legal_name, obj.registration_number)

    @admin.display(description=gettext_lazy("Submitted"), ordering="submitted_at")
    def submitted(self, obj):
        return format_moment(obj.submitted_at, zone=False, date_only=True)

    def has_review_permission(self, request, obj=None):
        return request.user.has_perm("accounts.review_certification")

    @admin.display(description=gettext_lazy("Status"), ordering="status")
    def status_badge(self, obj):
        css = {
            Certification.Status.APPROVED: "ok",
            Certification.Status.PENDING: "wait",
            Certification.Status.REJECTED: "bad",
            Certification.Status.REVOKED: "bad",
        }.get(obj.status, "off")
        return format_html('<span class="bc-badge bc-badge-{}">{}</span>', css, obj.get_status_display())

    @admin.display(description=gettext_lazy("Validity"), ordering="valid_until")
    def validity(self, obj):
        if not obj.has_validity:
            return "—"
        return format_html(
            '<span style="white-space: nowrap">{} – {}</span>',
            format_moment(obj.valid_from, zone=False, date_only=True),
            format_moment(obj.valid_until, zone=False, date_only=True),
        )

    @admin.display(description=gettext_lazy("Valid"))
    def validity_period(self, obj):
        return validity_text(obj)

    # Filing an application goes through submit_certification (one pending application at a time);
    # a refusal is a message (ServiceErrorsAsMessagesMixin).

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
        return service_action(
            self, request, certs, services.approve_certification,
            form_class=ApproveForm,
            action=action,
            name=_certification_name,
            success=lambda done: ngettext(
                "Approved %(count)d certification.", "Approved %(count)d certifications.", len(done)
            ) % {"count": len(done)},
            template=self.action_form_template,
            title=ngettext("Approve certification", "Approve certifications", len(certs)),
            submit_label=_("Approve"),
            intro=_("An approved certification opens the advanced mass interface to a service account for one year."),
            cancel_url=self._cancel_url(request),
        )

    def _decision_page(self, request, certs, *, verb, action=None):
        decision = DECISIONS[verb]
        return service_action(
            self, request, certs, getattr(services, decision["service"]),
            form_class=ReasonForm,
            action=action,
            name=_certification_name,
            success=lambda done: decision["success"](len(done)) % {"count": len(done)},
            template=self.action_form_template,
            title=decision["title"](len(certs)),
            submit_label=decision["label"],
            intro=decision["intro"],
            danger=True,
            cancel_url=self._cancel_url(request),
        )

    @admin.action(description=gettext_lazy("Approve selected applications…"), permissions=["review"])
    def approve_selected(self, request, queryset):
        return self._approve_page(request, list(queryset), action="approve_selected")

    @admin.action(description=gettext_lazy("Reject selected applications…"), permissions=["review"])
    def reject_selected(self, request, queryset):
        return self._decision_page(request, list(queryset), verb="reject", action="reject_selected")

    @admin.action(description=gettext_lazy("Revoke selected certifications…"), permissions=["review"])
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
