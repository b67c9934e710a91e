"""The follower import service: `import_followers` and its `ImportResult`.

Parses the stream (parsing.py) into the writer of the connection's database
(postgres.py or sqlite.py), in one transaction with the account locked, and records
the import in the account's audit trail. The column limits come from the models here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from django.db import connection, transaction
from django.utils.translation import ngettext

from ..exceptions import ImportRowsInvalid
from ..models import AuditEvent, Follower, OfficialAccount, Tag
from ..services import record_event
from .parsing import MAX_REPORTED_PROBLEMS, Limits, Problems, RowProblem, parse_rows
from .postgres import PostgresWriter
from .sqlite import SqliteWriter
from .writing import RepeatedOpenids, StartOver, Writer

FIELD_LIMITS = Limits(
    openid=Follower._meta.get_field("openid").max_length,
    nickname=Follower._meta.get_field("nickname").max_length,
    tag=Tag._meta.get_field("name").max_length,
)


@dataclass
class ImportResult:
    """What an import did. created + updated + unchanged + skipped = lines, the file's data lines."""

    lines: int = 0  # lines after the header, blank ones excepted
    created: int = 0
    updated: int = 0
    unchanged: int = 0  # already there exactly as the file says
    skipped: int = 0
    tags_created: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return (
            ngettext("%(count)d line read", "%(count)d lines read", self.lines) % {"count": self.lines}
            + f": {self.created} created, {self.updated} updated, {self.unchanged} unchanged, {self.skipped} skipped, "
            f"{self.tags_created} tags created"
        )


def _writer_for(cursor, account: OfficialAccount, **options) -> Writer:
    if connection.vendor == "postgresql":
        return PostgresWriter(cursor, account, **options)
    if connection.vendor == "sqlite":
        return SqliteWriter(cursor, account, **options)
    raise NotImplementedError(f"import_followers supports PostgreSQL and SQLite, not {connection.vendor}.")


def _rejected(problems: Problems, name: str) -> ImportRowsInvalid:
    n = problems.count
    return ImportRowsInvalid(
        ngettext(
            "%(count)s invalid row in %(name)s; nothing was imported "
            "(fix them, or pass --skip-invalid to import the good rows).",
            "%(count)s invalid rows in %(name)s; nothing was imported "
            "(fix them, or pass --skip-invalid to import the good rows).",
            n,
        )
        % {"count": n, "name": name},
        problems=problems.first,
        problem_count=n,
    )


def _no_phase(text: str) -> None:
    pass


def import_followers(
    account: OfficialAccount,
    stream: BinaryIO,
    *,
    skip_invalid: bool = False,
    by=None,
    name: str = "the file",
    progress: Callable[[int], None] | None = None,
    on_phase: Callable[[str], None] | None = None,
    skip_row_triggers: bool | None = None,
) -> ImportResult:
    """Upsert the followers of a CSV stream into `account` in one transaction.

    With `skip_invalid` the good rows are written and the bad ones listed in the result;
    without it a single bad row means nothing is written. `progress(bytes_read)` is called
    while reading and `on_phase(text)` before each writing step. `skip_row_triggers`
    (PostgreSQL; default: when the role may) is explained in PostgresWriter (accounts.imports.postgres).
    Raises import_header_invalid, import_rows_invalid.
    """
    problems = Problems()
    phase = on_phase or _no_phase
    with transaction.atomic(), connection.cursor() as cursor:
        # One import per account at a time; a second one waits for the first to commit.
        account = OfficialAccount.objects.select_for_update().get(pk=account.pk)
        fresh = not Follower.objects.filter(account_id=account.pk).exists()
        writer = _writer_for(cursor, account, fresh=fresh, seekable=stream.seekable(),
                             skip_row_triggers=skip_row_triggers)
        start = stream.tell() if stream.seekable() else 0
        try:
            staged = writer.stage(parse_rows(stream, problems=problems, limits=FIELD_LIMITS, name=name,
                                             progress=progress))
        except StartOver:
            phase("The file repeats an openid; reading it again to name the lines")
            stream.seek(start)
            problems = Problems()
            staged = writer.stage(parse_rows(stream, problems=problems, limits=FIELD_LIMITS, name=name,
                                             progress=progress))
        if problems.count and not skip_invalid:
            problems.merge(*writer.duplicates(MAX_REPORTED_PROBLEMS))  # so the list is complete
            raise _rejected(problems, name)
        result = ImportResult()
        if staged:
            try:
                result.created, result.updated, result.tags_created = writer.write(phase)
            except RepeatedOpenids:
                repeats, repeat_count = writer.duplicates(MAX_REPORTED_PROBLEMS)
                problems.merge(repeats, repeat_count)
                if not skip_invalid:
                    raise _rejected(problems, name) from None
                writer.drop_duplicates()
                staged -= repeat_count
                result.created, result.updated, result.tags_created = writer.write(phase)
            result.unchanged = staged - result.created - result.updated
        writer.finish()
        result.lines, result.skipped, result.problems = problems.lines, problems.count, problems.first
        record_event(account, by=by, verb=AuditEvent.Verb.IMPORTED_FOLLOWERS, account=account, note=f"{name}: {result.summary}")
    return result
