"""Every raw SQL statement of the delivery hot path, both dialects side by side.

Statements take named parameters (`%(name)s`) and status values as parameters, never as
literals. Each function returns a `Statement` to run with `run()`, `fetch_one()` or
`fetch_all()`. PostgreSQL does a whole batch in one statement (data-modifying CTEs);
SQLite, the first-run default, gets the same effect from a few statements (json_each
instead of arrays, no data-modifying CTEs). Why the statements look the way they do is
in the README ("Delivery engine").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection

from accounts.models import Follower

from .models import Broadcast, Delivery, DeliveryBatch, FollowerQuotaUsage, InboxMessage

FOLLOWER = Follower._meta.db_table
TAG_LINK = Follower.tags.through._meta.db_table
RECIPIENT_LINK = Broadcast.recipients.through._meta.db_table
BROADCAST = Broadcast._meta.db_table
BATCH = DeliveryBatch._meta.db_table
DELIVERY = Delivery._meta.db_table
USAGE = FollowerQuotaUsage._meta.db_table
INBOX = InboxMessage._meta.db_table

BatchStatus = DeliveryBatch.Status
DeliveryStatus = Delivery.Status


@dataclass(frozen=True)
class Statement:
    sql: str
    params: dict = field(default_factory=dict)


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def db_moment(moment: datetime):
    """A datetime as a raw-SQL parameter (SQLite stores naive UTC text)."""
    return connection.ops.adapt_datetimefield_value(moment)


def db_date(day: date):
    return connection.ops.adapt_datefield_value(day)


def run(statement: Statement) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, statement.params)


def fetch_one(statement: Statement) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        return cursor.fetchone()


def fetch_all(statement: Statement) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        return cursor.fetchall()


def _id_table(ids) -> tuple[str, object]:
    """`SELECT … AS id` over a list of ids passed as one parameter `%(ids)s`: an array on
    PostgreSQL, JSON on SQLite (10,000 ids are one parameter, not 10,000)."""
    if is_postgresql():
        return "SELECT unnest(%(ids)s::bigint[]) AS id", list(ids)
    return "SELECT value AS id FROM json_each(%(ids)s)", json.dumps(list(ids))


# --- a follower-list broadcast's recipients (up to 10,000; the API's hot path) ----------------


def insert_recipients(broadcast_id: int, follower_ids: list[int]) -> Statement:
    """The broadcast's recipient rows, in one INSERT … SELECT (either dialect)."""
    ids_sql, ids = _id_table(follower_ids)
    return Statement(
        f"INSERT INTO {RECIPIENT_LINK} (broadcast_id, follower_id) "
        f"SELECT %(broadcast_id)s, ids.id FROM ({ids_sql}) AS ids",
        {"broadcast_id": broadcast_id, "ids": ids},
    )


def count_followers_among(account_id: int, follower_ids: list[int]) -> Statement:
    """How many of these follower ids are the account's followers (either dialect)."""
    ids_sql, ids = _id_table(follower_ids)
    return Statement(
        f"SELECT count(*) FROM {FOLLOWER} f WHERE f.account_id = %(account_id)s AND f.id IN ({ids_sql})",
        {"account_id": account_id, "ids": ids},
    )


# --- the audience -----------------------------------------------------------------------


def audience(b: Broadcast, *, recipient_ids: list[int] | None = None) -> Statement:
    """`SELECT f.id FROM …` of the broadcast's audience now: the subscribed followers of its
    account, of its tag, or of its list. The one definition of a broadcast's audience: the
    dispatcher cuts batches from it, each batch re-reads it, the review page counts it, and the
    add form counts an unsaved draft's with `recipient_ids` (its list, not yet stored).

    Relies on follower_audience_idx (account_id, id) WHERE subscribed for the keyset.
    """
    params = {"account_id": b.account_id}
    if b.audience == Broadcast.Audience.TAG:
        sql = (f"SELECT f.id FROM {FOLLOWER} f JOIN {TAG_LINK} t ON t.follower_id = f.id "
               "WHERE t.tag_id = %(tag_id)s AND f.account_id = %(account_id)s AND f.subscribed")
        params["tag_id"] = b.tag_id
    elif b.audience == Broadcast.Audience.FOLLOWERS and recipient_ids is not None:
        ids_sql, params["ids"] = _id_table(recipient_ids)
        sql = (f"SELECT f.id FROM {FOLLOWER} f "
               f"WHERE f.id IN ({ids_sql}) AND f.account_id = %(account_id)s AND f.subscribed")
    elif b.audience == Broadcast.Audience.FOLLOWERS:
        sql = (f"SELECT f.id FROM {FOLLOWER} f JOIN {RECIPIENT_LINK} r ON r.follower_id = f.id "
               "WHERE r.broadcast_id = %(broadcast_id)s AND f.account_id = %(account_id)s AND f.subscribed")
        params["broadcast_id"] = b.pk
    else:
        sql = f"SELECT f.id FROM {FOLLOWER} f WHERE f.account_id = %(account_id)s AND f.subscribed"
    return Statement(sql, params)


