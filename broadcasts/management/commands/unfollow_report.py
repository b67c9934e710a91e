"""unfollow_report [--account APP_ID] [--since DATE] [--csv]: unfollows after each broadcast (R8),
computed fresh by the service the beat job runs (broadcasts.services.unfollow_figures)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import OfficialAccount
from broadcasts import services
from operator_console.admin_tools import EARLIEST_YEAR, LATEST_YEAR
from operator_console.command import ConsoleCommand
from operator_console.platform_time import format_moment, in_platform_zone, platform_zone

# A public contract for programs: never translated.
CSV_COLUMNS = ["broadcast_id", "app_id", "sent", "unfollows_24h", "unfollows_72h", "rate_72h"]
# The table's headings, for people.
HEADERS = [
    gettext_lazy("BROADCAST"), gettext_lazy("APP ID"), gettext_lazy("SENT AT"), gettext_lazy("SENT"),
    gettext_lazy("UNFOLLOWS 24H"), gettext_lazy("UNFOLLOWS 72H"), gettext_lazy("RATE 72H"), gettext_lazy("COMPLETE"),
]


def parse_since(value: str) -> datetime:
    """An ISO date: the start of that day in the platform time zone."""
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise CommandError(_("--since: “%(value)s” is not an ISO date (for example 2026-11-01).") % {"value": value}) from None
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        raise CommandError(_("--since: “%(value)s” is outside the years %(first)s–%(last)s.")
            % {"value": value, "first": EARLIEST_YEAR, "last": LATEST_YEAR})
    if day > in_platform_zone(timezone.now()).date():
        # Nothing can have been sent from a day still to come: say so rather than print an empty report.
        raise CommandError(_("--since: “%(value)s” is in the future; give a day up to today (platform time zone).")
                           % {"value": value})
    return datetime(day.year, day.month, day.day, tzinfo=platform_zone())


def fraction(value) -> str:
    """A rate as a plain decimal fraction: 0.3, 0.012345, 0 (never 3E-1)."""
    return format(value.normalize(), "f")


class Command(ConsoleCommand):
    help = (
        "Per broadcast: recipients who unfollowed within 24 h and 72 h of delivery (each unfollow counted for "
        "the latest broadcast the follower received from the account) and the 72 h rate, computed now."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account", metavar="APP_ID", help="Only this account's broadcasts (its app id).")
        parser.add_argument("--since", metavar="DATE", help="Only broadcasts sent from this day (platform time zone).")
        parser.add_argument("--csv", dest="as_csv", action="store_true", help=f"CSV: {','.join(CSV_COLUMNS)}.")

    def handle(self, *args, account=None, since=None, as_csv=False, **options):
        # Every finished broadcast, those that reached nobody included (sent 0, rate 0).
        broadcasts = services.finished_broadcasts()
        if account:
            if not OfficialAccount.objects.filter(app_id=account).exists():
                raise CommandError(_("No official account has the app id “%(app_id)s”.") % {"app_id": account})
            broadcasts = broadcasts.filter(account__app_id=account)
        if since is not None:
            broadcasts = broadcasts.filter(started_at__gte=parse_since(since))
        rows = [(b, services.unfollow_figures(b)) for b in broadcasts.iterator(chunk_size=200)]
        if as_csv:
            self._write_csv(rows)
        else:
            self._write_table(rows)

    def _write_csv(self, rows):
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for _b, f in rows:
            writer.writerow([f.broadcast_id, f.app_id, f.sent, f.unfollows_24h, f.unfollows_72h, fraction(f.rate_72h)])
        self.stdout.write(out.getvalue(), ending="")

    def _write_table(self, rows):
        if not rows:
            self.stdout.write(_("No sent broadcasts."))
            return
        table = [[str(h) for h in HEADERS]] + [
            [f"#{f.broadcast_id}", f.app_id, format_moment(b.started_at), f.sent, f.unfollows_24h, f.unfollows_72h,
             f"{f.rate_72h:.2%}", _("yes") if f.is_final else _("not yet (72 h still running)")]
            for b, f in rows
        ]
        widths = [max(len(str(r[i])) for r in table) for i in range(len(HEADERS))]
        for r in table:
            self.stdout.write("  ".join(str(cell).ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
