"""Import followers from a CSV file: a streaming parse and a set-based write.

The file is UTF-8 with the header ``openid,nickname,tags,subscribed_at``, optionally
followed by ``,subscribed``; ``tags`` are separated by ``|``; ``subscribed_at`` is ISO-8601
(a date, or a time with or without an offset; a time without one is in
``settings.PLATFORM_TIME_ZONE``; empty means now); ``subscribed`` is 1/0, true/false or
yes/no, case-insensitive (empty, or no such column: 1). Rows are upserted by openid:

* a row is a follow (``subscribed`` 1) or an unfollow (0) at its time: ``subscribed_at`` is
  when the follow began, or when the unfollow happened. The following state changes by the
  rule of the platform's events (accounts.services.apply_follower_events): only when the
  row differs from the follower's state and is newer than the newest event seen for the
  follower (from any source, Follower.last_event_at); each change
  is kept in the follower's history (FollowerEvent), as the new followers' follows are
  (details: writing.py, "Following state");
* a new openid that follows becomes a follower; one that does not is not imported
  (counted unchanged: the console has no such follower, as the file says);
* a known openid gets the file's nickname (an empty one keeps the known nickname, whatever
  the row's ``subscribed``: a file without nicknames never blanks them); a follower who
  follows and stays following takes the file's subscribed_at (an empty one keeps the time
  already known); a 1 row follows again a follower who had unfollowed, a 0 row unfollows
  one who followed;
* tags are created when missing and *added* to the follower; an import never removes a
  tag (ops may have tagged followers in the console);
* an openid that appears twice in one file is a bad row (the later line), since either
  line could be the one that is wrong;
* one line is one row: a quote left open is a bad row naming the lines it swallowed, and
  every line after the header (blank ones between rows excepted) ends up created, updated,
  unchanged or skipped, so the counts add up to the file's lines;
* openids, nicknames and tag names follow the console's text hygiene rule
  (operator_console.text); a UTC offset outside -12:00 to +14:00 is a bad row.

Memory stays constant: rows are validated one at a time and streamed to the database
(PostgreSQL ``COPY``, straight into the followers table on a first import, into a
staging table otherwise; chunked inserts on SQLite), then a handful of set-based
statements write followers, tags and tag links — all in one transaction, so a failed
import leaves nothing behind. Only the first ``MAX_REPORTED_PROBLEMS`` bad rows are
kept, with a count of the rest. The service is `import_followers`; the command of the
same name only parses arguments, shows progress and prints.

Modules: ``parsing`` (the row parser and the bad-row bookkeeping, pure Python),
``writing`` (what the writers share), ``postgres`` and ``sqlite`` (the writers),
``service`` (`import_followers`). Callers import from this package.
"""

from ..exceptions import AccountNotFound, ImportHeaderInvalid, ImportRowsInvalid
from ..selectors import get_account_by_app_id
from .jobs import import_progress, run_follower_import, start_follower_import
from .parsing import (
    HEADER,
    MAX_REPORTED_PROBLEMS,
    SUBSCRIBED,
    TAG_SEPARATOR,
    Limits,
    RowProblem,
    parse_rows,
    printable,
)
from .postgres import can_skip_row_triggers
from .service import FIELD_LIMITS, ImportResult, import_followers

__all__ = [
    "FIELD_LIMITS",
    "HEADER",
    "MAX_REPORTED_PROBLEMS",
    "TAG_SEPARATOR",
    "AccountNotFound",
    "ImportHeaderInvalid",
    "ImportResult",
    "ImportRowsInvalid",
    "Limits",
    "RowProblem",
    "SUBSCRIBED",
    "can_skip_row_triggers",
    "get_account_by_app_id",
    "import_followers",
    "import_progress",
    "parse_rows",
    "printable",
    "run_follower_import",
    "start_follower_import",
]
