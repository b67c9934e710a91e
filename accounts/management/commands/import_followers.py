import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.exceptions import DomainError
from accounts.imports import (
    HEADER,
    SUBSCRIBED,
    ImportRowsInvalid,
    RowProblem,
    import_followers,
    printable,
)
from accounts.selectors import get_account_by_app_id
from operator_console.command import ConsoleCommand

# Lines of a non-terminal progress report (a log, a pipe): one every quarter.
PLAIN_PROGRESS_STEPS = 4
# Files smaller than this finish before a plain progress line would help anyone.
PLAIN_PROGRESS_MIN_BYTES = 10_000_000


class Command(ConsoleCommand):
    help = (
        f"Import followers of an official account from a UTF-8 CSV file with the header {','.join(HEADER)}, "
        f"optionally followed by ,{SUBSCRIBED}. tags are separated by '|' and created when missing; subscribed_at "
        "is ISO-8601 (a date, or a time with or without an offset; without one it is in PLATFORM_TIME_ZONE; "
        f"empty means now). {SUBSCRIBED} is 1/0, true/false or yes/no (empty or no such column: 1). Rows are "
        "upserted by openid: a re-import adds nothing twice, updates nickname and subscribed_at, and adds tags "
        "without removing any. A 0 row unfollows a known follower at the row's time (subscribed_at is then the "
        "unfollow's time); an unknown openid with 0 is not imported (counted unchanged); a 1 row follows again a "
        "follower who had unfollowed. A follow or unfollow not newer than the newest one seen for the follower "
        "(from any source) changes nothing; each one that changes something is kept in the follower's history (FollowerEvent). Without "
        "--skip-invalid, one bad row means nothing is imported and the command fails, listing the bad lines."
    )

    def add_arguments(self, parser):
        parser.add_argument("app_id", help="the official account's app_id, e.g. wx1234567890abcdef")
        parser.add_argument("file", help="CSV file to import")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="import the good rows and list the bad ones instead of importing nothing",
        )

    def handle(self, *args, app_id, file, skip_invalid, **options):
        path = Path(file)
        try:
            account = get_account_by_app_id(app_id)
            stream = open(path, "rb")  # noqa: SIM115 - closed below, after the progress bar
        except DomainError as exc:
            raise CommandError(exc.message) from None
        except FileNotFoundError:
            raise CommandError(_("No such file: %(path)s") % {"path": path}) from None
        except IsADirectoryError:
            raise CommandError(_("%(path)s is a directory, not a CSV file.") % {"path": path}) from None
        except OSError as exc:
            raise CommandError(_("Cannot read %(path)s: %(error)s.") % {"path": path, "error": exc.strerror}) from None

        progress = _Progress(self, path)
        try:
            with stream:
                result = import_followers(
                    account,
                    stream,
                    skip_invalid=skip_invalid,
                    name=path.name,
                    progress=progress.update,
                    on_phase=progress.phase,
                )
        except ImportRowsInvalid as exc:
            progress.close()
            raise CommandError(
                "\n".join([exc.message, *_listing(exc.context["problems"], exc.context["problem_count"])])
            ) from None
        except DomainError as exc:
            progress.close()
            raise CommandError(exc.message) from None
        progress.close()

        if result.skipped:
            self.stdout.write(self.style.WARNING(
                    ngettext("Skipped %(count)s invalid row:", "Skipped %(count)s invalid rows:", result.skipped)
                    % {"count": result.skipped}
                ))
            for text in _listing(result.problems, result.skipped):
                self.stdout.write(f"  {text}")
        self.stdout.write(self.style.SUCCESS(
                _("Imported %(file)s into %(account)s (%(app_id)s): %(summary)s.")
                % {"file": path.name, "account": account.name, "app_id": account.app_id, "summary": result.summary}
            ))


def _listing(problems: list[RowProblem], total: int) -> list[str]:
    lines = [printable(str(p)) for p in problems]
    if total > len(problems):
        lines.append(_("… and %(count)s more") % {"count": total - len(problems)})
    return lines


class _Progress:
    """A tqdm bar on stderr when it is a terminal; otherwise a few plain lines for big files."""

    def __init__(self, command: BaseCommand, path: Path):
        self.stderr = command.stderr
        self.total = path.stat().st_size
        self.bar = None
        self.next_plain = None
        self.tty = sys.stderr.isatty() and command.stderr._out is sys.stderr
        if self.tty:
            from tqdm import tqdm

            # tqdm writes to the terminal itself, not through the command's clean output.
            self.bar = tqdm(
                total=self.total, unit="B", unit_scale=True, unit_divisor=1024, desc=_("Reading %(file)s") % {"file": printable(path.name)},
                file=sys.stderr, leave=False,
            )
        elif self.total >= PLAIN_PROGRESS_MIN_BYTES:
            self.next_plain = 1

    def update(self, done: int) -> None:
        if self.bar is not None:
            self.bar.update(done - self.bar.n)
        elif self.next_plain is not None and done * PLAIN_PROGRESS_STEPS >= self.next_plain * self.total:
            if done < self.total:
                self.stderr.write(_("read %(percent)s%% of the file") % {"percent": done * 100 // self.total})
            self.next_plain = done * PLAIN_PROGRESS_STEPS // self.total + 1

    def phase(self, text: str) -> None:
        self.close()
        if self.tty or self.next_plain is not None:
            self.stderr.write(f"{text}…", style_func=str)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
