import os
import secrets

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from operator_console.command import ConsoleCommand


class Command(ConsoleCommand):
    help = (
        "Make sure a superuser exists. The first time, prints its login once: the password comes from "
        "ADMIN_PASSWORD or is generated. Username from ADMIN_USERNAME (default admin)."
    )

    def handle(self, *args, **options):
        User = get_user_model()
        username = os.environ.get("ADMIN_USERNAME", "admin")
        if User.objects.filter(is_superuser=True).exists():
            names = ", ".join(User.objects.filter(is_superuser=True).values_list("username", flat=True)[:3])
            self.stdout.write(
                _(
                    "Superuser login: %(names)s (password printed when it was made; "
                    "reset with: python manage.py changepassword %(username)s)"
                )
                % {"names": names, "username": username}
            )
            return
        password = os.environ.get("ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        User.objects.create_superuser(username, f"{username}@example.com", password)
        self.stdout.write(self.style.SUCCESS(
                _("Superuser created. Login: %(username)s / %(password)s  (shown once)")
                % {"username": username, "password": password}
            ))
