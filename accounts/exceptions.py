"""Refusals of the accounts app. The base class, the shared errors and the code registry
live in operator_console.errors; they are re-exported here for the app's callers."""

from operator_console.errors import DomainError, ErrorCode, InvalidInput, InvalidState, ReasonRequired

__all__ = [
    "AccountNotFound",
    "AlreadyCertified",
    "CertificationPending",
    "DomainError",
    "ImportHeaderInvalid",
    "ImportRowsInvalid",
    "InvalidInput",
    "InvalidMenu",
    "InvalidState",
    "ReasonRequired",
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
