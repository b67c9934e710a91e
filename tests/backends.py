"""Delivery backends for tests, named by dotted path in BROADCAST_DELIVERY_BACKEND (also by a worker process)."""

import os
import time

from broadcasts.backends.inbox import InboxBackend


class SlowInboxBackend(InboxBackend):
    """The inbox backend, slowed down inside the batch's transaction, holding its lock (crash and pause tests).

    BROADCAST_TEST_BATCH_DELAY: seconds each batch takes.
    """

    def sent_rows_sql(self, batch):
        time.sleep(float(os.environ.get("BROADCAST_TEST_BATCH_DELAY", "0.3")))
        return super().sent_rows_sql(batch)


class HalfFailingBackend(InboxBackend):
    """Delivers followers with an even id, fails the others for good (a gateway refusing some)."""

    def sent_rows_sql(self, batch):
        return None  # go through send(), which reports failures

    def send(self, batch):
        delivered = [i for i in batch.follower_ids if i % 2 == 0]
        super().send(batch.__class__(**{**batch.__dict__, "follower_ids": delivered}))
        return {i: "Recipient blocked the account." for i in batch.follower_ids if i % 2}