def audience_count(b: Broadcast, *, recipient_ids: list[int] | None = None) -> Statement:
    aud = audience(b, recipient_ids=recipient_ids)
    return Statement(f"SELECT count(*) FROM ({aud.sql}) a", aud.params)


def batch_audience(b: Broadcast, batch: DeliveryBatch) -> Statement:
    """The batch's slice of the audience now, in follower-id order."""
    aud = audience(b)
    return Statement(
        f"{aud.sql} AND f.id BETWEEN %(first_id)s AND %(last_id)s ORDER BY f.id",
        {**aud.params, "first_id": batch.first_follower_id, "last_id": batch.last_follower_id},
    )


# --- dispatch --------------------------------------------------------------------------


def create_batches(b: Broadcast, *, now: datetime, batch_size: int) -> Statement:
    """Cut the audience into batches of `batch_size` consecutive follower ids in one
    INSERT … SELECT (row_number over the id-ordered audience). Returns (id, size) rows."""
    aud = audience(b)
    return Statement(
        f"INSERT INTO {BATCH} (broadcast_id, number, first_follower_id, last_follower_id, size, status, "
        "attempts, heartbeat, claim, sent_count, filtered_count, error_count, last_error) "
        "SELECT %(broadcast_id)s, grp + 1, MIN(id), MAX(id), COUNT(*), %(pending)s, 0, %(now)s, '', 0, 0, 0, '' "
        f"FROM (SELECT a.id, (ROW_NUMBER() OVER (ORDER BY a.id) - 1) / %(batch_size)s AS grp FROM ({aud.sql}) a) n "
        "GROUP BY grp RETURNING id, size",
        {**aud.params, "broadcast_id": b.pk, "pending": BatchStatus.PENDING, "now": db_moment(now),
         "batch_size": batch_size},
    )


# --- a batch's start -------------------------------------------------------------------

# The heartbeat, committed before the work (requeue_stale_batches tells a started batch whose
# worker died from one still waiting in the queue). Not for a done batch, nor for a pending one
# of a paused broadcast, nor for a `sending` batch whose hand-off another attempt holds with a
# fresh heartbeat (a duplicate task must not post it again). A `sending` batch with no claim, or
# a stale one, is claimed here by `claim` in the same statement. On PostgreSQL the joined
# set_config() relaxes the commit of its own transaction (see relax_commit).
_RELAX_JOIN = ", (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed"


def heartbeat(batch_id: int, *, now: datetime, claim: str, stale_before: datetime) -> Statement:
    """Record that a worker starts the batch (claiming a `sending` one); returns its attempts and
    claim, or no row when the batch is done, waits for a paused broadcast, or is handed off by a
    live attempt."""
    return Statement(
        f"UPDATE {BATCH} AS bt SET heartbeat = %(now)s, attempts = bt.attempts + 1, "
        "claim = CASE WHEN bt.status = %(sending)s THEN %(claim)s ELSE bt.claim END "
        f"FROM {BROADCAST} AS b{_RELAX_JOIN if is_postgresql() else ''} "
        "WHERE bt.id = %(batch_id)s AND b.id = bt.broadcast_id AND bt.status <> %(done)s "
        "AND NOT (bt.status = %(pending)s AND b.status = %(paused)s) "
        "AND NOT (bt.status = %(sending)s AND bt.claim <> '' AND bt.heartbeat >= %(stale_before)s) "
        "RETURNING attempts, claim",  # unqualified: SQLite does not take an alias here
        {"now": db_moment(now), "batch_id": batch_id, "done": BatchStatus.DONE, "pending": BatchStatus.PENDING,
         "paused": Broadcast.Status.PAUSED, "sending": BatchStatus.SENDING, "claim": claim,
         "stale_before": db_moment(stale_before)},
    )


BATCH_HEAD_FIELDS = ("status", "number", "first_follower_id", "last_follower_id", "size", "broadcast_id")


