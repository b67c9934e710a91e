"""The project's domain errors: the base class, the errors every app shares, and the registry of codes.

A refusal is an exception with a stable `code` (snake_case, never reworded once shipped:
tests, logs, alerts and the API match on it) and a `message`, one sentence an operator
can act on. Each app's `exceptions.py` holds only its own errors; every code of every
app is listed once in `ErrorCode`, and a class whose code is not there, or whose code
another class already claims, fails at import time (and in tests/test_errors.py).
Nothing retries a domain error.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Every refusal code of the console. Add a member for a new error; never rename one."""

    # shared by every app (this module)
    DOMAIN_ERROR = "domain_error"
    INVALID_STATE = "invalid_state"
    INVALID_INPUT = "invalid_input"
    REASON_REQUIRED = "reason_required"
    UNSAFE_TEXT = "unsafe_text"
    # accounts
    ALREADY_CERTIFIED = "already_certified"
    CERTIFICATION_PENDING = "certification_pending"
    ACCOUNT_NOT_FOUND = "account_not_found"
    IMPORT_HEADER_INVALID = "import_header_invalid"
    IMPORT_ROWS_INVALID = "import_rows_invalid"
    INVALID_MENU = "invalid_menu"
    TIME_IN_FUTURE = "time_in_future"
    FOLLOWER_NOT_FOUND = "follower_not_found"
    # accounts: the platform events intake (POST /internal/v1/follower-events)
    SIGNATURE_INVALID = "signature_invalid"
    BATCH_TOO_LARGE = "batch_too_large"
    BODY_TOO_LARGE = "body_too_large"
    INTAKE_DISABLED = "intake_disabled"
    # broadcasts
    BROADCAST_ERROR = "broadcast_error"
    QUOTA_EXCEEDED = "quota_exceeded"
    NO_QUOTA_POLICY = "no_quota_policy"
    CERTIFICATION_REQUIRED = "certification_required"
    ACCOUNT_SUSPENDED = "account_suspended"
    FOUR_EYES = "four_eyes"
    CONTENT_BLOCKED = "content_blocked"
    INVALID_AUDIENCE = "invalid_audience"
    INVALID_CONTENT = "invalid_content"
    SEND_TIME_PAST = "send_time_past"
    NOT_AUTHOR = "not_author"
    EDIT_CONFLICT = "edit_conflict"
    # the advanced mass interface (API): credentials (accounts)
    INVALID_CREDENTIAL = "invalid_credential"
    INVALID_APP_ID = "invalid_app_id"
    INVALID_GRANT_TYPE = "invalid_grant_type"
    ACCESS_TOKEN_MISSING = "access_token_missing"
    ACCESS_TOKEN_EXPIRED = "access_token_expired"
    API_SUSPENDED = "api_suspended"
    # the advanced mass interface (API): sends (broadcasts)
    DUPLICATE_CLIENT_MSG_ID = "duplicate_client_msg_id"
    CLIENT_MSG_ID_TOO_LONG = "client_msg_id_too_long"
    BROADCAST_NOT_FOUND = "broadcast_not_found"
    TAG_NOT_FOUND = "tag_not_found"
    INVALID_MESSAGE_TYPE = "invalid_message_type"
    INVALID_MEDIA_ID = "invalid_media_id"
    PREVIEW_TARGET_UNSUPPORTED = "preview_target_unsupported"
    # the advanced mass interface (API): the request itself (api)
    INVALID_REQUEST = "invalid_request"
    REQUIRES_GET = "requires_get"
    REQUIRES_POST = "requires_post"
    RATE_LIMITED_MINUTE = "rate_limited_minute"
    RATE_LIMITED_DAY = "rate_limited_day"


# code -> the one class that claims it (filled as classes are defined).
REGISTRY: dict[str, type[DomainError]] = {}


class DomainError(Exception):
    """A refused action: `code` (an ErrorCode) never changes; `message` is for people.

    `context` carries machine-readable details (`field` names the form field at fault).
    """

    code = ErrorCode.DOMAIN_ERROR

    def __init__(self, message: str, **context):
        super().__init__(message)
        self.message = message
        self.context = context

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        code = cls.__dict__.get("code")
        if code is None:
            raise TypeError(f"{cls.__module__}.{cls.__qualname__} must set its own `code` (an ErrorCode member).")
        if code not in ErrorCode._value2member_map_:
            raise TypeError(f"{cls.__qualname__}.code {code!r} is not registered in operator_console.errors.ErrorCode.")
        other = REGISTRY.get(code)
        if other is not None and other.__qualname__ != cls.__qualname__:
            raise TypeError(f"{cls.__qualname__} claims code {code!r}, already claimed by {other.__qualname__}.")
        REGISTRY[code] = cls


REGISTRY[ErrorCode.DOMAIN_ERROR] = DomainError


class InvalidState(DomainError):
    """The object is not in a state that allows the action (see the app's transition table)."""

    code = ErrorCode.INVALID_STATE


class InvalidInput(DomainError):
    code = ErrorCode.INVALID_INPUT


class ReasonRequired(DomainError):
    code = ErrorCode.REASON_REQUIRED


class UnsafeText(DomainError):
    """Text refused by the hygiene rule (operator_console.text): controls, escape sequences,
    bidi overrides, or nothing visible. `context["field"]` names the field when there is one."""

    code = ErrorCode.UNSAFE_TEXT
