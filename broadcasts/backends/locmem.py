"""In-memory backend for tests, like django.core.mail.backends.locmem: fills `outbox`."""

from __future__ import annotations

from .base import BaseBackend, OutgoingBatch

# Every batch sent in this process, in order. Tests clear it.
outbox: list[OutgoingBatch] = []


class LocmemBackend(BaseBackend):
    """Appends each batch to `outbox`; behaves like an external backend (no transaction)."""

    def send(self, batch: OutgoingBatch) -> dict[int, str]:
        outbox.append(batch)
        return {}
