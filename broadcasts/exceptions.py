"""Refusals of the broadcasts app. Codes are stable: tests, logs, alerts and the API match on them.

The base class, the shared errors (invalid_state, reason_required, ...) and the code registry
live in operator_console.errors; InvalidState and ReasonRequired are re-exported here.
"""

from operator_console.errors import DomainError, ErrorCode, InvalidState, ReasonRequired

__all__ = [
    "AccountSuspended",
    "BroadcastError",
    "BroadcastNotFound",
    "CertificationRequired",
    "ClientMsgIdTooLong",
    "ContentBlocked",
    "DuplicateClientMsgId",
    "EditConflict",
    "InvalidMediaId",
    "InvalidMessageType",
    "FourEyes",
    "InvalidAudience",
    "InvalidContent",
    "InvalidState",
    "NoQuotaPolicy",
    "PreviewTargetUnsupported",
    "QuotaExceeded",
    "PushUnavailable",
    "NotAuthor",
    "ReasonRequired",
    "SendTimePast",
    "SenderUnavailable",
    "TagNotFound",
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


class SendTimePast(BroadcastError):
    code = ErrorCode.SEND_TIME_PAST


class NotAuthor(BroadcastError):
    """Only the broadcast's author may do this (withdraw it to draft)."""

    code = ErrorCode.NOT_AUTHOR


class EditConflict(BroadcastError):
    """A draft saved from a page that showed a version someone has changed since."""

    code = ErrorCode.EDIT_CONFLICT


class ClientMsgIdTooLong(InvalidContent):
    code = ErrorCode.CLIENT_MSG_ID_TOO_LONG


# The advanced mass interface (broadcasts.services.api_sends).


class DuplicateClientMsgId(BroadcastError):
    """The account made a broadcast with this client message id within 24 hours; `context["msg_id"]` is its id."""

    code = ErrorCode.DUPLICATE_CLIENT_MSG_ID


class BroadcastNotFound(BroadcastError):
    """No broadcast with this id belongs to the calling account (another account's is not found either)."""

    code = ErrorCode.BROADCAST_NOT_FOUND


class TagNotFound(BroadcastError):
    code = ErrorCode.TAG_NOT_FOUND


class InvalidMessageType(BroadcastError):
    code = ErrorCode.INVALID_MESSAGE_TYPE


class InvalidMediaId(BroadcastError):
    """A message type that carries a media_id: the console keeps no media yet, so no id is valid."""

    code = ErrorCode.INVALID_MEDIA_ID


class PreviewTargetUnsupported(BroadcastError):
    code = ErrorCode.PREVIEW_TARGET_UNSUPPORTED


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
