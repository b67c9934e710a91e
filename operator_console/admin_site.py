"""The console's admin site: every ModelAdmin registered on it, ours and other apps' (auth,
django-celery-beat), is hardened against input that used to answer 500.

`ConsoleAdminSite.register` puts `HardenedAdminMixin` in front of each admin class, so a new
admin gets the same treatment without doing anything. What the mixin does, once for all:

* bulk actions: a `_selected_action` value that is not an id of the list (text, `²`, empty,
  too big for the column) is left out with a message; with none left, Django's "Items must be
  selected" applies and nothing runs;
* add pages: values given in the address (`?account=…&scheduled_at=…`) that the field cannot
  read are dropped, and readable ones are converted, so the page renders instead of failing;
* autocomplete widgets show a submitted value that is not an id as no choice, where Django's
  own widget would fail re-rendering the form;
* every date and date-time input says which zone it is read in ("Asia/Shanghai time", from
  settings.PLATFORM_TIME_ZONE: the console's middleware reads and shows times there);
* a unique constraint broken by a concurrent save (two operators adding the same tag or openid
  at once) makes the form validate again, which now names the duplicate, instead of a 500.

NUL characters are refused before any view runs (operator_console.middleware); the console's
own id filters read ASCII digits only (operator_console.admin_tools.parse_id).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import IntegrityError, models
from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .platform_time import platform_zone_name

# OSError: a time zone field looks a name up on disk (a name too long for a file name).
_UNREADABLE = (ValidationError, ValueError, TypeError, OverflowError, OSError)


def read_key(field: models.Field, value):
    """`value` as `field` stores it (a pk, a date), or raise ValidationError: not readable, or out of the column's range."""
    try:
        converted = field.to_python(value)
        if converted is not None:
            field.run_validators(converted)
    except _UNREADABLE as exc:
        raise ValidationError(str(exc)) from None
    return converted


def is_key(field: models.Field, value) -> bool:
    try:
        read_key(field, value)
    except ValidationError:
        return False
    return True


def _remote_key_field(db_field) -> models.Field:
    """The field of the related model a relation stores (its pk, or its to_field)."""
    opts = db_field.remote_field.model._meta
    return opts.get_field(getattr(db_field.remote_field, "field_name", None) or opts.pk.name)


class _ReadableChoicesMixin:
    """An autocomplete widget that shows a submitted value that is not an id as no choice."""

    def optgroups(self, name, value, attr=None):
        key = _remote_key_field(self.field)
        return super().optgroups(name, [v for v in value if v in (None, "") or is_key(key, v)], attr)


class SafeAutocompleteSelect(_ReadableChoicesMixin, AutocompleteSelect):
    pass


class SafeAutocompleteSelectMultiple(_ReadableChoicesMixin, AutocompleteSelectMultiple):
    pass


def name_the_zone(formfield) -> None:
    """Add "Asia/Shanghai time." (the platform's zone) to a date or date-time input's help text."""
    zone = _("%(zone)s time.") % {"zone": platform_zone_name()}
    formfield.help_text = " ".join(part for part in (str(formfield.help_text or ""), zone) if part)


class HardenedAdminMixin:
    """Put in front of every registered ModelAdmin by ConsoleAdminSite (see the module docstring)."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and isinstance(db_field, models.DateField):  # DateTimeField is one too
            name_the_zone(formfield)
        return formfield

    def response_action(self, request, queryset):
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        ids = [value for value in selected if is_key(self.opts.pk, value)]
        if len(ids) != len(selected):
            post = request.POST.copy()
            post.setlist(helpers.ACTION_CHECKBOX_NAME, ids)
            post._mutable = False
            request.POST = post
            if ids:
                left_out = len(selected) - len(ids)
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d selected value is not an id of this list; it was left out.",
                        "%(count)d selected values are not ids of this list; they were left out.",
                        left_out,
                    ) % {"count": left_out},
                    messages.WARNING,
                )
        return super().response_action(request, queryset)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        readable = {}
        for name, value in initial.items():
            try:
                field = self.opts.get_field(name)
            except FieldDoesNotExist:
                readable[name] = value
                continue
            if not getattr(field, "concrete", False):
                readable[name] = value
            elif field.many_to_many:
                key = _remote_key_field(field)
                readable[name] = [v for v in value if is_key(key, v)]
            elif field.is_relation:
                if is_key(_remote_key_field(field), value):
                    readable[name] = value
            else:
                try:
                    readable[name] = read_key(field, value)
                except ValidationError:
                    pass  # as if the address had not given it
        return readable

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelectMultiple(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except IntegrityError:
            if request.method != "POST":
                raise
        # Another request stored the same unique value between this form's validation and its
        # save (PostgreSQL made this insert wait for the other transaction, then refused it).
        # This one's transaction has rolled back; validating again now sees the other row and
        # the form says what is taken.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except IntegrityError:
            self.message_user(
                request,
                _("This could not be saved: it conflicts with a change saved at the same moment. Check and try again."),
                messages.ERROR,
            )
            return HttpResponseRedirect(request.get_full_path())


_hardened: dict[type, type] = {}


def hardened(admin_class: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
    """`admin_class` with HardenedAdminMixin in front (the same class for the same input)."""
    if issubclass(admin_class, HardenedAdminMixin):
        return admin_class
    if admin_class not in _hardened:
        _hardened[admin_class] = type(
            admin_class.__name__,
            (HardenedAdminMixin, admin_class),
            {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
        )
    return _hardened[admin_class]


class ConsoleAdminSite(admin.AdminSite):
    """Django's admin site, with every registered ModelAdmin hardened (HardenedAdminMixin)."""

    def register(self, model_or_iterable, admin_class=None, **options):
        super().register(model_or_iterable, hardened(admin_class or admin.ModelAdmin), **options)
