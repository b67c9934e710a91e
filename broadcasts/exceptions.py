"""Broadcast refusals. Codes are stable: tests, logs, alerts and the API match on them."""

from accounts.exceptions import DomainError


class BroadcastError(DomainError):
    code = "broadcast_error"


class QuotaExceeded(BroadcastError):
    code = "quota_exceeded"


class CertificationRequired(BroadcastError):
    code = "certification_required"


class AccountSuspended(BroadcastError):
    code = "account_suspended"


class FourEyes(BroadcastError):
    code = "four_eyes"


class ContentBlocked(BroadcastError):
    code = "content_blocked"


class InvalidState(BroadcastError):
    code = "invalid_state"


class InvalidAudience(BroadcastError):
    code = "invalid_audience"


class InvalidContent(BroadcastError):
    code = "invalid_content"


class NoQuotaPolicy(BroadcastError):
    code = "no_quota_policy"


class ReasonRequired(BroadcastError):
    code = "reason_required"


class SenderUnavailable(Exception):
    """A transient delivery-backend failure: the batch is retried with backoff."""
