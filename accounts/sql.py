"""The raw SQL of follower events: a whole batch of follows and unfollows in one PostgreSQL statement.

Kinds go in as parameters, never as literals (as in broadcasts.sql).

accounts.services.apply_follower_events runs it; the rule it implements is written down there
and in the README ("Platform events intake").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from django.db import connection, transaction

from .models import Follower, FollowerEvent, OfficialAccount

ACCOUNT = OfficialAccount._meta.db_table
FOLLOWER = Follower._meta.db_table
EVENT = FollowerEvent._meta.db_table


class Outcome:
    """What the statement did with one event (its `outcome` column)."""

    APPLIED = "applied"  # the follower changed (followed, or unfollowed), and the event is kept
    UNCHANGED = "unchanged"  # a repeat, or not newer than the newest event seen for the follower
    UNKNOWN_ACCOUNT = "unknown_account"  # no account has the appid
    NO_FOLLOWER = "no_follower"  # an unfollow of an openid the account never had
    RACED = "raced"  # a concurrent batch made this follower first: run the event again


# One statement, read top to bottom:
#   input     the batch, as arrays (position, appid, openid, kind, at)
#   known     its events of known accounts
#   existing  the followers it names that exist, locked in id order (two batches naming the same
#             followers wait for each other instead of deadlocking)
#   timeline  per follower: its current state as the first event, at the newest event time seen for
#             it (last_event_at; before any was recorded, the time that state began), then the
#             batch's events that are newer than that, in time order (ties: batch order)
#   marked    each timeline event that differs from the one before begins a run: a change
#   newest    per follower: the newest event time of the batch (older ones included)
#   final     per follower: the kind of the last event, when the batch's last follow and last
#             unfollow run began (NULL: the known time stays), and `newest`
#   updated   existing followers whose state or times differ from final, or whose last_event_at
#             moves forward (an "unchanged" event still raises it: a later-arriving older event
#             must not undo what the platform's newest event said)
#   created   new followers (only from a batch holding a follow of them); ON CONFLICT DO NOTHING
#             when a concurrent batch made them first (those events come back as "raced")
#   kept      the changes, into the event history (the unique constraint is the safety net)
# and the SELECT answers one row per input event, in batch order.
APPLY_EVENTS = f"""
WITH input AS (
    SELECT * FROM unnest(%(positions)s::int[], %(app_ids)s::text[], %(openids)s::text[], %(kinds)s::text[],
                         %(ats)s::timestamptz[]) AS t(pos, app_id, openid, kind, at)
),
known AS (
    SELECT i.pos, a.id AS account_id, i.openid, i.kind, i.at
    FROM input i JOIN {ACCOUNT} a ON a.app_id = i.app_id
),
existing AS (
    SELECT f.id, f.account_id, f.openid, f.subscribed,
           COALESCE(f.last_event_at,
                    CASE WHEN f.subscribed THEN f.subscribed_at ELSE COALESCE(f.unsubscribed_at, f.subscribed_at) END)
               AS since
    FROM {FOLLOWER} f
    WHERE (f.account_id, f.openid) IN (SELECT account_id, openid FROM known)
    ORDER BY f.id
    FOR UPDATE OF f
),
timeline AS (
    SELECT x.account_id, x.openid,
           CASE WHEN x.subscribed THEN %(subscribe)s::text ELSE %(unsubscribe)s::text END AS kind, x.since AS at, -1 AS pos
    FROM existing x
    UNION ALL
    SELECT k.account_id, k.openid, k.kind, k.at, k.pos
    FROM known k LEFT JOIN existing x ON x.account_id = k.account_id AND x.openid = k.openid
    WHERE x.id IS NULL OR k.at > x.since
),
marked AS (
    SELECT t.*, t.kind IS DISTINCT FROM lag(t.kind) OVER (PARTITION BY t.account_id, t.openid ORDER BY t.at, t.pos)
           AS starts_run
    FROM timeline t
),
newest AS (
    SELECT account_id, openid, max(at) AS newest_at FROM known GROUP BY account_id, openid
),
final AS (
    SELECT g.*, w.newest_at
    FROM (
        SELECT account_id, openid,
               (array_agg(kind ORDER BY at DESC, pos DESC))[1] = %(subscribe)s::text AS subscribed,
               max(at) FILTER (WHERE starts_run AND pos >= 0 AND kind = %(subscribe)s::text) AS last_follow,
               max(at) FILTER (WHERE starts_run AND pos >= 0 AND kind = %(unsubscribe)s::text) AS last_unfollow
        FROM marked
        GROUP BY account_id, openid
    ) g
    JOIN newest w ON w.account_id = g.account_id AND w.openid = g.openid
),
updated AS (
    UPDATE {FOLLOWER} f
    SET subscribed = n.subscribed,
        subscribed_at = COALESCE(n.last_follow, f.subscribed_at),
        unsubscribed_at = COALESCE(n.last_unfollow, f.unsubscribed_at),
        last_event_at = GREATEST(x.since, n.newest_at)
    FROM final n JOIN existing x ON x.account_id = n.account_id AND x.openid = n.openid
    WHERE f.id = x.id
      AND (f.subscribed, f.subscribed_at, f.unsubscribed_at, f.last_event_at) IS DISTINCT FROM
          (n.subscribed, COALESCE(n.last_follow, f.subscribed_at), COALESCE(n.last_unfollow, f.unsubscribed_at),
           GREATEST(x.since, n.newest_at))
    RETURNING f.id
),
created AS (
    INSERT INTO {FOLLOWER} (account_id, openid, nickname, subscribed, subscribed_at, unsubscribed_at, last_event_at)
    SELECT n.account_id, n.openid, '', n.subscribed, n.last_follow, n.last_unfollow, n.newest_at
    FROM final n
    WHERE n.last_follow IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM existing x WHERE x.account_id = n.account_id AND x.openid = n.openid)
    ON CONFLICT (account_id, openid) DO NOTHING
    RETURNING id, account_id, openid
),
resolved AS (
    SELECT id, account_id, openid FROM existing
    UNION ALL
    SELECT id, account_id, openid FROM created
),
kept AS (
    INSERT INTO {EVENT} (account_id, follower_id, kind, at, recorded_at)
    SELECT m.account_id, r.id, m.kind, m.at, %(now)s
    FROM marked m JOIN resolved r ON r.account_id = m.account_id AND r.openid = m.openid
    WHERE m.pos >= 0 AND m.starts_run
    ON CONFLICT (follower_id, at, kind) DO NOTHING
    RETURNING 1
)
SELECT i.pos,
       CASE
           WHEN k.pos IS NULL THEN '{Outcome.UNKNOWN_ACCOUNT}'
           WHEN r.id IS NULL AND n.last_follow IS NULL THEN '{Outcome.NO_FOLLOWER}'
           WHEN r.id IS NULL THEN '{Outcome.RACED}'
           WHEN m.starts_run THEN '{Outcome.APPLIED}'
           ELSE '{Outcome.UNCHANGED}'
       END AS outcome
