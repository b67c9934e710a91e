"""The platform's own message store: one InboxMessage per follower, folded or not (R6)."""

from __future__ import annotations

import json

from django.db import connection
from django.utils import timezone

from ..models import InboxMessage
from .base import BaseBackend, OutgoingBatch


class InboxBackend(BaseBackend):
    """Writes the batch's inbox rows with one INSERT … SELECT, in the batch's transaction.

    No ON CONFLICT: the engine's batch lock makes each batch run once; the unique
    (broadcast, follower) constraint is the backstop (a duplicate aborts the batch).
    """

    transactional = True

    def sent_rows_sql(self, batch: OutgoingBatch) -> tuple[str, list] | None:
        """On PostgreSQL the inbox rows are written by the engine's batch statement itself,
        from its `sent` CTE: no round trip of the ids, one statement per batch."""
        if connection.vendor != "postgresql":
            return None
        return (
            f"INSERT INTO {InboxMessage._meta.db_table} (follower_id, broadcast_id, folded, created_at) "
            "SELECT follower_id, %s, %s, %s FROM sent",
            [batch.broadcast_id, batch.folded, timezone.now()],
        )

    def send(self, batch: OutgoingBatch) -> dict[int, str]:
        if not batch.follower_ids:
            return {}
        table = InboxMessage._meta.db_table
        if connection.vendor == "postgresql":
            ids_sql, ids_param = "SELECT unnest(%s::bigint[]) AS id", batch.follower_ids
        else:
            ids_sql, ids_param = "SELECT value AS id FROM json_each(%s)", json.dumps(batch.follower_ids)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (follower_id, broadcast_id, folded, created_at) "
                f"SELECT ids.id, %s, %s, %s FROM ({ids_sql}) AS ids",
                [batch.broadcast_id, batch.folded, connection.ops.adapt_datetimefield_value(timezone.now()), ids_param],
            )
        return {}
