"""Custom menus (R6): limits counted under the account's lock; an item's account follows its parent."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..exceptions import (
    InvalidMenu,
    InvalidState,
)
from ..models import (
    AuditEvent,
    MenuItem,
    OfficialAccount,
)
from .audit import record_change


@transaction.atomic
def save_menu_item(item: MenuItem, *, by) -> MenuItem:
    """Store a new or changed custom-menu item (R6). The menu is counted under its account's row lock, so
    people adding items at once never pass 3 top-level items or 5 sub-items; an item moved to another
    account takes its sub-items along (audited), so no item's account differs from its parent's.
    Raises invalid_menu (context `field`), invalid_state (changed or deleted meanwhile).
    """
    before = MenuItem.objects.filter(pk=item.pk).values_list("account_id", flat=True).first() if item.pk else None
    # Lock order: the accounts by id (a move touches two), then the item, as every account service does.
    list(OfficialAccount.objects.select_for_update().filter(pk__in={item.account_id, before} - {None}).order_by("pk"))
    if item.pk is not None:
        if MenuItem.objects.select_for_update().filter(pk=item.pk).values_list("account_id", flat=True).first() != before:
            raise InvalidState(
                _("The menu item “%(name)s” was moved or deleted meanwhile; reload the page.") % {"name": item.name}
            )
    # Read what the checks compare after the lock: the account's kind, the parent's account.
    item.account = OfficialAccount.objects.get(pk=item.account_id)
    if item.parent_id is not None:
        item.parent = MenuItem.objects.filter(pk=item.parent_id).first()
        if item.parent is None:
            raise InvalidMenu(_("The parent item was deleted meanwhile; choose another."), field="parent")
    if item.pk is not None and item.parent_id is not None and item.children.exists():
        raise InvalidMenu(
            _("“%(name)s” has sub-items, so it must stay a top-level item (a menu has two levels).") % {"name": item.name},
            field="parent",
        )
    try:
        item.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise InvalidMenu(messages[0], field=None if field == NON_FIELD_ERRORS else field) from None
    item.save()
    if before is not None and before != item.account_id:
        old_account = OfficialAccount.objects.get(pk=before)
        for child in item.children.select_for_update().order_by("pk"):
            child.account = item.account
            child.save(update_fields=["account"])
            record_change(child, by=by, verb=AuditEvent.Verb.EDITED, changes=[("account", old_account, item.account)])
    return item


