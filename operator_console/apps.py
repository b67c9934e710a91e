from django.contrib.admin.apps import AdminConfig


class ConsoleAdminConfig(AdminConfig):
    """django.contrib.admin on the console's site (operator_console.admin_site.ConsoleAdminSite),
    which hardens every registered ModelAdmin against hostile input."""

    default_site = "operator_console.admin_site.ConsoleAdminSite"
