"""Pieces the accounts admins share: the account filter, the certified filter, and the
helpers of their action pages (operator_console.admin_actions does the work)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from operator_console.admin_actions import referer_url
from operator_console.admin_tools import IdFilter

from .. import selectors
from ..models import OfficialAccount


class AccountFilter(IdFilter):
    """`?account=<id>`: linked from an account's page and lists (followers, tags, menu, audit)."""

    title = gettext_lazy("account")
    parameter_name = "account"
    field = "account_id"
    related_model = OfficialAccount


class CertifiedFilter(admin.SimpleListFilter):
    title = gettext_lazy("certified")
    parameter_name = "certified"

    def lookups(self, request, model_admin):
        return [("yes", _("Certified now")), ("no", _("Not certified"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(selectors.certified_now())
        if self.value() == "no":
            return queryset.filter(~selectors.certified_now())
        return queryset


class ActionPagesMixin:
    """The accounts admins' action pages: one template, objects looked up by the URL's id."""

    action_form_template = "admin/accounts/action_form.html"

    def _cancel_url(self, request) -> str:
        return referer_url(request, reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"))

    def _get_for_view(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(_("No %(name)s with id %(id)s.") % {"name": self.opts.verbose_name, "id": object_id})
        return obj

    def _change_url(self, obj) -> str:
        opts = obj._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
