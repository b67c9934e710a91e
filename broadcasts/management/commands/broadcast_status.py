"""broadcast_status ID: a broadcast's delivery counters, timings and status."""

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from broadcasts import selectors
from broadcasts.models import Broadcast
from operator_console.command import ConsoleCommand
from operator_console.platform_time import format_moment


def describe(b: Broadcast) -> list[tuple[str, str]]:
    """(label, value) rows for a person reading a terminal."""
    p = selectors.progress(b)
    audience = {"all": "all followers", "tag": f"followers tagged “{b.tag}”", "followers": "a list of followers"}
    rows = [
        ("Status", b.get_status_display()),
        ("Account", f"{b.account.name} ({b.account.get_kind_display().lower()}, {b.account.app_id})"),
        ("Audience", f"{audience.get(b.audience, b.audience)} via {b.get_channel_display().lower()}"),
        ("Send time", format_moment(b.scheduled_at) if b.scheduled_at else "now"),
        ("Batches", f"{p['batches_done']:,} of {p['batch_count']:,} done"),
        ("Total", f"{p['total']:,}"),
        ("Sent", f"{p['sent']:,}"),
        ("Filtered", f"{p['filtered']:,} (at the monthly cap)"),
        ("Failed", f"{p['failed']:,}"),
        ("Started", format_moment(b.started_at) if b.started_at else "not yet"),
        ("Finished", format_moment(b.finished_at) if b.finished_at else "not yet"),
    ]
    if p["seconds"] is not None:
        rows.append(("Duration", f"{p['seconds']:,.1f} s" + ("" if b.finished_at else " so far")))
    if p["rate"]:
        rows.append(("Rate", f"{p['rate']:,.0f} recipients/s"))
    if b.failure_reason:
        rows.append(("Reason", b.failure_reason))
    return rows


class Command(ConsoleCommand):
    help = "Show a broadcast's delivery counters (total, sent, filtered, failed), timings, rate and status."

    def add_arguments(self, parser):
        parser.add_argument("broadcast_id", type=int, help="The broadcast's id (as in the admin).")

    def handle(self, *args, broadcast_id: int, **options):
        b = Broadcast.objects.select_related("account", "tag").filter(pk=broadcast_id).first()
        if b is None:
            raise CommandError(_("Broadcast #%(id)s does not exist.") % {"id": broadcast_id})
        self.stdout.write(_("Broadcast #%(id)s “%(title)s”") % {"id": b.pk, "title": b.title})
        width = max(len(label) for label, _ in describe(b))
        for label, value in describe(b):
            self.stdout.write(f"  {label + ':':<{width + 1}} {value}")
