"""CSV exports of the admin's lists, as filtered on the page, streamed in constant memory.

Each list with `CsvExportMixin` has an "Export CSV" button (templates/admin/
change_list_object_tools.html) that carries the page's query string to `<list>/export.csv`. The
export applies the list's own filters, search and ordering (ChangeList, so the ordering is the one
that matches the filter's index), reads only the exported columns (`values_list`) through a
server-side cursor (`.iterator(chunk_size=EXPORT_CHUNK)`), and writes each row to the response
as it comes: a million rows never sit in memory, and the first bytes leave before the last row is
read. Times are ISO 8601 in the platform's zone, with seconds and the offset.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .platform_time import in_platform_zone

# Rows fetched from the server-side cursor at a time: a few MB at most, whatever the list's size.
EXPORT_CHUNK = 2000
# A cell starting with one of these is a formula to a spreadsheet (CSV injection): it is quoted.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file whose write() returns what it is given: csv.writer then yields each line."""

    def write(self, value: str) -> str:
        return value


def cell(value) -> str:
    """One value as a CSV cell: times in the platform zone, booleans as yes/no, formulas defused."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return in_platform_zone(value).isoformat(timespec="seconds")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(header: Iterable[str], rows: Iterable[tuple]) -> Iterator[str]:
    """The CSV text of `header` and `rows`, one line at a time."""
    writer = csv.writer(_Echo())
    yield writer.writerow([str(h) for h in header])
    for row in rows:
        yield writer.writerow([cell(v) for v in row])


class CsvExportMixin:
    """For a ModelAdmin: `export_columns` = ((label, field path), ...); adds the export URL and button."""

    export_columns: tuple = ()

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_export"
        return [path("export.csv", self.admin_site.admin_view(self.export_view), name=name), *super().get_urls()]

    def export_url(self, request) -> str:
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_export", current_app=self.admin_site.name)
        query = request.GET.copy()
        for key in ("p", "before_id", "e"):  # the page shown is not a filter
            query.pop(key, None)
        return f"{url}?{query.urlencode()}" if query else url

    def changelist_view(self, request, extra_context=None):
        extra = {"export_url": self.export_url(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def export_rows(self, request) -> Iterator[tuple]:
        """The filtered list's rows, only the exported columns, through a server-side cursor."""
        queryset = self.get_changelist_instance(request).queryset
        return queryset.values_list(*(p for _label, p in self.export_columns)).iterator(chunk_size=EXPORT_CHUNK)

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        get = request.GET.copy()
        for key in ("p", "before_id"):
            get.pop(key, None)
        request.GET = get
        try:
            rows = self.export_rows(request)
        except IncorrectLookupParameters:
            changelist = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
            return HttpResponseRedirect(changelist + "?e=1")
        header = [label for label, _path in self.export_columns]
        response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
        stamp = in_platform_zone(timezone.now()).strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="{self.opts.model_name}-{stamp}.csv"'
        return response
