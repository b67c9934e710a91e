"""quota_report [--account APP_ID] [--at DATE]: quota policies in force and their use, per account."""

from __future__ import annotations

from datetime import date, datetime

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import AuditEvent, OfficialAccount
from broadcasts import selectors
from broadcasts.models import QuotaPolicy
from operator_console.admin_tools import EARLIEST_YEAR, LATEST_YEAR
from operator_console.command import ConsoleCommand
from operator_console.platform_time import format_moment, platform_zone

# Column headings for people (KIND and SCOPE cells are the stored values, as in the CSV of the admin).
HEADERS = [
    gettext_lazy("ACCOUNT"), gettext_lazy("APP ID"), gettext_lazy("KIND"), gettext_lazy("STATUS"), gettext_lazy("SCOPE"),
    gettext_lazy("RULE"), gettext_lazy("WINDOW"), gettext_lazy("USED"), gettext_lazy("NEXT WINDOW"),
]


def parse_moment(value: str) -> datetime:
    """An ISO date (midnight) or datetime; without an offset it is read in the platform zone."""
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            _("--at: “%(value)s” is not an ISO date or date-time (for example 2026-11-24 or 2026-11-24T09:30).")
            % {"value": value}
        ) from None
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        # Windows near year 9999 overflow, and nothing was broadcast before 1970.
        raise CommandError(_("--at: “%(value)s” is outside the years %(first)s–%(last)s.")
            % {"value": value, "first": EARLIEST_YEAR, "last": LATEST_YEAR})
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=platform_zone())
    return moment


def _status(account: OfficialAccount, at: datetime) -> str:
    if not account.is_suspended(at):
        return _("active")
    if account.suspended_until:
        return _("suspended until %(date)s") % {
            "date": format_moment(account.suspended_until, zone=False, date_only=True)}
    return _("suspended")


def _kind_changed_since(moment: datetime) -> set[int]:
    """Ids of the accounts whose kind changed after `moment` (accounts.services.change_account_kind's audit events).

    The events say the old and new kind only in a translated sentence, so the kind at `moment` is
    not read back from them; the report says which rows show a kind that differs from then.
    """
    events = AuditEvent.objects.filter(verb=AuditEvent.Verb.KIND_CHANGED, at__gt=moment, account__isnull=False)
    return set(events.values_list("account_id", flat=True))


def _used(row: dict) -> str:
    if row["scope"] == QuotaPolicy.Scope.ACCOUNT:
        return f"{row['used']} / {row['limit']}"
    return _("max %(used)s / %(limit)s, %(at_cap)s at cap") % {k: row[k] for k in ("used", "limit", "at_cap")}


class Command(ConsoleCommand):
    help = (
        "For each official account (or one), the quota policies in force at a moment (default now), "
        "used / limit in the current window, and when the next window opens."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account", metavar="APP_ID", help="Only this account (its app id).")
        parser.add_argument(
            "--at", metavar="DATE",
            help="ISO date or date-time in the platform time zone (default: now).",
        )

    def handle(self, *args, account=None, at=None, **options):
        moment = parse_moment(at) if at else timezone.now()
        accounts = OfficialAccount.objects.order_by("name", "id")
        if account:
            accounts = accounts.filter(app_id=account)
            if not accounts.exists():
                raise CommandError(_("No official account has the app id “%(app_id)s”.") % {"app_id": account})
        changed = _kind_changed_since(moment) if at else set()
        rows = []
        for acc in accounts.iterator():
            status = _status(acc, moment)
            kind = f"{acc.kind}*" if acc.pk in changed else acc.kind
            usage = selectors.account_quota_usage(acc, moment)
            if not usage:
                rows.append([acc.name, acc.app_id, kind, status, "-", _("no policy in force"), "-", "-", "-"])
            for row in usage:
                rows.append([
                    acc.name, acc.app_id, kind, status, row["scope"], row["rule"],
                    row["window"].label, _used(row), row["next_window_opens"],
                ])
        self.stdout.write(_("Quota report at %(at)s") % {"at": format_moment(moment)})
        if not rows:
            self.stdout.write(_("No official accounts."))
            return
        widths = [max(len(str(r[i])) for r in [HEADERS, *rows]) for i in range(len(HEADERS))]
        for r in [HEADERS, *rows]:
            self.stdout.write("  ".join(str(cell).ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
        if at:
            self.stdout.write(_("KIND is each account's kind today, and the policies are those of that kind (R1: kinds "
                                "change)."))
        if any(acc_id in changed for acc_id in accounts.values_list("pk", flat=True)):
            self.stdout.write(_("* The kind changed after %(moment)s: at that moment the account was of another kind, "
                                "with other policies (see its kind changes in the audit log).")
                              % {"moment": format_moment(moment)})
