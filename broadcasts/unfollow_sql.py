"""The raw statements of the over-marketing measurement (R8), both dialects, named parameters.

Attribution: an unfollow belongs to the most recent broadcast the follower received from the
account (by Delivery.delivered_at) before it, and counts for that broadcast when it came within
the horizon of the delivery. A follower counts once per broadcast (the first unfollow after the
delivery): follow, unfollow, follow and unfollow again inside one window is one unfollow.

The statement is driven by the account's unfollow events in the broadcast's window (index
follower_event_account_idx: account, kind, at), not by its deliveries: unfollows are a small
fraction of recipients, so a broadcast of millions costs a few thousand index probes into
delivery_once_per_follower (broadcast, follower) and delivery_follower_idx (follower, delivered_at).
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection

# Seconds from the delivery to the unfollow, and the hour bucket of a lag (the last bucket holds the
# lag of exactly the horizon).
_LAG = {
    "postgresql": "EXTRACT(EPOCH FROM (e.at - d.delivered_at))",
    "sqlite": "((julianday(e.at) - julianday(d.delivered_at)) * 86400.0)",
}
_BUCKET = {
    "postgresql": "LEAST(FLOOR(lag / 3600.0), %(last_bucket)s)::int",
    "sqlite": "MIN(CAST(lag / 3600.0 AS INTEGER), %(last_bucket)s)",
}

_MEASURE = """
WITH u AS (
    SELECT d.follower_id, MIN({lag}) AS lag
    FROM accounts_followerevent e
    JOIN broadcasts_delivery d ON d.broadcast_id = %(broadcast)s AND d.follower_id = e.follower_id
    WHERE e.account_id = %(account)s AND e.kind = %(unsubscribe)s
      AND e.at > %(since)s AND e.at <= %(until)s
      AND d.status = %(sent)s AND e.at > d.delivered_at AND {lag} <= %(horizon)s
      AND NOT EXISTS (
          SELECT 1 FROM broadcasts_delivery d2
          JOIN broadcasts_broadcast b2 ON b2.id = d2.broadcast_id
          WHERE d2.follower_id = e.follower_id AND d2.status = %(sent)s AND b2.account_id = %(account)s
            AND d2.delivered_at > d.delivered_at AND d2.delivered_at <= e.at
      )
    GROUP BY d.follower_id
)
SELECT {bucket} AS bucket, COUNT(*),
       SUM(CASE WHEN lag <= %(short)s THEN 1 ELSE 0 END)
FROM u GROUP BY 1 ORDER BY 1
"""


def unfollow_buckets(
    *, broadcast_id: int, account_id: int, since: datetime, until: datetime, horizon_s: int, short_s: int, buckets: int
) -> list[tuple[int, int, int]]:
    """(hour bucket, unfollows, of which within `short_s`) for the broadcast's recipients whose first
    unfollow after their delivery came within `horizon_s` and is attributed to this broadcast.
    `since`/`until` bound the events read: the broadcast's first delivery and its last plus the horizon."""
    vendor = connection.vendor
    sql = _MEASURE.format(lag=_LAG[vendor], bucket=_BUCKET[vendor])
    params = {"sent": "sent", "unsubscribe": "unsubscribe", "broadcast": broadcast_id, "account": account_id, "since": since, "until": until,
              "horizon": horizon_s, "short": short_s, "last_bucket": buckets - 1}
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [(int(b), int(n), int(s)) for b, n, s in cur.fetchall()]


# The recent platform days: every account's follows and unfollows from `since` (the start of a platform day).
_FOLLOWER_DAYS = {
    "postgresql": """
INSERT INTO broadcasts_followerday (account_id, day, gained, lost, counted_at)
SELECT e.account_id, (e.at AT TIME ZONE %(zone)s)::date,
       COUNT(*) FILTER (WHERE e.kind = %(subscribe)s), COUNT(*) FILTER (WHERE e.kind = %(unsubscribe)s), %(now)s
FROM accounts_officialaccount a
CROSS JOIN LATERAL (
    SELECT account_id, kind, at FROM accounts_followerevent
    WHERE account_id = a.id AND kind IN (%(subscribe)s, %(unsubscribe)s) AND at >= %(since)s
) e
GROUP BY 1, 2
ON CONFLICT (account_id, day) DO UPDATE SET gained = EXCLUDED.gained, lost = EXCLUDED.lost, counted_at = EXCLUDED.counted_at
""",
    "sqlite": """
INSERT INTO broadcasts_followerday (account_id, day, gained, lost, counted_at)
SELECT account_id, date(at, %(offset)s),
       SUM(CASE WHEN kind = %(subscribe)s THEN 1 ELSE 0 END), SUM(CASE WHEN kind = %(unsubscribe)s THEN 1 ELSE 0 END),
       %(now)s
FROM accounts_followerevent WHERE at >= %(since)s
GROUP BY 1, 2
ON CONFLICT (account_id, day) DO UPDATE SET gained = excluded.gained, lost = excluded.lost, counted_at = excluded.counted_at
""",
}