FROM input i
LEFT JOIN known k ON k.pos = i.pos
LEFT JOIN resolved r ON r.account_id = k.account_id AND r.openid = k.openid
LEFT JOIN final n ON n.account_id = k.account_id AND n.openid = k.openid
LEFT JOIN marked m ON m.pos = i.pos
ORDER BY i.pos
"""


EventRow = tuple[int, str, str, str, datetime]  # (position in the batch, app_id, openid, kind, at)


def apply_events(events: Sequence[EventRow], *, now: datetime) -> dict[int, str]:
    """Apply the events (one statement on PostgreSQL); returns position -> Outcome value."""
    if connection.vendor != "postgresql":
        return apply_events_portable(events, now=now)
    return apply_events_statement(events, now=now)


def apply_events_statement(events: Sequence[EventRow], *, now: datetime) -> dict[int, str]:
    """Run APPLY_EVENTS (PostgreSQL); returns position -> Outcome value."""
    positions, app_ids, openids, kinds, ats = (list(column) for column in zip(*events, strict=True))
    params = {
        "positions": positions, "app_ids": app_ids, "openids": openids, "kinds": kinds, "ats": ats, "now": now,
        "subscribe": FollowerEvent.Kind.SUBSCRIBE.value, "unsubscribe": FollowerEvent.Kind.UNSUBSCRIBE.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(APPLY_EVENTS, params)
        return dict(cursor.fetchall())


def apply_events_portable(events: Sequence[EventRow], *, now: datetime) -> dict[int, str]:
    """APPLY_EVENTS's rule on any database, in one transaction; returns position -> Outcome value."""
    subscribe = FollowerEvent.Kind.SUBSCRIBE
    outcomes: dict[int, str] = {}
    with transaction.atomic():
        account_ids = dict(
            OfficialAccount.objects.filter(app_id__in={e[1] for e in events}).values_list("app_id", "id")
        )
        named: dict[tuple[int, str], list[EventRow]] = defaultdict(list)
        for event in events:
            if event[1] in account_ids:
                named[(account_ids[event[1]], event[2])].append(event)
            else:
                outcomes[event[0]] = Outcome.UNKNOWN_ACCOUNT
        existing = {
            (f.account_id, f.openid): f
            for f in Follower.objects.select_for_update().filter(
                account_id__in={a for a, _ in named}, openid__in={o for _, o in named}
            ).order_by("id")
        }
        changed, created, kept = [], [], []
        for key, rows in named.items():
            follower = existing.get(key)
            timeline = []
            if follower is not None:
                since = follower.last_event_at or (
                    follower.subscribed_at if follower.subscribed else (follower.unsubscribed_at or follower.subscribed_at)
                )
                timeline.append((since, -1, subscribe if follower.subscribed else FollowerEvent.Kind.UNSUBSCRIBE))
            timeline += sorted((at, pos, kind) for pos, _, _, kind, at in rows if follower is None or at > since)
            last = {}  # kind -> when the batch's last run of it began
            previous, changes = None, []
            for at, pos, kind in timeline:
                starts_run = kind != previous
                previous = kind
                if starts_run and pos >= 0:
                    last[kind] = at
                if pos >= 0 and starts_run:
                    changes.append((kind, at))
                if pos >= 0:
                    outcomes[pos] = Outcome.APPLIED if starts_run else Outcome.UNCHANGED
            for pos, *_ in rows:
                outcomes.setdefault(pos, Outcome.UNCHANGED)
            if follower is None:
                if subscribe not in last:
                    outcomes.update((pos, Outcome.NO_FOLLOWER) for pos, *_ in rows)
                    continue
                follower = Follower(account_id=key[0], openid=key[1], subscribed_at=last[subscribe])
                created.append(follower)
            newest = max(at for *_, at in rows)
            new = (previous == subscribe, last.get(subscribe, follower.subscribed_at),
                   last.get(FollowerEvent.Kind.UNSUBSCRIBE, follower.unsubscribed_at),
                   newest if follower.pk is None else max(since, newest))
            old = (follower.subscribed, follower.subscribed_at, follower.unsubscribed_at, follower.last_event_at)
            if follower.pk is None or new != old:
                follower.subscribed, follower.subscribed_at, follower.unsubscribed_at, follower.last_event_at = new
                if follower.pk is not None:
                    changed.append(follower)
            kept += [(follower, kind, at) for kind, at in changes]
        Follower.objects.bulk_create(created)
        Follower.objects.bulk_update(changed, ["subscribed", "subscribed_at", "unsubscribed_at", "last_event_at"])
        FollowerEvent.objects.bulk_create(
            [FollowerEvent(account_id=f.account_id, follower_id=f.pk, kind=kind, at=at, recorded_at=now)
             for f, kind, at in kept],
            ignore_conflicts=True,
        )
    return outcomes