def lock_batch_head(batch_id: int) -> Statement:
    """PostgreSQL: lock the batch row (skipping one another worker holds), read its broadcast's
    status, and relax the commit, in one round trip. Columns: relaxed, broadcast status,
    then BATCH_HEAD_FIELDS."""
    columns = ", ".join(f"bt.{name}" for name in BATCH_HEAD_FIELDS)
    return Statement(
        f"SELECT set_config('synchronous_commit', 'off', true), b.status, {columns} "
        f"FROM {BATCH} bt JOIN {BROADCAST} b ON b.id = bt.broadcast_id "
        "WHERE bt.id = %(batch_id)s FOR UPDATE OF bt SKIP LOCKED",
        {"batch_id": batch_id},
    )


def relax_commit() -> Statement | None:
    """Don't wait for the WAL flush at commit (PostgreSQL). Safe for a batch: it commits whole,
    so if the database crashes before the commit reaches disk the batch is pending again and
    requeue_stale_batches delivers it."""
    return Statement("SET LOCAL synchronous_commit TO OFF") if is_postgresql() else None


# --- a batch's deliveries: R5 and the Delivery rows ---------------------------------------


@dataclass(frozen=True)
class Cap:
    """R5 for one broadcast: the follower-scope policy's window and limit at the send time."""

    window_start: date
    limit: int


def _deliveries_ctes(b: Broadcast, batch: DeliveryBatch, cap: Cap | None, now: datetime) -> tuple[list[str], dict, str]:
    """The CTEs `aud`, `sent` (and with a cap `cap`, `filtered`) and the filtered-count expression."""
    aud = batch_audience(b, batch)
    columns = f"INSERT INTO {DELIVERY} (broadcast_id, follower_id, status, error, delivered_at)"
    params = {**aud.params, "broadcast_id": b.pk, "now": now, "sent": DeliveryStatus.SENT}
    # Counters are bumped in follower-id order, so concurrent broadcasts of one account never deadlock.
    ctes = [f"aud AS MATERIALIZED ({aud.sql})"]
    if cap is None:
        ctes.append(f"sent AS ({columns} SELECT %(broadcast_id)s, id, %(sent)s, '', %(now)s FROM aud "
                    "RETURNING follower_id)")
        return ctes, params, "0"
    # R5: the upsert returns the followers whose monthly counter it could bump (inserted at 1, or
    # still below the limit): they get `sent` rows, the others of the batch `filtered` rows. No ON
    # CONFLICT on the delivery rows: the batch lock makes the batch run once, the unique constraint
    # is the backstop (it aborts the batch rather than skip a row), and plain inserts are cheaper.
    ctes += [
        f"cap AS (INSERT INTO {USAGE} AS u (follower_id, window_start, count) "
        "SELECT id, %(window_start)s, 1 FROM aud "
        "ON CONFLICT (follower_id, window_start) DO UPDATE SET count = u.count + 1 WHERE u.count < %(limit)s "
        "RETURNING u.follower_id)",
        f"sent AS ({columns} SELECT %(broadcast_id)s, follower_id, %(sent)s, '', %(now)s FROM cap "
        "RETURNING follower_id)",
        f"filtered AS ({columns} SELECT %(broadcast_id)s, a.id, %(filtered)s, '', %(now)s FROM aud a "
        "WHERE NOT EXISTS (SELECT 1 FROM cap c WHERE c.follower_id = a.id) RETURNING 1)",
    ]
    params.update(window_start=cap.window_start, limit=cap.limit, filtered=DeliveryStatus.FILTERED)
    return ctes, params, "(SELECT count(*) FROM filtered)"


def record_deliveries(b: Broadcast, batch: DeliveryBatch, cap: Cap | None, *, now: datetime) -> Statement:
    """PostgreSQL: R5 and the batch's Delivery rows in one statement. One row: (sent follower
    ids, sent, filtered, processed)."""
    ctes, params, filtered = _deliveries_ctes(b, batch, cap, now)
    return Statement(
        f"WITH {', '.join(ctes)} SELECT (SELECT array_agg(follower_id ORDER BY follower_id) FROM sent), "
        f"(SELECT count(*) FROM sent), {filtered}, (SELECT count(*) FROM aud)",
        params,
    )


