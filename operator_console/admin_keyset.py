"""Keyset ("next page") navigation for the admin's big lists.

A filtered list of a table with millions of rows counts at most a cap of rows
(EstimatedCountPaginator), so its page numbers end at cap / page size. Past that the list
goes on by keyset: "Next page" carries `before_id=<the last id shown>` and the list
continues below that id, served by the primary key (or the filter's own index). Offered
where the list is ordered by id, newest first (the big lists' default). A page number past
the last page shows the last page with a message instead of Django's "?e=1".
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.main import PAGE_VAR, ChangeList
from django.utils.translation import gettext as _

KEYSET_VAR = "before_id"


class KeysetChangeList(ChangeList):
    """A ChangeList that understands `before_id` and offers `next_keyset_url`."""

    def __init__(self, request, *args, **kwargs):
        raw = request.GET.get(KEYSET_VAR, "")
        self.before_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None
        self.next_keyset_url = ""
        self.request = request
        super().__init__(request, *args, **kwargs)

    def get_filters_params(self, params=None):
        params = super().get_filters_params(params)
        params.pop(KEYSET_VAR, None)  # not a field lookup
        return params

    def _by_newest_id(self) -> bool:
        return list(self.get_ordering(self.request, self.root_queryset))[:1] in (["-id"], ["-pk"])

    def get_queryset(self, request, exclude_parameters=None):
        qs = super().get_queryset(request, exclude_parameters)
        if self.before_id is not None and self._by_newest_id():
            qs = qs.filter(pk__lt=self.before_id)
        return qs

    def get_results(self, request):
        # Only a page past the first can be out of range (page 1 costs no extra count).
        paginator = self.model_admin.get_paginator(request, self.queryset, self.list_per_page)
        if self.page_num > 1 and self.page_num > max(paginator.num_pages, 1):
            messages.warning(request, _(
                "There is no page %(page)s of this list; it shows the last page. "
                "Use “Next page” at the bottom, or narrow the list with a filter or a search."
            ) % {"page": self.page_num})
            self.page_num = max(paginator.num_pages, 1)
        super().get_results(request)
        more = getattr(self.paginator, "approximate", "") or self.page_num < self.paginator.num_pages
        if self.result_list and self._by_newest_id() and more:
            last = list(self.result_list)[-1]
            self.next_keyset_url = self.get_query_string({KEYSET_VAR: last.pk}, remove=[PAGE_VAR])


class KeysetPaginationMixin:
    """For the ModelAdmin of a big table ordered by -id: keyset navigation past the counted pages."""

    def get_changelist(self, request, **kwargs):
        return KeysetChangeList
