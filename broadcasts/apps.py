from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class BroadcastsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "broadcasts"
    verbose_name = gettext_lazy("Broadcasts")
