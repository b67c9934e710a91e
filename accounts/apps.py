from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy

from .roles import sync_roles


def _sync_roles(sender, **kwargs):
    sync_roles()


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = gettext_lazy("Official accounts")

    def ready(self):
        # Groups need the permissions that post_migrate creates, so they follow it.
        post_migrate.connect(_sync_roles, dispatch_uid="accounts.sync_roles")
