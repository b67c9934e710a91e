from django.apps import AppConfig


class BroadcastsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "broadcasts"
    verbose_name = "Broadcasts"
