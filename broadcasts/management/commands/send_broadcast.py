"""send_broadcast ID [--now]: dispatch one approved broadcast and follow it until it ends."""

from __future__ import annotations

import math
import time

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from tqdm import tqdm

from broadcasts import selectors, services
from broadcasts.models import Broadcast
from operator_console.command import ConsoleCommand
from operator_console.errors import DomainError, InvalidState

from .broadcast_status import describe

# Plain (non-terminal) output prints a progress line at most this often.
PLAIN_LINE_SECONDS = 2.0


class Command(ConsoleCommand):
    help = (
        "Dispatch one approved broadcast and wait until it has been delivered, showing sent / filtered / "
        "failed as it goes. Delivery is done by the Celery workers: start them first "
        "(celery -A operator_console worker)."
    )

    def add_arguments(self, parser):
        parser.add_argument("broadcast_id", type=int, help="The broadcast's id (as in the admin).")
        parser.add_argument(
            "--now", action="store_true",
            help="Send now even if its send time is later (its quota slot moves to the current window).",
        )
        parser.add_argument("--interval", type=float, default=0.5, help="Seconds between progress reads (0.5).")
        parser.add_argument(
            "--stall-warning", type=float, default=30.0,
            help="Warn when nothing has moved for this many seconds (30): are the workers running?",
        )
        parser.add_argument(
            "--timeout", type=float, default=None,
            help="Stop waiting after this many seconds (exit status 1); the broadcast goes on.",
        )

    def handle(self, *args, broadcast_id: int, now: bool, interval: float, stall_warning: float,
               timeout: float | None, **options):
        # Checked before anything is dispatched: a bad option must not fail after the send started.
        for option, value, least in (("--interval", interval, 0.01), ("--stall-warning", stall_warning, 0.01),
                                     ("--timeout", timeout, 0)):
            if value is not None and not least <= value < math.inf:
                raise CommandError(
                    _("%(option)s takes a number of seconds from %(least)s, not %(value)s.")
                    % {"option": option, "least": f"{least:g}", "value": f"{value:g}"}
                )
        b = Broadcast.objects.select_related("account").filter(pk=broadcast_id).first()
        if b is None:
            raise CommandError(_("Broadcast #%(id)s does not exist.") % {"id": broadcast_id})
        try:
            b = services.start_sending(b, by=None, move_to_now=now)
        except InvalidState as exc:
            if exc.context.get("scheduled_later"):
                raise CommandError(
                    _("Broadcast #%(id)s “%(title)s” is scheduled for later; pass --now to send it now.")
                    % {"id": b.pk, "title": b.title}
                ) from exc
            if "status" in exc.context:  # refused by the transition table
                raise CommandError(
                    _("Broadcast #%(id)s “%(title)s” is %(status)s; only approved broadcasts can be sent.")
                    % {"id": b.pk, "title": b.title, "status": b.get_status_display().lower()}
                ) from exc
            raise CommandError(str(exc)) from exc
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        try:
            done = self.follow(b, interval=interval, stall_warning=stall_warning, timeout=timeout)
        except KeyboardInterrupt:
            self.stdout.write(
                "\n" + _("Stopped watching; the broadcast goes on. See: manage.py broadcast_status %(id)s") % {"id": b.pk}
            )
            return
        b.refresh_from_db()
        if not done:
            p = selectors.progress(b)
            raise CommandError(
                ngettext(
                    "Stopped waiting after %(timeout)s s with %(done)s of %(total)s follower done; "
                    "the broadcast goes on (manage.py broadcast_status %(id)s).",
                    "Stopped waiting after %(timeout)s s with %(done)s of %(total)s followers done; "
                    "the broadcast goes on (manage.py broadcast_status %(id)s).",
                    p["total"],
                )
                % {"timeout": f"{timeout:g}", "done": f"{p['processed']:,}", "total": f"{p['total']:,}", "id": b.pk}
            )
        for label, value in describe(b):
            self.stdout.write(f"  {label + ':':<10} {value}")
        if b.status == Broadcast.Status.FAILED:
            raise CommandError(_("Broadcast #%(id)s failed: %(reason)s") % {"id": b.pk, "reason": b.failure_reason})

    def follow(self, b: Broadcast, *, interval: float, stall_warning: float, timeout: float | None) -> bool:
        """Show progress until the broadcast ends (True) or `timeout` seconds pass (False)."""
        out = self.stdout._out  # the real stream: tqdm writes "\r" without newlines
        bar = None
        if out.isatty():
            bar = tqdm(total=max(b.total_count, 1), unit=" " + _("followers"), unit_scale=True, file=out, dynamic_ncols=True)
        started = last_moved = time.monotonic()
        last, printed_at, warned = None, 0.0, False
        try:
            while True:
                b.refresh_from_db()
                p = selectors.progress(b)
                state = (p["processed"], p["status"], p["batches_done"])
                clock = time.monotonic()
                if state != last:
                    last, last_moved, warned = state, clock, False
                    if bar is not None:
                        bar.total = max(p["total"], 1)
                        bar.n = p["processed"]
                        bar.set_postfix_str(
                            _("sent %(sent)s · filtered %(filtered)s · failed %(failed)s · %(status)s") % {
                                "status": b.get_status_display().lower(),
                                **{k: f"{p[k]:,}" for k in ("sent", "filtered", "failed")},
                            }
                        )
                    elif p["finished"] or clock - printed_at >= PLAIN_LINE_SECONDS:
                        printed_at = clock
                        self.stdout.write(
                            ngettext(
                                "%(status)s: %(done)s of %(total)s — sent %(sent)s, filtered %(filtered)s, "
                                "failed %(failed)s (%(batches_done)s/%(batch_count)s batch)",
                                "%(status)s: %(done)s of %(total)s — sent %(sent)s, filtered %(filtered)s, "
                                "failed %(failed)s (%(batches_done)s/%(batch_count)s batches)",
                                p["batch_count"],
                            )
                            % {
                                "status": b.get_status_display().lower(),
                                "done": f"{p['processed']:,}",
                                "total": f"{p['total']:,}",
                                **{k: f"{p[k]:,}" for k in ("sent", "filtered", "failed", "batches_done", "batch_count")},
                            }
                        )
                elif not warned and clock - last_moved >= stall_warning:
                    warned = True
                    seconds = {"seconds": f"{stall_warning:g}"}
                    if p["status"] == Broadcast.Status.PAUSED:
                        self.stderr.write(
                            _("Nothing has moved for %(seconds)s s: the broadcast is paused; resume it in the admin.")
                            % seconds
                        )
                    else:
                        self.stderr.write(
                            _("Nothing has moved for %(seconds)s s: are Celery workers running? Start one with: "
                              "celery -A operator_console worker") % seconds
                        )
                if p["finished"]:
                    return True
                if timeout is not None and clock - started >= timeout:
                    return False
                time.sleep(interval)
        finally:
            if bar is not None:
                bar.close()
