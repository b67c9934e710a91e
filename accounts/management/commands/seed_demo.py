from importlib import import_module

from django.apps import apps
from django.core.management.base import CommandError
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.module_loading import module_has_submodule
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.demo import ACCOUNTS, DEFAULT_FOLLOWERS, STAFF, DemoData, seed_demo
from accounts.exceptions import DomainError
from accounts.models import OfficialAccount
from operator_console.command import ConsoleCommand


class Command(ConsoleCommand):
    help = (
        "Load demo data: subscription and service accounts (one certified, one with a pending application, "
        "one uncertified), tags, followers, a custom menu, and staff users operator / reviewer / auditor in the "
        "groups of those names (each with a generated password, printed once when the user is made, unless "
        "DEMO_PASSWORD sets one for all). Idempotent: "
        "a second run adds nothing; a larger --followers tops the demo accounts up. Installed apps with a "
        "demo.seed_demo(demo, stdout=...) function add their own demo data afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--followers",
            type=int,
            default=DEFAULT_FOLLOWERS,
            metavar="N",
            help=f"demo followers in all, shared among the demo accounts (default {DEFAULT_FOLLOWERS:,})",
        )

    def handle(self, *args, followers, **options):
        if followers < 0:
            raise CommandError(_("--followers must be zero or more."))
        try:
            demo = seed_demo(followers=followers)
            for app_config in apps.get_app_configs():
                # Other apps' demo data (e.g. broadcasts), without accounts importing them.
                if app_config.name != "accounts" and module_has_submodule(app_config.module, "demo"):
                    hook = getattr(import_module(f"{app_config.name}.demo"), "seed_demo", None)
                    if hook is not None:
                        hook(demo, stdout=self.stdout)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.report(demo)

    def report(self, demo: DemoData) -> None:
        added = ", ".join(_added(what, n) for what, n in demo.added.items() if n)
        self.stdout.write(self.style.SUCCESS(
                _("Demo data ready (added %(added)s).") % {"added": added} if added else _("Demo data ready (nothing to add).")
            ))
        now = timezone.now()
        accounts = (
            OfficialAccount.objects.filter(app_id__in=[spec.app_id for spec in ACCOUNTS])
            .annotate(n_followers=Count("followers", filter=Q(followers__subscribed=True)))
            .order_by("kind", "name")
        )
        for account in accounts:
            cert = account.current_certification(now)
            if cert is not None:
                badge = _("certified until %(date)s") % {"date": f"{timezone.localtime(cert.valid_until):%Y-%m-%d}"}
            elif account.certifications.filter(status="pending").exists():
                badge = _("certification pending")
            else:
                badge = _("not certified")
            self.stdout.write(
                f"  {account.name:<20} {account.app_id}  {account.get_kind_display():<20} {badge:<27} "
                + ngettext("%(count)9s subscribed follower", "%(count)9s subscribed followers", account.n_followers)
                % {"count": f"{account.n_followers:,}"}
            )
        logins = [f"{username} / {self.password_text(demo, username)}" for username, _name, _group in STAFF]
        self.stdout.write(_("Demo staff logins (groups of the same names): %(logins)s") % {"logins": ", ".join(logins)})
        if demo.new_passwords and not demo.password:
            self.stdout.write(self.style.WARNING(_("The generated passwords are shown this once; note them now.")))

    @staticmethod
    def password_text(demo: DemoData, username: str) -> str:
        if username in demo.new_passwords:
            return demo.new_passwords[username]
        if demo.password:
            return demo.password if demo.password_kept.get(username) else _("(password changed since it was set)")
        return _("(shown when the user was made; reset with: python manage.py changepassword %(username)s)") % {
            "username": username
        }


def _added(what: str, n: int) -> str:
    """ "3,000 followers": one of DemoData.added's counts, in words."""
    count = {"count": f"{n:,}"}
    if what == "accounts":
        return ngettext("%(count)s account", "%(count)s accounts", n) % count
    if what == "tags":
        return ngettext("%(count)s tag", "%(count)s tags", n) % count
    if what == "followers":
        return ngettext("%(count)s follower", "%(count)s followers", n) % count
    if what == "tag links":
        return ngettext("%(count)s tag link", "%(count)s tag links", n) % count
    if what == "certifications":
        return ngettext("%(count)s certification", "%(count)s certifications", n) % count
    if what == "menu items":
        return ngettext("%(count)s menu item", "%(count)s menu items", n) % count
    if what == "staff users":
        return ngettext("%(count)s staff user", "%(count)s staff users", n) % count
    raise ValueError(what)
