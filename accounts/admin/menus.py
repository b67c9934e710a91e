"""Custom menus (R6: service accounts only): the inline on the account page and the menu item
admin. The forms check a whole menu (3 top-level items of up to 5 sub-items)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy

from operator_console.admin_actions import AuditedChangesMixin, ServiceErrorsAsMessagesMixin

from .. import services
from ..forms import MenuItemForm, MenuItemInlineFormSet, MenuParentChoiceField
from ..models import MenuItem
from .common import AccountFilter


class MenuItemInline(admin.TabularInline):
    model = MenuItem
    form = MenuItemForm
    formset = MenuItemInlineFormSet
    fields = ["name", "parent", "kind", "key", "url", "position"]
    extra = 1
    verbose_name = gettext_lazy("custom menu item")
    verbose_name_plural = gettext_lazy("custom menu (service accounts only: 3 top-level items of up to 5 sub-items)")

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


@admin.register(MenuItem)
class MenuItemAdmin(AuditedChangesMixin, ServiceErrorsAsMessagesMixin, admin.ModelAdmin):
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
                help_text=gettext_lazy("Empty for a top-level item."),
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # R6's limits are counted again under the account's lock: two people saving at once cannot both
        # take the last slot (a refusal is a message, ServiceErrorsAsMessagesMixin).
        services.save_menu_item(obj, by=request.user)

    @admin.display(description=gettext_lazy("Key or URL"))
    def target(self, obj):
        return obj.key if obj.kind == MenuItem.Kind.CLICK else obj.url
