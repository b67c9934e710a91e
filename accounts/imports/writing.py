"""What the two database writers share: their protocol and the order of a write.

A writer works in the caller's transaction: `stage` takes the parsed rows in,
`duplicates` names later lines that repeat an openid (`drop_duplicates` drops them),
`write` creates tags, writes followers and links tags, and `finish` tidies up. The
statements of each dialect are in postgres.py and sqlite.py.

Following state — the rule of accounts.services.apply_follower_events (README, "Platform
events intake") for a file, where a follower has at most one row (a repeat is a bad row):
a row is an event at its time (empty: the import's moment), a follow when `subscribed` is
1, an unfollow when 0. It changes the follower's state only when it differs from it *and*
is newer than the newest event seen for the follower (`last_event_at`, whatever source
brought it, a repeat that changed nothing included; before any was recorded, the moment
the state began: `subscribed_at` when following, `unsubscribed_at` otherwise); such a
change sets `subscribed` and `subscribed_at` (a follow) or `unsubscribed_at` (an
unfollow) and is kept as a FollowerEvent. Every row of a named follower raises
`last_event_at` to its time when newer (not counted as an update by itself); a new
follower starts with its row's time. A new openid
that follows is a new follower with its follow kept; a new openid that does not follow
writes nothing (counted unchanged: the console already has no such follower). Beyond the
rule, as before: a follower who follows and stays following takes the file's time (an
empty one keeps the known time), and every named follower takes the file's nickname (an
empty one keeps the known nickname, on every row; the direct path of a first import meets
no known follower, so it has none to keep).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.utils.translation import gettext as _

from ..models import OfficialAccount
from .parsing import RowProblem


class RepeatedOpenids(Exception):
    """The staged rows name an openid twice."""


class StartOver(Exception):
    """The direct path met a repeated openid: read the file again, through the staging table."""


def repeat_problems(rows: Iterable[tuple]) -> list[RowProblem]:
    """RowProblems from (line, openid, first line, …) rows."""
    return [
        RowProblem(line, _("openid '%(openid)s' repeats line %(first)s") % {"openid": openid, "first": first})
        for line, openid, first, *_rest in rows
    ]


class Writer:
    """The steps of an import's write; a subclass gives each one its SQL."""

    def __init__(self, cursor, account: OfficialAccount):
        self.cursor = cursor
        self.account_id = account.pk

    def stage(self, rows) -> int:
        """Take the valid rows in; returns how many."""
        raise NotImplementedError

    def duplicates(self, keep: int) -> tuple[list[RowProblem], int]:
        """Later lines repeating an openid of an earlier line: the first `keep`, and how many."""
        raise NotImplementedError

    def drop_duplicates(self) -> None:
        """Forget the staged rows that repeat an earlier line's openid."""
        raise NotImplementedError

    def write(self, phase: Callable[[str], None]) -> tuple[int, int, int]:
        """(created, updated, tags created). Raises RepeatedOpenids."""
        if self._has_repeats():
            raise RepeatedOpenids
        phase("Writing tags")
        tags_created = self._create_tags()
        created, updated = self._write_followers(phase)
        phase("Linking tags")
        self._link_tags()
        self._drop_staging()
        return created, updated, tags_created

    def finish(self) -> None:
        """Undo what the writer set for its own statements; the transaction goes on."""

    # -- the steps of `write`

    def _has_repeats(self) -> bool:
        raise NotImplementedError

    def _create_tags(self) -> int:
        """Create the staged tags the account lacks; returns how many."""
        raise NotImplementedError

    def _write_followers(self, phase: Callable[[str], None]) -> tuple[int, int]:
        """(created, updated)."""
        raise NotImplementedError

    def _link_tags(self) -> None:
        raise NotImplementedError

    def _drop_staging(self) -> None:
        """Drop staging tables that would outlive the transaction."""
