"""The platform's own message store: one InboxMessage per follower, folded or not (R6)."""

from __future__ import annotations

import json

from django.db import connection
from django.utils import timezone

from ..models import InboxMessage
from .base import BaseBackend, OutgoingBatch


class InboxBackend(BaseBackend):
    """Writes the batch's inbox rows with one INSERT … SELECT, in the batch's transaction."""

    transactional = True

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
                f"SELECT ids.id, %s, %s, %s FROM ({ids_sql}) AS ids WHERE true "
                "ON CONFLICT (broadcast_id, follower_id) DO NOTHING",
                [batch.broadcast_id, batch.folded, connection.ops.adapt_datetimefield_value(timezone.now()), ids_param],
            )
        return {}
