"""Refusals of the broadcasts app. Codes are stable: tests, logs, alerts and the API match on them.

The base class, the shared errors (invalid_state, reason_required, ...) and the code registry
live in operator_console.errors; InvalidState and ReasonRequired are re-exported here.
"""

from operator_console.errors import DomainError, ErrorCode, InvalidState, ReasonRequired

__all__ = [
    "AccountSuspended",
    "BroadcastError",
    "CertificationRequired",
    "ContentBlocked",
    "FourEyes",
    "InvalidAudience",
    "InvalidContent",
    "InvalidState",
    "NoQuotaPolicy",
    "QuotaExceeded",
    "PushUnavailable",
    "ReasonRequired",
    "SenderUnavailable",
]


class BroadcastError(DomainError):
    """Base of the refusals that only broadcasts have."""

    code = ErrorCode.BROADCAST_ERROR


class QuotaExceeded(BroadcastError):
    code = ErrorCode.QUOTA_EXCEEDED


class NoQuotaPolicy(BroadcastError):
    code = ErrorCode.NO_QUOTA_POLICY


class CertificationRequired(BroadcastError):
    code = ErrorCode.CERTIFICATION_REQUIRED


class AccountSuspended(BroadcastError):
    code = ErrorCode.ACCOUNT_SUSPENDED


class FourEyes(BroadcastError):
    code = ErrorCode.FOUR_EYES


class ContentBlocked(BroadcastError):
    code = ErrorCode.CONTENT_BLOCKED


class InvalidAudience(BroadcastError):
    code = ErrorCode.INVALID_AUDIENCE


class InvalidContent(BroadcastError):
    code = ErrorCode.INVALID_CONTENT


class SenderUnavailable(Exception):
    """A transient delivery-backend failure (not a refusal): the batch task retries it with backoff.

    `outcome_unknown`: the hand-off may have reached the receiver (a timeout while waiting for
    its answer), so if no retry settles it the followers are failed but keep their R5 count.
    """

    def __init__(self, message: str, *, outcome_unknown: bool = False):
        super().__init__(message)
        self.outcome_unknown = outcome_unknown


class PushUnavailable(Exception):
    """A transient failure to push a job-finished event (5xx, timeout, no connection): the task retries it."""
