"""One way for the admin to act on objects: a confirm page, a service call per object, a report;
and one way to audit what people change by hand in the admin's forms (AuditedChangesMixin).

Both apps' single-object buttons and bulk admin actions go through `service_action`: it shows
a form page until the form comes back valid, calls the service once per object as the acting
person, catches `DomainError`, and reports the successes as one message and each refusal on
its own, naming the object (at most MAX_REFUSAL_MESSAGES, then "…and N more refused.").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import AuditEvent
from accounts.services import record_change

from .errors import DomainError

# How many refusals one action lists one by one before summing up the rest.
MAX_REFUSAL_MESSAGES = 10


class NoInputForm(forms.Form):
    """An action that asks for nothing but a confirmation."""


def quoted(obj) -> str:
    """How a refusal names its object by default: “Acme Service”."""
    return f"“{obj}”"


def safe_url(request, candidate: str | None, default: str) -> str:
    """`candidate` (a `next` parameter, a Referer) when it points into this site, else `default`:
    the admin never redirects or links to an address a request made up."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def next_url(request, default: str) -> str:
    """The page to return to after a button: the request's safe `next`, else `default`."""
    return safe_url(request, request.POST.get("next") or request.GET.get("next"), default)


def referer_url(request, default: str) -> str:
    """The page the person came from (a safe Referer), else `default`."""
    return safe_url(request, request.META.get("HTTP_REFERER"), default)


def service_kwargs(form: forms.Form) -> dict:
    """What a valid form adds to the service call: its `service_kwargs()`, else its cleaned data."""
    method = getattr(form, "service_kwargs", None)
    return method() if method is not None else dict(form.cleaned_data)


def run_service(
    modeladmin,
    request,
    objects: Iterable,
    service: Callable[..., Any],
    *,
    success: Callable[[list], str],
    kwargs: dict | None = None,
    refuse: Callable[[Any], str | None] | None = None,
    name: Callable[[Any], str] | None = quoted,
) -> list:
    """Call `service(obj, by=request.user, **kwargs)` for each object and report the outcome.

    `success(done)` words the one success message (`done`: what the service returned, per
    object). `refuse(obj)` may refuse an object before its service is called (a permission
    the person lacks for its state). A refusal that does not name its object is prefixed
    with `name(obj)`; `name=None` (one object, on its own page) leaves refusals as they are.
    Returns `done`.
    """
    done, refused = [], []
    for obj in objects:
        refusal = refuse(obj) if refuse is not None else None
        if refusal is None:
            try:
                result = service(obj, by=request.user, **(kwargs or {}))
            except DomainError as exc:
                refusal = exc.message
            else:
                done.append(obj if result is None else result)
                continue
        if name is not None and name(obj) not in refusal:
            refusal = f"{name(obj)}: {refusal}"
        refused.append(refusal)
    if done:
        modeladmin.message_user(request, success(done), messages.SUCCESS)
    for text in refused[:MAX_REFUSAL_MESSAGES]:
        modeladmin.message_user(request, text, messages.ERROR)
    if len(refused) > MAX_REFUSAL_MESSAGES:
        more = len(refused) - MAX_REFUSAL_MESSAGES
        modeladmin.message_user(
            request,
            ngettext("…and %(count)d more refused.", "…and %(count)d more refused.", more) % {"count": more},
            messages.ERROR,
        )
    return done


