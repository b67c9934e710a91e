"""An account's custom menu (R6): items of two levels, within the platform's limits."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy

from .accounts import OfficialAccount

# The platform's menu limits (R6): 3 top-level items of at most 5 children each.
MENU_MAX_TOP_LEVEL = 3
MENU_MAX_CHILDREN = 5
MENU_TOP_NAME_MAX_BYTES = 16  # 4 CJK characters or 16 Latin letters
MENU_CHILD_NAME_MAX_BYTES = 60
MENU_KEY_MAX_BYTES = 128
MENU_URL_MAX_BYTES = 1024


def _utf8_len(value: str) -> int:
    return len(value.encode("utf-8"))


class MenuItem(models.Model):
    class Kind(models.TextChoices):
        CLICK = "click", gettext_lazy("Click (sends a key)")
        VIEW = "view", gettext_lazy("View (opens a URL)")

    account = models.ForeignKey(
        OfficialAccount, verbose_name=gettext_lazy("account"), on_delete=models.CASCADE, related_name="menu_items"
    )
    parent = models.ForeignKey(
        "self", verbose_name=gettext_lazy("parent item"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="children"
    )
    name = models.CharField(verbose_name=gettext_lazy("name"), max_length=60)
    kind = models.CharField(verbose_name=gettext_lazy("kind"), max_length=5, choices=Kind.choices, default=Kind.CLICK)
    key = models.CharField(verbose_name=gettext_lazy("key"), max_length=128, blank=True)
    url = models.URLField(verbose_name=gettext_lazy("URL"), max_length=1024, blank=True)
    position = models.PositiveSmallIntegerField(verbose_name=gettext_lazy("position"), default=0)

    class Meta:
        verbose_name = gettext_lazy("menu item")
        verbose_name_plural = gettext_lazy("menu items")
        ordering = ["account_id", "parent_id", "position", "id"]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        account = getattr(self, "account", None) if self.account_id else None
        if account is not None and not account.has_custom_menu:
            message = gettext_lazy("Only service accounts have a custom menu; “%(account)s” is a subscription account.")
            raise ValidationError(message % {"account": account.name})
        is_top = self.parent_id is None
        if not is_top:
            parent = self.parent
            if parent.parent_id is not None:
                errors["parent"] = gettext_lazy("A menu has two levels: a sub-item cannot have its own sub-items.")
            if account is not None and parent.account_id != account.pk:
                errors["parent"] = gettext_lazy("The parent item belongs to another account's menu.")
        limit = MENU_TOP_NAME_MAX_BYTES if is_top else MENU_CHILD_NAME_MAX_BYTES
        if _utf8_len(self.name or "") > limit:
            if is_top:
                message = gettext_lazy("A top-level item's name is at most %(limit)s bytes (UTF-8); “%(name)s” is longer.")
            else:
                message = gettext_lazy("A sub-menu item's name is at most %(limit)s bytes (UTF-8); “%(name)s” is longer.")
            errors["name"] = message % {"limit": limit, "name": self.name}
        if not (self.name or "").strip():
            errors["name"] = gettext_lazy("A menu item needs a name.")
        has_children = self.pk is not None and self.children.exists()
        if not has_children:
            if self.kind == self.Kind.CLICK and not self.key:
                errors["key"] = gettext_lazy("A click item needs a key to send to the account's server.")
            if self.kind == self.Kind.VIEW and not self.url:
                errors["url"] = gettext_lazy("A view item needs the URL it opens.")
        if _utf8_len(self.key or "") > MENU_KEY_MAX_BYTES:
            errors["key"] = gettext_lazy("A key is at most %(limit)s bytes.") % {"limit": MENU_KEY_MAX_BYTES}
        if account is not None and not errors:
            siblings = MenuItem.objects.filter(account=account, parent_id=self.parent_id).exclude(pk=self.pk)
            count = siblings.count()
            if is_top and count >= MENU_MAX_TOP_LEVEL:
                message = gettext_lazy("A menu has at most %(limit)s top-level items; “%(account)s” already has %(count)s.")
                errors["parent"] = message % {"limit": MENU_MAX_TOP_LEVEL, "account": account.name, "count": count}
            if not is_top and count >= MENU_MAX_CHILDREN:
                message = gettext_lazy("A top-level item has at most %(limit)s sub-items; “%(parent)s” already has %(count)s.")
                errors["parent"] = message % {"limit": MENU_MAX_CHILDREN, "parent": self.parent.name, "count": count}
        if errors:
            raise ValidationError(errors)
