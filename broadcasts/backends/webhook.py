"""Push gateway backend: POSTs each batch as signed JSON (HMAC-SHA256).

Request: POST settings.BROADCAST_WEBHOOK_URL with a JSON body
    {"broadcast_id", "batch", "app_id", "folded", "message": {...}, "openids": [...]}
and headers
    X-Broadcast-Timestamp: unix seconds
    X-Broadcast-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with BROADCAST_WEBHOOK_SECRET>
    Idempotency-Key: broadcast-<id>-batch-<n>   (the same on every retry of the batch)

Answers:
* 2xx: delivered.
* 409 with the JSON body {"status": "already_accepted"}: the gateway has already accepted a
  batch with this Idempotency-Key (an earlier attempt whose answer was lost, e.g. to a
  timeout): delivered. This is the contract for gateways; any other 409 is a refusal.
* Any other 4xx (and non-2xx below 500): the gateway refused the batch for good; every
  follower of it fails with the gateway's answer kept, and gets its R5 count back.
* 5xx and connection failures: transient (SenderUnavailable); the task retries with backoff.
  A timeout waiting for the answer is transient too, but its outcome is unknown (the gateway
  may have delivered): if no retry settles it, the followers are failed and keep their R5
  count. A retry carries the same Idempotency-Key, so a gateway that honours the contract
  delivers once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import requests
from django.conf import settings

from accounts.models import Follower

from ..exceptions import SenderUnavailable
from .base import BaseBackend, OutgoingBatch

# How much of the gateway's answer is kept as the delivery error.
ERROR_BODY_CHARS = 500


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Broadcast-Signature value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookBackend(BaseBackend):
    def __init__(self, *, url: str | None = None, secret: str | None = None, timeout: float | None = None, **options):
        super().__init__(**options)
        self.url = url if url is not None else settings.BROADCAST_WEBHOOK_URL
        self.secret = secret if secret is not None else settings.BROADCAST_WEBHOOK_SECRET
        self.timeout = timeout if timeout is not None else settings.BROADCAST_WEBHOOK_TIMEOUT
        self.session = None

    def open(self) -> None:
        if self.session is None:
            self.session = requests.Session()

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None

    def send(self, batch: OutgoingBatch) -> dict[int, str]:
        if not batch.follower_ids:
            return {}
        if not self.url:
            return dict.fromkeys(batch.follower_ids, "BROADCAST_WEBHOOK_URL is not set: nowhere to push the batch.")
        openids = dict(Follower.objects.filter(pk__in=batch.follower_ids).values_list("pk", "openid"))
        body = json.dumps(
            {
                "broadcast_id": batch.broadcast_id,
                "batch": batch.batch_number,
                "app_id": batch.app_id,
                "folded": batch.folded,
                "message": batch.message,
                "openids": [openids[i] for i in batch.follower_ids if i in openids],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Broadcast-Timestamp": timestamp,
            "X-Broadcast-Signature": sign(self.secret, timestamp, body),
            "Idempotency-Key": batch.idempotency_key,
        }
        self.open()
        try:
            response = self.session.post(
                self.url, data=body, headers=headers, timeout=self.timeout, allow_redirects=False
            )
        except requests.ConnectTimeout as exc:
            raise SenderUnavailable(f"Push gateway unreachable (no connection within {self.timeout:g}s): {exc}") from exc
        except requests.Timeout as exc:
            raise SenderUnavailable(
                f"Push gateway timed out after {self.timeout:g}s: {exc}", outcome_unknown=True
            ) from exc
        except requests.ConnectionError as exc:
            # Refused before the request was sent: not delivered. Dropped after it: unknown.
            sent = not isinstance(exc.__context__, OSError) and "NewConnectionError" not in str(exc)
            raise SenderUnavailable(f"Push gateway unreachable: {exc}", outcome_unknown=sent) from exc
        except requests.RequestException as exc:
            raise SenderUnavailable(f"Push gateway unreachable: {exc}") from exc
        if response.status_code >= 500:
            raise SenderUnavailable(f"Push gateway answered HTTP {response.status_code}: {_excerpt(response)}")
        if response.status_code == 409 and _already_accepted(response):
            return {}
        if not 200 <= response.status_code < 300:
            error = f"Push gateway refused the batch, HTTP {response.status_code}: {_excerpt(response)}"
            return dict.fromkeys(batch.follower_ids, error)
        return {}


def _already_accepted(response) -> bool:
    """The gateway's answer for a batch it has already accepted under this Idempotency-Key."""
    try:
        return response.json().get("status") == "already_accepted"
    except (ValueError, AttributeError):
        return False


def _excerpt(response) -> str:
    text = (response.text or "").strip().replace("\n", " ")
    return text[:ERROR_BODY_CHARS] or response.reason or "(empty answer)"