def service_action(
    modeladmin,
    request,
    objects: Iterable,
    service: Callable[..., Any],
    *,
    success: Callable[[list], str],
    template: str,
    title: str,
    submit_label: str,
    form_class: type[forms.Form] = NoInputForm,
    action: str | None = None,
    refuse: Callable[[Any], str | None] | None = None,
    name: Callable[[Any], str] = quoted,
    danger: bool = False,
    cancel_url: str = "",
    cancel_label: str | None = None,
    **context,
) -> TemplateResponse | None:
    """Confirm page, then `run_service` on `objects`. Returns the page to show, or None once the
    service ran (the caller redirects: back to the list, the object, or `next`).

    `action` names the admin action of a bulk run: the changelist's POST opens the page (at
    once runs the service when the form asks for nothing), the page's own POST carries
    `apply`. Without `action` it is one object's button: GET shows the page, POST applies.
    The page is `template` (which includes admin/service_action_form.html) with `context`.
    """
    objects = list(objects)
    if action is not None:
        submitted = "apply" in request.POST or not form_class.base_fields
    else:
        submitted = request.method == "POST"
    form = form_class(request.POST if submitted else None)
    if submitted and form.is_valid():
        run_service(
            modeladmin, request, objects, service, success=success, kwargs=service_kwargs(form), refuse=refuse,
            name=name if action is not None else None,
        )
        return None
    opts = modeladmin.opts
    page = {
        **modeladmin.admin_site.each_context(request),
        "opts": opts,
        "app_label": opts.app_label,
        "title": title,
        "subtitle": None,
        "form": form,
        "media": modeladmin.media + form.media,
        "objects": objects,
        "submit_label": submit_label,
        "danger": danger,
        "cancel_url": cancel_url,
        "cancel_label": cancel_label or _("Cancel"),
        "action_name": action,
        "selected_ids": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME) if action else [],
        "select_across": request.POST.get("select_across", "0") if action else "0",
        **context,
    }
    return TemplateResponse(request, template, page)


class ServiceErrorsAsMessagesMixin:
    """A DomainError raised while an add/change form saves (a race the form's validation could
    not see) reaches the person as a message, not a 500; the admin's transaction has rolled back."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


def _is_empty(value) -> bool:
    if isinstance(value, QuerySet):
        return not value.exists()
    return value is None or value == "" or (isinstance(value, list | tuple) and not value)


def form_changes(form: forms.ModelForm, *, created: bool) -> list[tuple[str, Any, Any]]:
    """(field, old, new) for what a model form changed; every filled-in field when it `created` the object.

    The old value is the form's initial one (read from the database when the form was made), the new one
    what it saved (cleaned data).
    """
    fields = {f.name for f in form._meta.model._meta.get_fields()}  # not a formset's DELETE or ORDER
    if created:
        return [(name, None, value) for name, value in form.cleaned_data.items()
                if name in fields and not _is_empty(value)]
    return [(name, form.initial.get(name), form.cleaned_data.get(name)) for name in form.changed_data if name in fields]


class AuditedChangesMixin:
    """Every add, change and delete made through this admin's forms, its inlines and its delete action
    writes an audit event with what changed (“field: old → new”) through accounts.services.record_change,
    in the admin's own transaction. Changes made through services (suspend, kind, reviews) are audited
    by those services and do not pass here.
    """

    def save_related(self, request, form, formsets, change):
        # Inline rows deleted by this save are recorded first, while their account still exists;
        # rows added get their ids from the save, so they are recorded after it.
        after = []
        for formset in formsets:
            deleted = formset.deleted_forms if formset.can_delete else []
            for inline in formset.forms:
                if inline in deleted:
                    if inline.instance.pk is not None:
                        record_change(inline.instance, by=request.user, verb=AuditEvent.Verb.DELETED)
                elif inline.has_changed():
                    after.append((inline, inline.instance.pk is None))
        super().save_related(request, form, formsets, change)
        for changed, created in [(form, not change), *after]:
            changes = form_changes(changed, created=created)
            if changes:
                verb = AuditEvent.Verb.CREATED if created else AuditEvent.Verb.EDITED
                record_change(changed.instance, by=request.user, verb=verb, changes=changes)

    def delete_model(self, request, obj):
        record_change(obj, by=request.user, verb=AuditEvent.Verb.DELETED)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            record_change(obj, by=request.user, verb=AuditEvent.Verb.DELETED)
        super().delete_queryset(request, queryset)
