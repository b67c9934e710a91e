"""The platform's own message store: one InboxMessage per follower, folded or not (R6)."""

from __future__ import annotations

from django.utils import timezone

from .. import sql
from .base import BaseBackend, OutgoingBatch


class InboxBackend(BaseBackend):
    """Writes the batch's inbox rows with one INSERT … SELECT, in the batch's transaction.

    No ON CONFLICT: the engine's batch lock makes each batch run once; the unique
    (broadcast, follower) constraint is the backstop (a duplicate aborts the batch).
    """

    transactional = True

    def sent_rows_sql(self, batch: OutgoingBatch) -> sql.Statement | None:
        """On PostgreSQL the inbox rows are written by the engine's batch statement itself,
        from its `sent` CTE: no round trip of the ids, one statement per batch."""
        if not sql.is_postgresql():
            return None
        return sql.inbox_rows_from_sent(batch.broadcast_id, folded=batch.folded, now=timezone.now())

    def send(self, batch: OutgoingBatch) -> dict[int, str]:
        if batch.follower_ids:
            sql.run(sql.inbox_rows(batch.broadcast_id, batch.follower_ids, folded=batch.folded, now=timezone.now()))
        return {}
