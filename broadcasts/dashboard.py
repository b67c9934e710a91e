"""Reads for the ops dashboard (the admin index) and the over-marketing charts (R8).

Every figure is one indexed query over small tables (broadcasts, reservations, violations,
certifications, the stored unfollow measures and pre-aggregated follower days): the page never
scans deliveries, followers or the follower history.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, F, Min, Sum
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from accounts.models import Certification, OfficialAccount
from operator_console.platform_time import in_platform_zone

from .models import Broadcast, FollowerDay, QuotaReservation, UnfollowFlag, UnfollowMeasure, Violation

# An account is "near" the penalty threshold (R7) from this share of BROADCAST_PENALTY_POINTS.
NEAR_PENALTY_SHARE = 2 / 3
EXPIRING_WITHIN = timedelta(days=30)
# Rows listed under a count; the count links to the whole filtered list.
LISTED = 5
# The usual curve: the mean of the account's last measured broadcasts (the one shown excluded).
USUAL_CURVE_BROADCASTS = 10


def start_of_platform_day(now: datetime) -> datetime:
    return in_platform_zone(now).replace(hour=0, minute=0, second=0, microsecond=0)


def review_waiting(now: datetime) -> dict:
    pending = Broadcast.objects.filter(status=Broadcast.Status.PENDING_REVIEW)
    oldest = pending.aggregate(oldest=Min("submitted_at"))["oldest"]
    return {"count": pending.count(), "oldest": oldest, "oldest_wait": now - oldest if oldest else None}


def sending_now() -> list[Broadcast]:
    """Broadcasts sending or paused, with their progress (processed / total, as a percentage)."""
    rows = list(Broadcast.objects.filter(status__in=[Broadcast.Status.SENDING, Broadcast.Status.PAUSED])
                .select_related("account").order_by("started_at", "id")[:20])
    for b in rows:
        processed = b.sent_count + b.filtered_count + b.error_count
        b.progress_percent = min(100, round(100 * processed / b.total_count)) if b.total_count else 0
        b.processed = processed
    return rows


def failed_today(now: datetime) -> dict:
    since = start_of_platform_day(now)
    rows = Broadcast.objects.filter(
        status__in=[Broadcast.Status.FAILED, Broadcast.Status.PARTIALLY_SENT], finished_at__gte=since
    )
    return {"since": since, "count": rows.count(),
            "rows": list(rows.select_related("account").order_by("-finished_at")[:LISTED])}


def flagged_accounts() -> dict:
    """Open flags, highest rate first, each with its figures as percentages and its worst broadcast's own rate."""
    flags = UnfollowFlag.objects.filter(cleared_at__isnull=True)
    rows = list(flags.select_related("account", "worst_broadcast__unfollows").order_by("-rate_72h", "-raised_at")[:LISTED])
    for flag in rows:
        flag.rate_percent = f"{flag.rate_72h:.2%}"
        flag.threshold_percent = f"{flag.threshold:.2%}"
        measure = getattr(flag.worst_broadcast, "unfollows", None) if flag.worst_broadcast else None
        flag.worst_percent = f"{measure.rate_72h:.2%}" if measure else ""
    return {"count": flags.count(), "rows": rows}


def flag_reason(flag: UnfollowFlag) -> str:
    """Why the account is flagged, in the reader's language, from the flag's figures (its stored `reason`
    is the audit's English record of the same)."""
    # "x of y sent" keeps the unfollow count free of a noun to agree with ("1 unfollows" read wrong).
    text = ngettext(
        "72 h unfollow rate %(rate)s (%(unfollows)s of %(sent)s sent) over the last broadcast, "
        "above the threshold of %(threshold)s.",
        "72 h unfollow rate %(rate)s (%(unfollows)s of %(sent)s sent) over the last %(n)s broadcasts, "
        "above the threshold of %(threshold)s.",
        flag.broadcasts_counted,
    ) % {"unfollows": f"{flag.unfollows_72h:,}", "sent": f"{flag.sent:,}", "n": flag.broadcasts_counted,
         "rate": f"{flag.rate_72h:.2%}", "threshold": f"{flag.threshold:.2%}"}
    worst = flag.worst_broadcast
    measure = getattr(worst, "unfollows", None) if worst else None
    if measure is not None:
        text += " " + gettext("Highest: #%(id)s “%(title)s” at %(rate)s.") % {
            "id": worst.pk, "title": worst.title, "rate": f"{measure.rate_72h:.2%}"}
    return text


def penalty_pressure(now: datetime) -> dict:
    """Accounts whose violation points in the penalty window (R7) are near or past the threshold."""
    threshold = settings.BROADCAST_PENALTY_POINTS
    since = now - timedelta(days=settings.BROADCAST_PENALTY_WINDOW_DAYS)
    rows = list(
        Violation.objects.filter(created_at__gt=since, voided_at__isnull=True)
        .values("account_id", "account__name").annotate(points=Sum("points"))
        .filter(points__gte=threshold * NEAR_PENALTY_SHARE).order_by("-points", "account_id")
    )
    for row in rows:
        row["is_past"] = row["points"] >= threshold
    return {"threshold": threshold, "count": len(rows), "rows": rows[:LISTED], "ids": [r["account_id"] for r in rows]}