# The older days that follows and unfollows recorded late fall on (recorded since `recorded_since`, dated
# before `since`: an import dated back, late platform events, the admin's past time): the distinct (account,
# day) pairs of those events (index follower_event_recorded_idx), then each pair recounted whole, one index
# range of follower_event_account_idx (account, kind, at) per pair and kind.
_LATE_FOLLOWER_DAYS = {
    "postgresql": """
INSERT INTO broadcasts_followerday (account_id, day, gained, lost, counted_at)
SELECT p.account_id, p.day, c.gained, c.lost, %(now)s
FROM (
    SELECT DISTINCT account_id, (at AT TIME ZONE %(zone)s)::date AS day FROM accounts_followerevent
    WHERE recorded_at > %(recorded_since)s AND at < %(since)s
) p
CROSS JOIN LATERAL (
    SELECT COUNT(*) FILTER (WHERE kind = %(subscribe)s) AS gained, COUNT(*) FILTER (WHERE kind = %(unsubscribe)s) AS lost
    FROM accounts_followerevent
    WHERE account_id = p.account_id AND kind IN (%(subscribe)s, %(unsubscribe)s)
      AND at >= (p.day::timestamp AT TIME ZONE %(zone)s) AND at < ((p.day + 1)::timestamp AT TIME ZONE %(zone)s)
) c
ON CONFLICT (account_id, day) DO UPDATE SET gained = EXCLUDED.gained, lost = EXCLUDED.lost, counted_at = EXCLUDED.counted_at
""",
    "sqlite": """
INSERT INTO broadcasts_followerday (account_id, day, gained, lost, counted_at)
SELECT p.account_id, p.day,
       (SELECT COUNT(*) FROM accounts_followerevent e WHERE e.account_id = p.account_id AND e.kind = %(subscribe)s
          AND e.at >= datetime(p.day, %(back)s) AND e.at < datetime(p.day, '+1 day', %(back)s)),
       (SELECT COUNT(*) FROM accounts_followerevent e WHERE e.account_id = p.account_id AND e.kind = %(unsubscribe)s
          AND e.at >= datetime(p.day, %(back)s) AND e.at < datetime(p.day, '+1 day', %(back)s)),
       %(now)s
FROM (
    SELECT DISTINCT account_id, date(at, %(offset)s) AS day FROM accounts_followerevent
    WHERE recorded_at > %(recorded_since)s AND at < %(since)s
) p
WHERE true
ON CONFLICT (account_id, day) DO UPDATE SET gained = excluded.gained, lost = excluded.lost, counted_at = excluded.counted_at
""",
}


def refresh_follower_days(*, since: datetime, recorded_since: datetime, now: datetime, zone: str, hours: int) -> int:
    """Recount follows and unfollows per account and platform day, stamped `now`, in two statements: the
    days from `since` (the start of a platform day; one index range per account, a lateral join, not a scan
    of the history), and the older days of the events recorded after `recorded_since`. `hours` is the
    zone's UTC offset for SQLite, which has no zone data. Returns the rows written."""
    adapt = connection.ops.adapt_datetimefield_value
    params = {"since": adapt(since), "recorded_since": adapt(recorded_since), "now": adapt(now), "zone": zone,
              "offset": f"{hours:+d} hours", "back": f"{-hours:+d} hours",
              "subscribe": "subscribe", "unsubscribe": "unsubscribe"}
    written = 0
    with connection.cursor() as cur:
        for statements in (_FOLLOWER_DAYS, _LATE_FOLLOWER_DAYS):
            cur.execute(statements[connection.vendor], params)
            written += cur.rowcount
    return written
