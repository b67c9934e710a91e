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
    channel = b.get_channel_display().lower()
    if b.audience == Broadcast.Audience.ALL:
        audience = _("all followers via %(channel)s") % {"channel": channel}
    elif b.audience == Broadcast.Audience.TAG:
        audience = _("followers tagged “%(tag)s” via %(channel)s") % {"tag": b.tag, "channel": channel}
    else:
        audience = _("a list of followers via %(channel)s") % {"channel": channel}
    not_yet = _("not yet")
    rows = [
        (_("Status"), b.get_status_display()),
        (_("Account"), _("%(name)s (%(kind)s, %(app_id)s)") % {
            "name": b.account.name, "kind": b.account.get_kind_display().lower(), "app_id": b.account.app_id}),
        (_("Audience"), audience),
        (_("Send time"), format_moment(b.scheduled_at) if b.scheduled_at else _("now")),
        (_("Batches"), _("%(done)s of %(count)s done")
         % {"done": f"{p['batches_done']:,}", "count": f"{p['batch_count']:,}"}),
        (_("Total"), f"{p['total']:,}"),
        (_("Sent"), f"{p['sent']:,}"),
        (_("Filtered"), _("%(count)s (at the monthly cap)") % {"count": f"{p['filtered']:,}"}),
        (_("Failed"), f"{p['failed']:,}"),
        (_("Started"), format_moment(b.started_at) if b.started_at else not_yet),
        (_("Finished"), format_moment(b.finished_at) if b.finished_at else not_yet),
    ]
    if p["seconds"] is not None:
        seconds = {"seconds": f"{p['seconds']:,.1f}"}
        rows.append((_("Duration"), _("%(seconds)s s") % seconds if b.finished_at else _("%(seconds)s s so far") % seconds))
    if p["rate"]:
        rows.append((_("Rate"), _("%(rate)s recipients/s") % {"rate": f"{p['rate']:,.0f}"}))
    if b.failure_reason:
        rows.append((_("Reason"), b.failure_reason))
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
        rows = describe(b)
        width = max(len(label) for label, _value in rows)
        for label, value in rows:
            self.stdout.write(f"  {label + ':':<{width + 1}} {value}")
