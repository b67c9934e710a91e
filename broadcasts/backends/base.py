"""What every delivery backend implements: one call per batch, ids in, failures out."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class OutgoingBatch:
    """One batch of one broadcast, as the engine hands it to a backend (ids, not model objects)."""

    broadcast_id: int
    batch_number: int
    account_id: int
    app_id: str
    folded: bool  # R6: subscription-account messages go to the subscriptions folder
    message: dict  # message_type, title, body, url, cover_url
    follower_ids: list[int] = field(default_factory=list)

    @property
    def idempotency_key(self) -> str:
        """Stable across retries of this batch: a receiver that honours it delivers once."""
        return f"broadcast-{self.broadcast_id}-batch-{self.batch_number}"


class BaseBackend:
    """Base class of delivery backends; works as a context manager (open/close a connection).

    `transactional = True` means `send()` writes into the console's own database and runs
    inside the batch's transaction, so the batch commits whole or not at all. Other
    backends talk to the outside world and are called with no transaction open.
    """

    transactional = False

    def __init__(self, **options):
        self.options = options

    def open(self) -> None:
        """Open a long-lived connection, if the backend has one."""

    def close(self) -> None:
        """Close what open() opened."""

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()

    def sent_rows_sql(self, batch: OutgoingBatch):
        """Optionally, write this backend's rows inside the engine's own batch statement.

        A transactional backend may return a broadcasts.sql.Statement (named parameters
        that do not clash with the engine's): an `INSERT … SELECT` reading
        the followers just recorded as sent from the CTE `sent` (column `follower_id`);
        the engine runs it in the same statement and does not call send(). `batch` then
        carries no follower ids. None (the default): send() gets the ids.
        """
        return None

    def send(self, batch: OutgoingBatch) -> dict[int, str]:
        """Deliver the batch; return {follower_id: error} for followers that failed for good.

        Raise broadcasts.exceptions.SenderUnavailable for a transient failure of the
        whole batch (the task retries it with backoff).
        """
        raise NotImplementedError