def deliver_whole_batch(b: Broadcast, batch: DeliveryBatch, cap: Cap | None, *, now: datetime,
                        backend_rows: Statement) -> Statement:
    """PostgreSQL, transactional backends: the whole batch in ONE statement: R5, the Delivery
    rows, the backend's own rows (`backend_rows` reads the CTE `sent`), the batch marked done
    and its totals added to the broadcast (the broadcast row is locked from here to the commit
    that follows at once). One row: (sent, filtered, processed, batches_done, batch_count)."""
    ctes, params, filtered = _deliveries_ctes(b, batch, cap, now)
    ctes += [
        f"backend_rows AS ({backend_rows.sql})",
        f"counts AS (SELECT (SELECT count(*) FROM sent) AS sent, {filtered} AS filtered, "
        "(SELECT count(*) FROM aud) AS processed)",
        f"done AS (UPDATE {BATCH} SET status = %(done)s, finished_at = %(now)s, heartbeat = %(now)s, "
        "sent_count = counts.sent, filtered_count = counts.filtered, error_count = 0, last_error = '' "
        "FROM counts WHERE id = %(batch_id)s)",
        f"bump AS (UPDATE {BROADCAST} SET sent_count = sent_count + counts.sent, "
        "filtered_count = filtered_count + counts.filtered, "
        "total_count = total_count + counts.processed - %(batch_size)s, "
        "batches_done = batches_done + 1 FROM counts WHERE id = %(broadcast_id)s RETURNING batches_done, batch_count)",
    ]
    overlap = {k for k in backend_rows.params if k in params and params[k] != backend_rows.params[k]}
    assert not overlap, f"backend statement parameters clash with the engine's: {overlap}"
    params.update(backend_rows.params, done=BatchStatus.DONE, batch_id=batch.pk, batch_size=batch.size)
    return Statement(
        f"WITH {', '.join(ctes)} SELECT sent, filtered, processed, batches_done, batch_count FROM counts, bump",
        params,
    )


# SQLite: the same effect in a few statements (no data-modifying CTEs, json_each for id lists).


def bump_caps_returning_ids(follower_ids: list[int], cap: Cap) -> Statement:
    """SQLite: R5 counters of these followers bumped where below the limit; returns the ids bumped."""
    return Statement(
        f"INSERT INTO {USAGE} AS u (follower_id, window_start, count) "
        "SELECT value, %(window_start)s, 1 FROM json_each(%(ids)s) WHERE true "
        "ON CONFLICT (follower_id, window_start) DO UPDATE SET count = u.count + 1 WHERE u.count < %(limit)s "
        "RETURNING follower_id",
        {"window_start": db_date(cap.window_start), "ids": json.dumps(follower_ids), "limit": cap.limit},
    )


def insert_deliveries(broadcast_id: int, follower_ids: list[int], *, status: str, now: datetime) -> Statement:
    """SQLite: Delivery rows with `status` for these followers."""
    return Statement(
        f"INSERT INTO {DELIVERY} (broadcast_id, follower_id, status, error, delivered_at) "
        "SELECT %(broadcast_id)s, value, %(status)s, '', %(now)s FROM json_each(%(ids)s)",
        {"broadcast_id": broadcast_id, "status": status, "now": db_moment(now), "ids": json.dumps(follower_ids)},
    )


# --- a batch's end ----------------------------------------------------------------------


def add_batch_totals(broadcast_id: int, *, sent: int, filtered: int, failed: int, left: int) -> Statement:
    """Add a done batch's totals to its broadcast (relative updates: concurrent batches serialize
    on the broadcast row only from here to their commit). `left`: followers who left the
    audience since dispatch, taken off the total. Returns (batches_done, batch_count)."""
    return Statement(
        f"UPDATE {BROADCAST} SET sent_count = sent_count + %(sent)s, filtered_count = filtered_count + %(filtered)s, "
        "error_count = error_count + %(failed)s, total_count = total_count - %(left)s, "
        "batches_done = batches_done + 1 WHERE id = %(broadcast_id)s RETURNING batches_done, batch_count",
        {"sent": sent, "filtered": filtered, "failed": failed, "left": left, "broadcast_id": broadcast_id},
    )


# --- the inbox backend (the platform's own message store, R6) ---------------------------------


def inbox_rows_from_sent(broadcast_id: int, *, folded: bool, now: datetime) -> Statement:
    """PostgreSQL: the inbox rows of the followers in the engine's CTE `sent` (run inside
    deliver_whole_batch, so no ids travel)."""
    return Statement(
        f"INSERT INTO {INBOX} (follower_id, broadcast_id, folded, created_at) "
        "SELECT follower_id, %(inbox_broadcast_id)s, %(folded)s, %(inbox_now)s FROM sent",
        {"inbox_broadcast_id": broadcast_id, "folded": folded, "inbox_now": now},
    )


def inbox_rows(broadcast_id: int, follower_ids: list[int], *, folded: bool, now: datetime) -> Statement:
    """The inbox rows of these followers, in one INSERT … SELECT (either dialect)."""
    ids_sql, ids = _id_table(follower_ids)
    return Statement(
        f"INSERT INTO {INBOX} (follower_id, broadcast_id, folded, created_at) "
        f"SELECT ids.id, %(broadcast_id)s, %(folded)s, %(now)s FROM ({ids_sql}) AS ids",
        {"broadcast_id": broadcast_id, "folded": folded, "now": db_moment(now), "ids": ids},
    )
