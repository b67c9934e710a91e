"""Refusals of the accounts app. The base class, the shared errors and the code registry
live in operator_console.errors; they are re-exported here for the app's callers."""

from operator_console.errors import DomainError, ErrorCode, InvalidInput, InvalidState, ReasonRequired

__all__ = [
    "AccessTokenExpired",
    "AccessTokenMissing",
    "AccountNotFound",
    "AlreadyCertified",
    "BatchTooLarge",
    "BodyTooLarge",
    "ApiSuspended",
    "CertificationPending",
    "DomainError",
    "FollowerNotFound",
    "ImportHeaderInvalid",
    "ImportRowsInvalid",
    "IntakeDisabled",
    "InvalidAppId",
    "InvalidCredential",
    "InvalidGrantType",
    "InvalidInput",
    "InvalidMenu",
    "InvalidState",
    "ReasonRequired",
    "SignatureInvalid",
    "TimeInFuture",
]


class AlreadyCertified(DomainError):
    code = ErrorCode.ALREADY_CERTIFIED


class CertificationPending(DomainError):
    code = ErrorCode.CERTIFICATION_PENDING


class InvalidMenu(DomainError):
    """A custom menu the platform would not take (R6: limits, levels, kinds); `context["field"]` names the field."""

    code = ErrorCode.INVALID_MENU


class AccountNotFound(DomainError):
    code = ErrorCode.ACCOUNT_NOT_FOUND


class ImportHeaderInvalid(DomainError):
    code = ErrorCode.IMPORT_HEADER_INVALID


class ImportRowsInvalid(DomainError):
    """Some rows are bad and --skip-invalid was not given: nothing was written.

    ``context["problems"]`` holds the first bad rows, ``context["problem_count"]`` all of them.
    """

    code = ErrorCode.IMPORT_ROWS_INVALID


class TimeInFuture(DomainError):
    """A follow or unfollow dated later than now."""

    code = ErrorCode.TIME_IN_FUTURE


class FollowerNotFound(DomainError):
    """An unfollow of an openid the account never had (a follow creates the follower)."""

    code = ErrorCode.FOLLOWER_NOT_FOUND


# The platform events intake (accounts.views.follower_events): refusals of a whole request.


class SignatureInvalid(DomainError):
    """The request's HMAC signature or timestamp is missing, wrong or stale."""

    code = ErrorCode.SIGNATURE_INVALID


class BatchTooLarge(DomainError):
    code = ErrorCode.BATCH_TOO_LARGE


class BodyTooLarge(DomainError):
    code = ErrorCode.BODY_TOO_LARGE


class IntakeDisabled(DomainError):
    """No platform secret is configured, so no request can be authenticated."""

    code = ErrorCode.INTAKE_DISABLED
# The advanced mass interface's credentials (accounts.services.issue_access_token, selectors.caller_for_token).


class InvalidCredential(DomainError):
    """A wrong app secret, or an access token that was never issued or was revoked by a secret reset."""

    code = ErrorCode.INVALID_CREDENTIAL


class InvalidAppId(DomainError):
    code = ErrorCode.INVALID_APP_ID


class InvalidGrantType(DomainError):
    code = ErrorCode.INVALID_GRANT_TYPE


class AccessTokenMissing(DomainError):
    code = ErrorCode.ACCESS_TOKEN_MISSING


class AccessTokenExpired(DomainError):
    code = ErrorCode.ACCESS_TOKEN_EXPIRED


class ApiSuspended(DomainError):
    """The account is suspended (R7): every call of the advanced mass interface is refused."""

    code = ErrorCode.API_SUSPENDED
