"""How the broadcasts admin words and draws a broadcast: short labels, the status badge, the
progress bar, send times, findings and the reviewer's quota line.

Times go through operator_console.platform_time.format_moment (the platform's zone, one format);
the quota and progress numbers come from broadcasts.selectors.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from operator_console.platform_time import format_moment, in_platform_zone

from .. import lifecycle, selectors
from ..models import Broadcast


def send_time_text(b: Broadcast) -> str:
    """ "2026-11-24 09:30 (Asia/Shanghai)", or when it goes out without a send time."""
    if b.scheduled_at is None:
        return _("now (as soon as approved)")
    return format_moment(b.scheduled_at)


def send_time_column(b: Broadcast) -> str:
    """The send time in a list (the list's title names the zone)."""
    return format_moment(b.scheduled_at, zone=False) or _("on approval")


def when_sent_text(b: Broadcast) -> str:
    """When an approved broadcast goes out: "within a minute" or "at 2026-11-24 09:30 (Asia/Shanghai)"."""
    if b.scheduled_at is None or b.scheduled_at <= timezone.now():
        return _("within a minute")
    return _("at %(moment)s") % {"moment": format_moment(b.scheduled_at)}


def clock_text(moment) -> str:
    """The hh:mm a phone shows for `moment`, on the platform's clock (the preview's status bar)."""
    return in_platform_zone(moment).strftime("%H:%M")


def progress_bar(b: Broadcast, *, compact: bool = False):
    """Sent / filtered / failed of total as a stacked bar and counters (`compact`: narrow list column)."""
    stopped_mid_send = b.status == Broadcast.Status.CANCELLED and b.total_count
    if b.status not in lifecycle.DELIVERY_STATUSES and not stopped_mid_send:
        return "—"
    p = selectors.progress(b)
    total, done = p["total"] or 0, p["processed"]
    if not total:
        words = _("no recipients") if p["finished"] else _("no recipients yet")
        return format_html('<span class="bc-muted">{}</span>', words)

    def pct(n):
        return f"{min(100.0, 100.0 * n / total):.2f}"

    bar = format_html(
        '<div class="bc-progress" role="progressbar" aria-valuenow="{}" aria-valuemax="{}" title="{}">'
        '<span class="bc-sent" style="width:{}%"></span>'
        '<span class="bc-filtered" style="width:{}%"></span>'
        '<span class="bc-failed" style="width:{}%"></span></div>',
        done, total, _("%(done)s of %(total)s done") % {"done": done, "total": total},
        pct(p["sent"]), pct(p["filtered"]), pct(p["failed"]),
    )
    counts = {"sent": p["sent"], "filtered": p["filtered"], "failed": p["failed"], "total": total,
              "percent": int(100 * done / total)}
    if compact:  # one counter a line: fits the list's narrow column
        return format_html(
            '{}<div class="bc-counts bc-compact">{}</div>',
            bar,
            format_html(
                _("sent {sent}<br>filtered {filtered}<br>failed {failed}<br>of {total} · {percent}%"), **counts
            ),
        )
    return format_html(
        '{}<div class="bc-counts">{}</div>',
        bar,
        _("sent %(sent)s · filtered %(filtered)s · failed %(failed)s of %(total)s (%(percent)s%%)") % counts,
    )


def short_kind(account) -> str:
    return _("Service") if account.is_service else _("Subscription")


def short_channel(b: Broadcast) -> str:
    return _("API") if b.channel == Broadcast.Channel.API else _("Console")


def short_audience(b: Broadcast) -> str:
    if b.audience == Broadcast.Audience.TAG:
        return _("Tag “%(name)s”") % {"name": b.tag} if b.tag_id else _("Tag")
    if b.audience == Broadcast.Audience.FOLLOWERS:
        return _("Follower list")
    return _("All")


def status_badge(b: Broadcast):
    return format_html('<span class="bc-status bc-status-{}">{}</span>', b.status, b.get_status_display())


def finding_text(f) -> str:
    """One moderation finding for people: the rule, what matched, and the excerpt."""
    if not isinstance(f, dict):
        return str(f)
    text = f.get("note") or f.get("pattern") or _("rule %(rule)s") % {"rule": f.get("rule")}
    if f.get("match"):
        text += f" ({f['match']})"
    if f.get("excerpt"):
        text += f": “{f['excerpt']}”"
    return text


def quota_position_text(b: Broadcast) -> str:
    """Where this broadcast stands in its account's quota window, as one sentence for the reviewer."""
    position = selectors.quota_position(b)
    text = position["text"]
    if not position["counts"]:
        text += " (R3a)"
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def push_summary(b: Broadcast):
    """An API broadcast's job-finished pushes: the count, the latest outcome and answer, and the list's link."""
    count, last = selectors.push_attempts(b)
    if last is None:
        if not b.account.server_url:
            return _("None: the account has no server URL.")
        return _("None yet: the event is pushed when the broadcast finishes.")
    answer = _("HTTP %(code)s") % {"code": last.status_code} if last.status_code else last.error[:80]
    url = reverse("admin:broadcasts_pushattempt_changelist") + f"?broadcast_id={b.pk}"
    return format_html(
        '{} · {} ({}) · <a href="{}">{}</a>',
        ngettext("%(count)d attempt", "%(count)d attempts", count) % {"count": count},
        last.get_outcome_display(), answer, url, _("see every attempt"),
    )
