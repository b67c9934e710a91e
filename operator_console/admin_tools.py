"""Admin pieces shared by the apps: lists of tables with millions of rows, an id filter,
read-only admins, the console's date range.

The "confirm page, call a service, report" helper is in operator_console.admin_actions.
"""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connections, models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

# Dates ops may type into the admin. Outside this range a typo does real harm: year 1 in
# Asia/Shanghai is year 0 BC in UTC, which PostgreSQL stores but psycopg cannot read back (every
# page showing the row then fails), and year 9999 overflows a quota window or a one-year validity.
EARLIEST_YEAR, LATEST_YEAR = 1970, 2999


def validate_console_datetime(value) -> None:
    if value is not None and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValidationError(
            _("Enter a date between %(earliest)s and %(latest)s.") % {"earliest": EARLIEST_YEAR, "latest": LATEST_YEAR},
            code="date_out_of_range",
        )


class ConsoleDatesMixin:
    """Every date-time field of the admin's model forms refuses years outside the console's range."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and isinstance(db_field, models.DateTimeField):
            formfield.validators.append(validate_console_datetime)
        return formfield


# Below this many rows an exact COUNT(*) is cheap and the planner's estimate may be stale.
EXACT_COUNT_BELOW = 100_000


def estimated_row_count(model, *, using: str = "default") -> int | None:
    """PostgreSQL's planner estimate of a table's rows (pg_class.reltuples), kept fresh by autovacuum.

    None on other databases, or when the table was never analysed (reltuples = -1).
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
        row = cursor.fetchone()
    if row is None or row[0] is None or row[0] < 0:
        return None
    return int(row[0])


class EstimatedCountPaginator(Paginator):
    """Never a full COUNT(*) of a big table.

    Unfiltered: PostgreSQL's estimate (pg_class.reltuples) once the table is big. Filtered:
    a COUNT over at most `cap` + 1 rows. `approximate` ("about" / "more than") tells the
    pagination template (templates/admin/pagination.html) that the number is not exact.
    """

    cap = 100_000
    approximate = ""

    @cached_property
    def count(self):
        qs = self.object_list
        if not qs.query.where:
            estimate = estimated_row_count(qs.model, using=qs.db)
            if estimate is not None and estimate >= max(EXACT_COUNT_BELOW, self.cap):
                self.approximate = "about"
                return estimate
        n = qs.order_by()[: self.cap + 1].count()
        if n > self.cap:
            self.approximate = "more than"
            return self.cap
        return n


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the services: viewable, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# The largest id a bigint column holds: a longer number matches nothing rather than failing.
MAX_ID = 2**63 - 1


def parse_id(raw: str) -> int | None:
    """An id a person typed or a link carried, or None. ASCII digits only: str.isdigit() also
    accepts "²" and other Unicode digits, which int() then refuses."""
    raw = raw.strip()
    if not raw or len(raw) > len(str(MAX_ID)) or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if value <= MAX_ID else None


class IdFilter(admin.ListFilter):
    """A text box for one id (`?<parameter_name>=<id>`), filtering on an indexed foreign key.

    It lists no choices, so a big table never runs a query to fill the sidebar. Lists link
    to it (an account's followers, a broadcast's deliveries). A value that is not an id
    (`parse_id`) matches nothing rather than everything, and the box says so. With `related_model`, the filtered-on object
    is named under the box. Subclasses set title, parameter_name and field.
    """

    parameter_name = ""
    field = ""
    related_model = None
    template = "admin/id_filter.html"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.raw = ""
        if self.parameter_name in params:
            raw = params.pop(self.parameter_name)
            self.raw = (raw[-1] if isinstance(raw, list) else raw).strip()
            self.used_parameters[self.parameter_name] = self.raw

    @property
    def value(self) -> int | None:
        return parse_id(self.raw)

    def has_output(self):
        return True

    def expected_parameters(self):
        return [self.parameter_name]

    def queryset(self, request, queryset):
        if not self.raw:
            return queryset
        if self.value is None:
            return queryset.none()
        return queryset.filter(**{self.field: self.value})

    def choices(self, changelist):
        selected = None
        if self.related_model is not None and self.value is not None:
            selected = self.related_model._default_manager.filter(pk=self.value).first()
        others = [
            (k, v)
            for k, values in changelist.filter_params.items()
            if k != self.parameter_name
            for v in values
        ]
        yield {
            "parameter_name": self.parameter_name,
            "value": self.raw,
            "selected": selected,
            "not_an_id": bool(self.raw) and self.value is None,
            "others": others,
            "clear_url": changelist.get_query_string(remove=[self.parameter_name]),
        }
