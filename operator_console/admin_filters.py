"""A date range filter for the admin's big lists: two dates typed in (`?since=` / `?until=`), read
as whole days on the platform's calendar (settings.PLATFORM_TIME_ZONE), on an indexed column.
Like IdFilter it lists no choices, so the sidebar runs no query; a date it cannot read matches
nothing and the box says so."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib import admin

from .platform_time import platform_zone, platform_zone_name


def parse_day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip()) if raw.strip() else None
    except ValueError:
        return None


class DateRangeFilter(admin.ListFilter):
    """Subclasses set title and field (an indexed DateTimeField); `until` includes its whole day."""

    field = ""
    since_parameter = "since"
    until_parameter = "until"
    template = "admin/date_range_filter.html"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.raw = {}
        for name in (self.since_parameter, self.until_parameter):
            if name in params:
                raw = params.pop(name)
                self.raw[name] = (raw[-1] if isinstance(raw, list) else raw).strip()
                self.used_parameters[name] = self.raw[name]

    def has_output(self):
        return True

    def expected_parameters(self):
        return [self.since_parameter, self.until_parameter]

    def _start_of(self, day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=platform_zone())

    def queryset(self, request, queryset):
        bounds = {}
        for name, lookup, shift in ((self.since_parameter, "gte", 0), (self.until_parameter, "lt", 1)):
            raw = self.raw.get(name, "")
            if not raw:
                continue
            day = parse_day(raw)
            if day is None:
                return queryset.none()
            bounds[f"{self.field}__{lookup}"] = self._start_of(day + timedelta(days=shift))
        return queryset.filter(**bounds)

    def choices(self, changelist):
        mine = {self.since_parameter, self.until_parameter}
        yield {
            "since": (self.since_parameter, self.raw.get(self.since_parameter, "")),
            "until": (self.until_parameter, self.raw.get(self.until_parameter, "")),
            "zone": platform_zone_name(),
            "unreadable": any(v and parse_day(v) is None for v in self.raw.values()),
            "others": [(k, v) for k, values in changelist.filter_params.items() if k not in mine for v in values],
            "clear_url": changelist.get_query_string(remove=list(mine)),
            "active": any(self.raw.values()),
        }