def quota_pressure(now: datetime) -> dict:
    """Accounts that have used every account-quota slot (R2, R3) of the window they are in now."""
    rows = list(
        QuotaReservation.objects.filter(window_start__lte=now, window_end__gt=now)
        .values("account_id", "account__name", "policy_id", "policy__limit", "window_end")
        .annotate(used=Count("id")).filter(used__gte=F("policy__limit")).order_by("window_end", "account_id")
    )
    return {"count": len(rows), "rows": rows[:LISTED], "ids": [r["account_id"] for r in rows]}


def certifications(now: datetime) -> dict:
    valid = Certification.objects.filter(status=Certification.Status.APPROVED)
    expiring = valid.filter(valid_until__gte=now, valid_until__lt=now + EXPIRING_WITHIN)
    return {
        "pending": Certification.objects.filter(status=Certification.Status.PENDING).count(),
        "expiring": expiring.count(),
        "until": now + EXPIRING_WITHIN,
        "rows": list(expiring.select_related("account").order_by("valid_until")[:LISTED]),
    }


# --- charts ---------------------------------------------------------------------------------------


def account_chart(account: OfficialAccount, *, days: int, now: datetime | None = None) -> dict:
    """Follows and unfollows per platform day, broadcasts per ISO week and each broadcast's send day and
    72 h rate, over the last `days` days: plain lists for the chart's JavaScript."""
    now = now or timezone.now()
    first_day = in_platform_zone(now).date() - timedelta(days=days - 1)
    counts = dict(
        ((d.isoformat(), (g, lo)) for d, g, lo in
         FollowerDay.objects.filter(account=account, day__gte=first_day).values_list("day", "gained", "lost"))
    )
    day_list = [(first_day + timedelta(days=i)).isoformat() for i in range(days)]
    since = start_of_platform_day(now) - timedelta(days=days - 1)
    sent = (Broadcast.objects.filter(account=account, started_at__gte=since, sent_count__gt=0)
            .select_related("unfollows").order_by("started_at"))
    # Every ISO week of the window, a week without broadcasts a 0 (not a gap the line would bridge), each
    # counted on its Monday or, for the week the window starts in, on the window's first day.
    def week_point(day):
        return max(day - timedelta(days=day.weekday()), first_day).isoformat()

    weeks: dict[str, int] = {week_point(first_day + timedelta(days=i)): 0 for i in range(days)}
    marks = []
    for b in sent:
        day = in_platform_zone(b.started_at).date()
        weeks[week_point(day)] += 1
        measure = getattr(b, "unfollows", None)
        marks.append({"day": day.isoformat(), "id": b.pk, "title": b.title,
                      "rate": float(measure.rate_72h) if measure else None,
                      "rate_percent": f"{measure.rate_72h:.2%}" if measure else ""})
    return {
        "days": day_list,
        "gained": [counts.get(d, (0, 0))[0] for d in day_list],
        "lost": [counts.get(d, (0, 0))[1] for d in day_list],
        "weeks": [{"week": w, "count": n} for w, n in sorted(weeks.items())],
        "broadcasts": marks,
    }


def cumulative_rates(measure: UnfollowMeasure) -> list[float]:
    """The share of recipients who had unfollowed by the end of each hour after delivery."""
    total, out = 0, []
    for n in measure.curve:
        total += n
        out.append(total / measure.sent if measure.sent else 0.0)
    return out


def unfollow_curve(broadcast: Broadcast) -> dict | None:
    """The broadcast's cumulative 72 h unfollow rate per hour beside the account's usual one (the mean
    of its last USUAL_CURVE_BROADCASTS other broadcasts measured over their whole 72 h); None before it
    is measured."""
    measure = UnfollowMeasure.objects.filter(broadcast=broadcast).first()
    if measure is None:
        return None
    # Final measures only: one still inside its 72 h has a curve only up to the hour it was measured,
    # and its flat rest would pull the mean down.
    others = list(UnfollowMeasure.objects.filter(account_id=broadcast.account_id, sent__gt=0, is_final=True)
                  .exclude(broadcast=broadcast).order_by("-broadcast_id")[:USUAL_CURVE_BROADCASTS])
    own = cumulative_rates(measure)
    usual = None
    if others:
        curves = [cumulative_rates(m) for m in others]
        usual = [sum(c[h] for c in curves) / len(curves) for h in range(len(own))]
    return {"hours": list(range(1, len(own) + 1)), "own": own, "usual": usual, "measure": measure,
            "usual_count": len(others)}

