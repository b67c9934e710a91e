"""Follower imports in the admin: an operator uploads a CSV for an account; a worker imports it
through the command's service (accounts.imports.start_follower_import / run_follower_import); the
import's page shows its progress live and then its counts or its line-numbered problems."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from operator_console.admin_live import live_cell
from operator_console.admin_tools import ReadOnlyAdmin, parse_id
from operator_console.platform_time import format_moment

from .. import imports
from ..forms import FollowerImportForm
from ..models import FollowerImport, OfficialAccount
from .common import AccountFilter

Status = FollowerImport.Status
LIVE = (Status.QUEUED, Status.RUNNING)
MAX_POLLED = 50


def _problem_list(job: FollowerImport):
    if not job.problems:
        return ""
    more = job.problem_count - len(job.problems)
    items = [(p,) for p in job.problems] + ([(_("… and %(count)s more") % {"count": more},)] if more > 0 else [])
    return format_html('<ul class="bc-import-problems">{}</ul>', format_html_join("", "<li>{}</li>", items))


def outcome_html(job: FollowerImport):
    """Queued, the progress of a running import, or how it ended (counts, refusal, problems)."""
    if job.status == Status.QUEUED:
        return format_html("<p>{}</p>", _("Queued: waiting for a worker."))
    if job.status == Status.RUNNING:
        report = imports.import_progress(job)
        done = min(report.get("done", 0), job.size)
        percent = 100 * done // job.size if job.size else 0
        return format_html(
            '<progress max="{}" value="{}"></progress> <span class="bc-import-read">{}</span> {}',
            job.size, done, _("%(percent)s%% of the file read") % {"percent": percent}, report.get("phase", ""),
        )
    text = job.summary if job.status == Status.DONE else job.error
    if job.status == Status.DONE and job.problem_count:
        text += " " + ngettext("%(count)d row skipped:", "%(count)d rows skipped:", job.problem_count) % {
            "count": job.problem_count}
    return format_html('<p class="bc-import-outcome">{}</p>{}', text, _problem_list(job))


@admin.register(FollowerImport)
class FollowerImportAdmin(ReadOnlyAdmin):
    """Written by the import service alone; the upload page is the way in."""

    list_display = ("created_at", "account", "name", "status", "by", "summary_short")
    list_select_related = ("account", "by")
    list_filter = (AccountFilter,)
    fields = ("account", "name", "status", "size", "skip_invalid", "by", "created_at", "started_at", "finished_at", "outcome")
    readonly_fields = fields
    show_full_result_count = False

    @property
    def media(self):
        return super().media + forms.Media(js=["console/live_progress.js"])

    def get_queryset(self, request):
        return super().get_queryset(request).defer("data")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("upload/", view(self.upload_view), name="accounts_followerimport_upload"),
            path("progress/", view(self.progress_view), name="accounts_followerimport_progress"),
            *super().get_urls(),
        ]

    def has_upload_permission(self, request) -> bool:
        return request.user.has_perm("accounts.add_followerimport")

    def changelist_view(self, request, extra_context=None):
        extra = {"upload_url": reverse("admin:accounts_followerimport_upload"),
                 "can_upload": self.has_upload_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    @admin.display(description=gettext_lazy("Outcome"))
    def summary_short(self, obj):
        return obj.summary or obj.error or obj.get_status_display()

    @admin.display(description=gettext_lazy("Progress and outcome"))
    def outcome(self, obj):
        inner = outcome_html(obj)
        if obj.status not in LIVE:
            return inner
        return live_cell(obj.pk, "progress", inner, url=reverse("admin:accounts_followerimport_progress"), mode="page")

    def upload_view(self, request):
        if not self.has_upload_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = FollowerImportForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                job = imports.start_follower_import(
                    form.account, by=request.user, name=upload.name[:255], data=upload.read(),
                    skip_invalid=form.cleaned_data["skip_invalid"],
                )
                self.message_user(request, _("“%(name)s” is queued for %(account)s; this page shows its progress.")
                                  % {"name": job.name, "account": job.account})
                return HttpResponseRedirect(reverse("admin:accounts_followerimport_change", args=[job.pk]))
        else:
            account_id = parse_id(request.GET.get("account", ""))
            account = OfficialAccount.objects.filter(pk=account_id).first() if account_id is not None else None
            form = FollowerImportForm(initial={"app_id": account.app_id if account else ""})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts, "form": form, "title": _("Import followers from a CSV file"),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/accounts/followerimport/upload.html", context)

    def progress_view(self, request):
        """GET ?id=…: {"rows": {"<id>": {"progress_html", "status", "live"}}} for the import's page."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        ids = {i for i in (parse_id(raw) for raw in request.GET.getlist("id")[:MAX_POLLED]) if i is not None}
        rows = FollowerImport.objects.defer("data").select_related("account").filter(pk__in=ids)
        data = {
            str(job.pk): {"status": job.status, "live": job.status in LIVE, "progress_html": str(outcome_html(job)),
                          "status_html": job.get_status_display(), "finished_at": format_moment(job.finished_at)}
            for job in rows
        }
        return JsonResponse({"rows": data})
